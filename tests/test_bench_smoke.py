"""CI's smoke run of the benchmark harness at N=1,000: it must run end to end and
produce a well-formed table with figures. Whether targets pass is for humans
reading bench/RESULTS.md; speed is never asserted here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from support import ROOT

N = 1000
#: Rows that every run must fill with a number, whatever else has landed.
ALWAYS_MEASURED = (
    "records (dumps)", "full build: `kexue-archive build` (median)", "peak RSS (largest process)",
    "no-op rebuild", "+20-article rebuild (one new dump)", "stage: parse+merge", "stage: index", "stage: math",
    "stage: render", "indexing rate", "FTS5 (trigram) indexing",
    "of which start-up and imports (`python -c 'import …'` beside each, median)",
    "size: archive (records, ledgers, report)",
)


def test_harness_at_1000_writes_a_table_with_figures(tmp_path: Path) -> None:
    out, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    out.write_text("# Benchmark results\n\nnotes kept across runs\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--sizes", str(N), "--repeat", "1", "--out", str(out), "--json", str(raw),
         "--work", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "notes kept across runs" in text  # only the marked block is rewritten
    rows = {cells[0]: cells[1:] for cells in _table(text)}
    assert rows["measure"] == ["N=1,000"]
    for label in ALWAYS_MEASURED:
        assert re.match(r"^[\d,.]+ ?(s|MB|MiB)?\b", rows[label][0]), (label, rows[label])
    assert rows["records (dumps)"][0].startswith("1,000 (")
    hugo = rows["Hugo full build"][0]
    assert re.match(r"^[\d.]+ s$", hugo) or "Hugo not installed" in text, hugo
    verdicts = re.findall(r"^\| (.+?) \| \*\*(PASS|FAIL|n/a)\*\* \| (.*) \|$", text, re.MULTILINE)
    assert len(verdicts) >= 9 and any(v[1] != "n/a" for v in verdicts)
    figures = json.loads(raw.read_text(encoding="utf-8"))
    assert figures[0]["n"] == N and figures[0]["records"] == N
    assert figures[0]["noop_s"] > 0 and figures[0]["full_s"] > 0
    assert "targets:" in done.stdout  # the console table is printed too


def _table(text: str) -> list[list[str]]:
    """Rows of the first Markdown table (the measures), cells stripped."""
    lines = text.split("<!-- bench:begin", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| measure"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        if not line.startswith("|---"):
            rows.append([c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip("|"))])
    return rows
