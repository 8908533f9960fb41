"""Fuzzing the formula language (issue 11): any text either parses (and is checked) or raises the
project's own error with a one-line message, within a time and memory budget — never a traceback.

A short run is part of the suite. A longer one:

    SCRATCHNET_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_formula.py -q
"""


import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchnet.derivation.check import check
from scratchnet.derivation.formula import MAX_DEPTH, MAX_LENGTH, MAX_NESTING, FormulaError, parse
from scratchnet.derivation.latex import parse_any
from scratchnet.errors import ScratchnetError

from conftest import fuzz_settings, works_or_one_line_error

SMALL, SIG = (7, 5, 4, 6), ("sigmoid", "sigmoid", "softmax")
PARSE_BUDGET_S = 1.0            # CPU seconds
CHECK_BUDGET_S = 5.0            # CPU seconds; the repair search stops itself at 2 s
MEMORY_BUDGET = 64 * 1024 ** 2

TOKENS = ["x", "H1", "H2", "z1", "z2", "z3", "W1", "W2", "W3", "W3[1:]", "W2[:, 1:]", "yhat", "ŷ", "y", "B",
          "ones", "b2", "0", "1", "2.5", "(", ")", "[", "]", ";", ",", ":", " ", " ", "+", "-", "−", "*", "⊙",
          ".*", "@", "/", "^T", "ᵀ", ".T", "^2", "'", "sigma(", "sigma'(", "tanh'(", "f'(", "softmax(",
          "diag(", "sum(", "\\hat{y}", "_{", "}", "\\odot", "\\frac{", "\\left(", "\\right)", "\\sigma'",
          "$", "\\", "δ2", "delta2", "\\rm{", "\\mathbf{", "^{(2)}", "^{[1]}", "^\\top", "b1", "b2", "[1; H1]",
          "W3[:, 1:]", "x ", "\\frac{\\partial J}{\\partial W^{(2)}} = "]
formulas = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=40).map("".join)
any_text = st.one_of(formulas, st.text(max_size=200),
                     st.text(alphabet="()[]+-*^T/ xHWz123;:,.'", max_size=400))


def one_line_error(error):
    """The message a user sees first is one line, and it is the project's own error."""
    assert isinstance(error, ScratchnetError)
    message = error.message if isinstance(error, FormulaError) else str(error)
    assert message and "\n" not in message and "Traceback" not in message
    if isinstance(error, FormulaError):
        lines = str(error).splitlines()
        assert len(lines) == 3 and lines[0].startswith(message)           # message, formula, carets
        assert lines[2].strip(" ^") == "" and "^" in lines[2]


@fuzz_settings(300)
@given(text=any_text)
def test_any_text_parses_or_is_one_line_error(text):
    out = works_or_one_line_error(lambda: parse_any(text), PARSE_BUDGET_S, MEMORY_BUDGET)
    if isinstance(out, ScratchnetError):
        one_line_error(out)


@fuzz_settings(60)
@given(formula=formulas, factor=st.sampled_from([None, None, "dz3/dH2", "dH2/dz2", "dz2/dW2", "dz2/db2"]),
       batch=st.sampled_from([1, 2, 3]), convention=st.sampled_from(["row", "column"]),
       bias=st.sampled_from(["row", "separate"]), wrt=st.sampled_from(["W2", "W1", "H1", "z2", "b2"]))
def test_any_formula_is_checked_or_is_one_line_error(formula, factor, batch, convention, bias, wrt):
    """Across every option (issue 20): --batch, --convention column, --bias separate, --factor, LaTeX."""
    out = works_or_one_line_error(
        lambda: check(formula, wrt, SMALL, SIG, convention=convention, batch=batch if factor is None else 1,
                      factor=factor, bias=bias),
        CHECK_BUDGET_S, MEMORY_BUDGET)
    if isinstance(out, ScratchnetError):
        one_line_error(out)
    else:
        assert out.verdict in ("correct", "shape_error", "wrong_value")
        assert "\n" not in out.message


OPERANDS = ["x", "[1 x]", "[1; x]", "H1", "[1 H1]", "H2", "W1", "W2", "W3", "W3[1:]", "W3[:, 1:]", "(yhat - y)",
            "(y - yhat)", "delta2", "δ3", "sigma'(z1)", "f'(z2)", "tanh'(z1)", "H2(1-H2)", "z2(1-z2)", "diag(H1)",
            "sum(delta2)", "b2", "B", "2", "ones"]
