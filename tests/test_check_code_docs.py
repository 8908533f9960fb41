"""docs/check-code.md shows what `scratchnet check-code` prints; every ``$ scratchnet …`` block of it is
run here and each line the page shows must be printed, in the page's order (the page leaves hints out)."""

import re
import shlex
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "check-code.md").read_text()
BLOCKS = re.findall(r"```\n\$ scratchnet ([^\n]+)\n(.*?)```", PAGE, re.S)


def test_the_page_shows_runs():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("command, shown", BLOCKS, ids=[c for c, _ in BLOCKS])
def test_every_run_on_the_page_prints_what_the_page_shows(command, shown):
    result = run_cli(*shlex.split(command), cwd=ROOT)
    printed = [line.rstrip() for line in result.stdout.splitlines()]
    at = 0
    for line in (line.rstrip() for line in shown.splitlines() if line.strip()):
        assert line in printed[at:], f"the page shows {line!r}, which `scratchnet {command}` no longer prints"
        at = printed.index(line, at) + 1
