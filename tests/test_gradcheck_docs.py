"""docs/gradcheck.md's planted-bug example is run as the page writes it: its Python blocks, then the
check of ``bad``; every table row the page shows must be what `gradient_check` prints."""

import re
from pathlib import Path

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "gradcheck.md").read_text()


def test_the_planted_bug_table_is_what_the_pages_code_prints():
    blocks = re.findall(r"```python\n(.*?)```", PAGE, re.S)
    setup = next(b for b in blocks if "rng = np.random.default_rng(0)" in b).replace("print(report)", "")
    planted = next(b for b in blocks if "class ForgetsSigmaPrime" in b)
    bad = re.search(r"`(bad = ForgetsSigmaPrime\(.*?\))`", PAGE, re.S).group(1).replace("\n", " ")
    shown = re.search(r"print\(sn\.gradient_check\(bad, X, y, rng=rng\)\)`.*?```\n(.*?)```", PAGE, re.S).group(1)
    space = {}
    exec(setup + planted + bad, space)                               # noqa: S102 - the page's own code
    printed = str(space["sn"].gradient_check(space["bad"], space["X"], space["y"], rng=space["rng"]))
    rows = [line for line in shown.splitlines() if re.match(r"W\d ", line)]
    assert len(rows) == 3 and "FAIL" in rows[0] and "FAIL" in rows[1] and rows[2].endswith("pass")
    for row in rows:
        assert row in printed.splitlines(), f"the page shows {row!r}; the code prints:\n{printed}"
