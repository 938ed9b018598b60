"""Shared fixtures: the project's real seeds, built once into a temporary archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SEEDS


@pytest.fixture(scope="session")
def seeds_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive built from the real seeds, shared read-only by many tests."""
    from kexue_archive.build import build

    root = tmp_path_factory.mktemp("seeds-archive") / "archive"
    build(SEEDS, root)
    return root
