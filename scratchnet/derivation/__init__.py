"""The derivation of backpropagation, and a checker for a learner's own gradient formula.

* `derive` — every forward and backward equation of a network, with the shape of each factor, for one
  example and a batch, each backward equation verified against finite differences (`render` prints it
  as text, markdown or LaTeX);
* `check` — parse a formula such as ``[1 H1]^T (yhat - y) W3^T H2(1-H2)`` (plain or LaTeX), work out
  the shape of every subexpression and compare its value with the true gradient — or, with
  ``factor="dz3/dH2"``, with one Jacobian factor of the learner's chain — with computed diagnoses;
* `chain` — the learner's chain ``∂L/∂ŷ · ∂ŷ/∂z3 · ∂z3/∂H2 · ∂H2/∂z2 · ∂z2/∂W2`` factor by factor,
  shown to equal the δ form.

Files: `formula` (tokenizer, parser, limits), `latex` (LaTeX input), `notation` (writing a tree back
out), `bindings` (a random point and the names bound to it, in either bias notation), `evaluate`
(values and shapes), `truth` (the true gradients), `jacobians` (the true factors), `verify` (finite
differences of the loss, through `scratchnet.finite_differences`), `equations` (the backward equations
as formulas), `repairs` (the repair search and its diagnosis codes), `hints` (each code's hint, as data),
`check` (the verdict and its diagnoses), `check_text` (a check's text rows and JSON), `derive`, `chain`,
`render` (text, markdown, LaTeX) and `html` (notebooks).
"""

from .chain import ChainView, chain
from .check import CheckResult, check
from .derive import Derivation, derive
from .formula import FormulaError, parse
from .render import derivation_latex, derivation_markdown, derivation_text

__all__ = ["check", "CheckResult", "chain", "ChainView", "derive", "Derivation", "FormulaError", "parse",
           "derivation_text", "derivation_markdown", "derivation_latex"]
