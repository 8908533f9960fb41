"""The derivation of backpropagation, and a checker for a learner's own gradient formula.

* `derive` — every forward and backward equation of a network, with the shape of each factor, for one
  example and a batch, each backward equation verified against finite differences (`render` prints it
  as text, markdown or LaTeX);
* `check` — parse a formula such as ``[1 H1]^T (yhat - y) W3^T H2(1-H2)``, work out the shape of every
  subexpression and compare its value with the true gradient, with computed diagnoses.

Files: `formula` (tokenizer and parser), `notation` (writing a tree back out), `bindings` (a random
point and the names bound to it), `evaluate` (values and shapes), `truth` (the true gradients),
`finite_differences`, `equations` (the backward equations as formulas), `repairs` (diagnoses),
`check`, `derive`, `render`.
"""

from .check import CheckResult, check
from .derive import Derivation, derive
from .formula import FormulaError, parse
from .render import render_latex, render_markdown, render_text

__all__ = ["check", "CheckResult", "derive", "Derivation", "FormulaError", "parse", "render_text",
           "render_markdown", "render_latex"]
