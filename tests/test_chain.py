"""`derive --chain W_l`: the learner's chain, factor by factor, equals the δ form."""

import importlib

import numpy as np
import pytest

from scratchnet.cli import main
from scratchnet.derivation.chain import chain
from scratchnet.errors import ScratchnetError

chain_module = importlib.import_module("scratchnet.derivation.chain")
SMALL, SIG = (7, 5, 4, 6), ("sigmoid", "sigmoid", "softmax")


def test_the_seeds_chain_for_W2_agrees_with_the_delta_form():
    v = chain("W2")
    assert [f.symbol("formula") for f in v.factors] == ["∂L/∂yhat", "∂yhat/∂z3", "∂z3/∂H2", "∂H2/∂z2", "∂z2/∂W2"]
    assert [f.shape for f in v.factors] == [(1, 10), (10, 10), (10, 10), (10, 10), (10, 101, 10)]
    assert [f.formula for f in v.factors[:4]] == ["-y / yhat", "diag(yhat) - yhat^T yhat", "W3[1:]^T",
                                                  "diag(sigma'(z2))"]
    assert all(f.fd_error < 1e-7 for f in v.factors)          # each Jacobian, by finite differences
    assert v.delta.shape == (1, 10) and v.chain_gradient.shape == (101, 10)
    assert v.delta_form == "[1 H1]^T delta2"
    assert v.difference_delta_form < 1e-15 and v.difference_backward < 1e-15 and v.agrees
    text = v.text()
    assert "∂L/∂W₂ = ∂L/∂ŷ · ∂ŷ/∂z₃ · ∂z₃/∂H₂ · ∂H₂/∂z₂ · ∂z₂/∂W₂" in text
    assert "10×101×10" in text and "[1 H₁]_i δ_j" in text and "The chain and the δ form agree." in text


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("bias, wrt", [("row", "W1"), ("row", "W3"), ("separate", "W2"), ("separate", "b1")])
def test_other_chains_agree(convention, bias, wrt):
    v = chain(wrt, SMALL, ("tanh", "relu", "softmax"), convention=convention, bias=bias, seed=2)
    assert v.agrees, (v.difference_delta_form, v.difference_backward)
    assert len(v.factors) == 2 + 2 * (3 - int(wrt[1])) + 1
    assert v.chain_gradient.shape == v.delta_form_value.shape


def test_a_wrong_factor_makes_the_chain_disagree(monkeypatch):
    original = chain_module.true_factor

    def without_bias_row_drop(point, factor):                 # the seed's W3ᵀ with its bias row ... cut back
        truth = original(point, factor)
        if factor.numerator == "H2":
            truth.value = truth.value * 1.01                    # a σ' off by 1 %
        return truth

    monkeypatch.setattr(chain_module, "true_factor", without_bias_row_drop)
    v = chain("W2", SMALL, SIG)
    assert not v.agrees and v.factors[3].fd_error > 1e-4
    assert "DISAGREE" in v.text()


def test_bad_chain_targets():
    with pytest.raises(ScratchnetError, match="W1…W3"):
        chain("z2", SMALL, SIG)
    with pytest.raises(ScratchnetError, match="b1…b3"):
        chain("W4", SMALL, SIG, bias="separate")


def test_cli_derive_chain(capsys):
    with pytest.raises(SystemExit) as info:
        main(["derive", "--chain", "W2", "--layers", "7,5,4,6"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "The chain and the δ form agree." in out and "∂z₂/∂W₂" in out
    with pytest.raises(SystemExit) as info:
        main(["derive", "--chain", "W9"])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and "--chain" in err and "takes a weight matrix" in err and "Traceback" not in err
    assert np.isfinite(chain("W1", (3, 2, 2), ("sigmoid", "softmax")).difference_backward)


def test_the_column_convention_chain_is_written_in_its_own_shapes_and_order():
    text = chain("W2", SMALL, SIG, convention="column").text()
    assert "δ₂ = (∂H₂/∂z₂)ᵀ (∂z₃/∂H₂)ᵀ (∂ŷ/∂z₃)ᵀ ∂L/∂ŷ" in text and "right to left" in text
    assert "−y/ŷ    6×1" in text and "a column (per example)" in text and "= δ₂ = ∂L/∂z₂, 4×1" in text
    assert "[i = k] [1; H₁]_j" in text and "δ [1; H₁]ᵀ" in text and "column 0" in text
    assert "4×4×6" in text and "(∂ŷ/∂z)ᵀ ∂L/∂ŷ = ŷ − y" in text and "[1 H₁]" not in text
