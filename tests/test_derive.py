"""`scratchnet derive`: shapes of every gradient, each backward equation verified, three renderings."""

import importlib

import pytest

from scratchnet.cli import main
from scratchnet.derivation.derive import derive
from scratchnet.derivation.render import derivation_latex, derivation_markdown, derivation_text

derive_module = importlib.import_module("scratchnet.derivation.derive")   # the module, not the function


@pytest.fixture(scope="module")
def seed_row():
    return derive(batch=4, seed=0)


def test_the_seed_networks_gradients_have_the_weights_shapes_and_are_verified(seed_row):
    d = seed_row
    for name, shape in (("dW1", (785, 100)), ("dW2", (101, 10)), ("dW3", (11, 10))):
        step = d.step(name)
        assert step.shape_one == shape and step.shape_batch == shape
        assert step.verified and step.check_one["max_rel_error"] < 1e-6 and step.check_batch["max_rel_error"] < 1e-6
        assert step.check_one["checked"] >= min(400, step.check_one["total"])
    assert d.step("delta2").shape_one == (1, 10) and d.step("delta2").shape_batch == (d.symbolic_batch, 10)
    assert d.verified and all(s.check_batch is not None for s in d.steps if s.kind == "backward")


def test_the_text_shows_shapes_checks_and_the_three_facts(seed_row):
    text = derivation_text(seed_row)
    for shape in ("785×100", "101×10", "11×10"):
        assert f"∈ {shape} | {shape}" in text
    assert "[1 H₁]ᵀ [101×1] · δ₂ [1×10] → 101×10" in text          # one example: an outer product
    assert "[1 H₁]ᵀ [101×B] · δ₂ [B×10] → 101×10" in text          # a batch: B outer products added
    assert "δ₃ = ∂L/∂z₃ = (ŷ − y)/B" in text and "1/B" in text
    assert "(δ₃ W̄₃ᵀ) ⊙ σ′(z₂)" in text
    assert "diagonal" in text and "third-order tensor" in text and "dropped on the way back" in text
    assert text.count("✓") == 8 and "✗" not in text and text.rstrip().endswith("verified.")
    # each fact appears once, next to the step where it arises
    lines = text.splitlines()
    where = {fact: next(i for i, line in enumerate(lines) if fact in line)
             for fact in ("third-order tensor", "dropped on the way back", "diagonal")}
    assert lines[where["third-order tensor"] - 4].lstrip().startswith("∂L/∂W₃")
    assert lines[where["dropped on the way back"] - 4].lstrip().startswith("∂L/∂H₂")
    assert lines[where["diagonal"] - 4].lstrip().startswith("δ₂")


def test_column_convention_transposes_everything():
    d = derive(convention="column", batch=3, seed=1)
    assert d.step("dW1").shape_one == (100, 785) and d.step("dW3").shape_batch == (10, 11)
    assert d.step("dW2").formula == "delta2 [1; H1]^T"
    assert d.step("dH1").formula == "W2[:, 1:]^T delta2"
    assert d.verified
    assert "W̄₂ᵀ [100×10] · δ₂ [10×B] → 100×B" in derivation_text(d)


def test_other_networks_verify():
    d = derive((9, 7, 6, 5, 4), ("tanh", "relu", "sigmoid", "softmax"), batch=2, seed=3)
    assert d.verified and [d.step(f"dW{l}").shape_one for l in (1, 2, 3, 4)] == [(10, 7), (8, 6), (7, 5), (6, 4)]
    assert "tanh'(z1)" in d.step("delta1").formula and "relu'(z2)" in d.step("delta2").formula


