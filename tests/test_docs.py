"""The README tells the truth: CI runs its test command, and it documents every command."""

from __future__ import annotations

import argparse
import re

import pytest
from support import ROOT

from kexue_archive.cli import parser

README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)


def test_readme_starts_with_the_two_setup_commands() -> None:
    first, second = shell_blocks()[:2]
    assert first == "pip install -e . && npm ci && python build_site.py"
    assert second.endswith("python -m pytest -n 2") and "pip install -e \".[test]\"" in second


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in ci if line and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert commands == [shell_blocks()[1]]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_and_option_is_documented(name: str) -> None:
    assert f"kexue-archive {name}" in README
    for action in _subcommands()[name]._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert flag in README, f"{name} {flag}"