factors = st.tuples(st.sampled_from(OPERANDS), st.sampled_from(["", "", "^T", "'", "^T^T"])).map("".join)
chains = st.lists(st.tuples(factors, st.sampled_from([" ", " ", " * ", " @ ", " / ", " + ", " - ", " x "])),
                  min_size=1, max_size=7).map(lambda fs: "".join(f + op for f, op in fs[:-1]) + fs[-1][0])


@fuzz_settings(25)                 # about a second an example: the repair search runs on most of them
@given(formula=chains, batch=st.sampled_from([1, 2, 4]), convention=st.sampled_from(["row", "column"]),
       bias=st.sampled_from(["row", "separate"]), wrt=st.sampled_from(["W1", "W2", "W3", "b2", "H1", "z2"]),
       minus=st.booleans(), over_b=st.booleans())
def test_chains_of_the_networks_own_factors_get_a_verdict_or_one_line(formula, batch, convention, bias, wrt, minus,
                                                                      over_b):
    """Well-formed chains like the learners' (``x^T delta2 W2^T f'(z1)`` with --batch 2 once ended in an
    AttributeError): one verdict, or one error line, in every convention and bias notation."""
    formula = ("-" if minus else "") + (f"({formula}) / B" if over_b else formula)
    out = works_or_one_line_error(lambda: check(formula, wrt, SMALL, SIG, convention=convention, batch=batch,
                                                bias=bias), CHECK_BUDGET_S, MEMORY_BUDGET)
    if isinstance(out, ScratchnetError):
        one_line_error(out)
    else:
        assert out.verdict in ("correct", "shape_error", "wrong_value")
        assert "\n" not in out.message and (out.verdict == "correct" or out.derivation)


HOSTILE = {
    "nested parentheses": "(" * 500 + "x" + ")" * 500,
    "nested brackets": "[" * 300 + "1 x" + "]" * 300,
    "nested calls": "sigma(" * 200 + "z1" + ")" * 200,
    "unary signs": "-" * 1000 + "x",
    "a long chain of +": "H1" + " + H1" * 300,
    "a long chain of ^T": "W3" + "^T" * 900,
    "thousands of characters": "x" * 5000,
    "thousands of characters of sums": "H1" + "+H1" * 1000,
    "a 400-digit number": "9" * 400 + " W2",
    "dividing by zero": "W2 / 0",
    "dividing by a one-hot": "yhat / y",
    "dividing by B - B": "(yhat - y) / (B - B)",
    "an overflowing power": "W1^100000",
    "a huge slice": "W3[99999999999999999999:]",
    "line breaks and tabs": "[1 H1]^T\n\t(yhat - y) $ W3",
    "a long chain of ⊙ (search bounded)": " * ".join(["H2"] * 60),
    "a deep mixed product (search bounded)": "(H1 * " * 45 + "H1" + ")" * 45,
}


@pytest.mark.parametrize("formula", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_formulas_answer_in_bounded_time_and_memory(formula):
    out = works_or_one_line_error(lambda: check(formula, "W2", SMALL, SIG), CHECK_BUDGET_S, MEMORY_BUDGET)
    if isinstance(out, ScratchnetError):
        one_line_error(out)
    else:
        assert out.verdict in ("shape_error", "wrong_value")


@pytest.mark.parametrize("formula, words", [
    ("(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1), f"nested more than {MAX_NESTING}"),
    ("x" + "^T" * (MAX_DEPTH + 5), f"more than {MAX_DEPTH} operations"),
    ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH:,}"),
])
def test_each_limit_is_named_in_the_message(formula, words):
    with pytest.raises(FormulaError, match=words) as info:
        parse(formula)
    one_line_error(info.value)
    assert len(str(info.value).splitlines()[1]) < 100              # a long formula is shown as a window


def test_a_formula_within_the_limits_still_works():
    deep = "(" * (MAX_NESTING - 1) + "(yhat - y)" + ")" * (MAX_NESTING - 1)
    assert check(deep + " / B", "z3", SMALL, SIG, batch=2).verdict == "correct"
    assert check("W3" + "^T^T" * 30 + "^T", factor="dz3/dH2", sizes=SMALL, activations=SIG).diagnoses == ["bias_row"]