def test_a_planted_bug_in_an_equation_fails_its_check(monkeypatch):
    original = derive_module.steps_for

    def without_sigma_prime(activations, convention, bias="row"):        # the seed's missing ⊙ σ'(z2)
        steps = original(activations, convention, bias)
        for s in steps:
            if s.name == "delta2":
                s.formula = "delta3 W3[1:]^T"
        return steps

    monkeypatch.setattr(derive_module, "steps_for", without_sigma_prime)
    d = derive_module.derive((7, 5, 4, 6), ("sigmoid", "sigmoid", "softmax"), batch=2)
    assert not d.verified
    assert not d.step("delta2").verified and d.step("delta3").verified and d.step("dW3").verified
    assert "FAILED" in derivation_text(d)


def test_markdown_and_latex(seed_row):
    md = derivation_markdown(seed_row)
    assert r"\frac{\partial L}{\partial W_{2}} = [1\ H_{1}]^\top\, \delta_{2} \in \mathbb{R}^{101 \times 10}" in md
    assert md.count("$$") % 2 == 0 and r"\odot" in md and "third-order tensor" in md
    tex = derivation_latex(seed_row)
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert tex.count("$") % 2 == 0 and r"\[" in tex
    assert r"\bar{W}_{3}^\top" in tex and tex.count("{") == tex.count("}")


def test_the_derivation_is_reproducible_from_the_seed():
    a, b = derive((5, 4, 3), ("sigmoid", "softmax"), batch=2, seed=7), derive((5, 4, 3), ("sigmoid", "softmax"), batch=2, seed=7)
    assert derivation_text(a) == derivation_text(b)


def test_cli_derive(capsys):
    with pytest.raises(SystemExit) as info:
        main(["derive", "--layers", "6,5,4", "--activations", "tanh,softmax", "--format", "markdown", "--batch", "3"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and r"\frac{\partial L}{\partial W_{1}}" in out and "B = 3" in out
    with pytest.raises(SystemExit) as info:
        main(["derive", "--convention", "column"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "∂L/∂W₂ = δ₂ [1; H₁]ᵀ    ∈ 10×101 | 10×101" in out


def test_public_step_latex_and_facts_for_the_lab(seed_row):
    from scratchnet.derivation.render import facts, step_latex
    assert step_latex(seed_row.step("dW2")) == r"\frac{\partial L}{\partial W_{2}} = [1\ H_{1}]^\top\, \delta_{2}"
    row, separate = facts("row"), facts("column", "separate")
    assert {"softmax", "batch", "outer", "textbook", "bias", "hadamard", "bias_sum"} <= set(row)
    text = derivation_text(seed_row)                  # the seed's notation names the textbook's two parts
    assert text.count("In the textbook notation z = H W + b") == 1 and "sum(δ_l) = 1ᵀ δ_l" in text
    assert "third-order tensor" in row["outer"][0] and r"\delta_l H_{l-1}^\top" in separate["outer"][1]


@pytest.mark.parametrize("convention, bias, entry, batch", [
    ("row", "row", "∂z_k/∂W_ij = [1 H]_i·[j = k]", "[1 H]ᵀ is (n+1)×B"),
    ("column", "row", "∂z_k/∂W_ij = [i = k]·[1; H]_j", "[1; H]ᵀ is B×(n+1)"),
    ("row", "separate", "∂z_k/∂W_ij = H_i·[j = k]", "Hᵀ is n×B"),
    ("column", "separate", "∂z_k/∂W_ij = [i = k]·H_j", "Hᵀ is B×n"),
])
def test_the_outer_product_note_uses_each_conventions_indices(convention, bias, entry, batch):
    from scratchnet.derivation.render import facts
    note = facts(convention, bias)["outer"][0]
    assert entry in note and batch in note
    if bias == "separate":
        assert "[1" not in note


def test_derivation_and_chain_print_as_text_with_short_reprs():
    import scratchnet as sn
    d = sn.derive()
    assert str(d) == derivation_text(d)
    assert repr(d).startswith("Derivation(784 → 100 σ → 10 σ → 10 softmax") and len(repr(d)) < 200
    view = sn.chain("W2")
    assert str(view) == view.text() and "agrees=True" in repr(view) and len(repr(view)) < 200
