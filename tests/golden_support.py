"""Read a fixture the way a build does and compare it with its golden ledger.

The golden file is the ledger of the fixture (kind, sightings, problems) as
``kexue_archive.archive.to_yaml`` writes it. ``UPDATE_GOLDEN=1`` rewrites it;
review the diff by eye before committing: a golden file must be right, not
merely what the code printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kexue_archive.archive import from_yaml, to_yaml
from kexue_archive.build import read_dump
from kexue_archive.sources import dump_of

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"


def ledger(path: Path) -> dict[str, Any]:
    """What a build would store for this fixture."""
    data = path.read_bytes()
    result: dict[str, Any] = read_dump(path.name, dump_of(path, path.parent, data), data).to_dict()
    return result


def check_golden(path: Path) -> dict[str, Any]:
    """Compare the fixture's ledger with ``tests/golden/<kind dir>/<stem>.yaml``; return the ledger."""
    got = ledger(path)
    golden = GOLDEN / path.parent.name / (path.stem + ".yaml")
    data = to_yaml(got)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(data)
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert from_yaml(golden.read_bytes()) == got
    assert golden.read_bytes() == data
    return got


def excerpt_paragraphs(sighting: dict[str, Any]) -> list[str]:
    text: str = sighting["excerpt"]
    return text.split("\n\n") if text else []
