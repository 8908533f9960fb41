"""The quantity type: every spelling of a name parses to one value, its spellings parse back to it, layers
are bounded by the network, and near misses get a suggestion."""

import pytest

from scratchnet.errors import ScratchnetError
from scratchnet.quantity import (Derivative, Quantity, gradient_targets, lookup, names_for, parse, quantity,
                                 suggest, wrt)

SPELLINGS = {
    Quantity("W", 2): ["W2", "W_2", "W_{2}", "W₂", "W^{(2)}", "W^{[2]}", r"\mathbf{W}_2", r"\boldsymbol{W}_{2}",
                       r"{\rm W}_2", r"\mathrm{W}_2", "$W_2$"],
    Quantity("b", 2): ["b2", "b_2", "b^{[2]}", r"\mathbf{b}^{(2)}"],
    Quantity("z", 3): ["z3", "z_3", "z₃", "z^{[3]}"],
    Quantity("H", 1): ["H1", "H_1", "a1", "a^{[1]}", "a_1"],
    Quantity("H", 0): ["x", "H0", "H_0", "a^{[0]}"],
    Quantity("yhat"): ["yhat", "ŷ", "y_hat", r"\hat{y}", r"\hat y", r"\widehat{y}"],
    Quantity("delta", 2): ["delta2", "δ2", "δ_2", "δ₂", r"\delta_2", r"\delta^{(2)}", r"\boldsymbol{\delta}_2"],
    Quantity("Wbar", 3): ["Wbar3", "W̄3", r"\bar{W}_3", r"\overline{W_3}"],
    Quantity("y"): ["y"],
}

DERIVATIVES = {
    Derivative(Quantity("L"), Quantity("W", 2)): ["dL/dW2", "∂L/∂W2", "∂L/∂W_2", "d L / d W_2",
                                                  r"\frac{\partial L}{\partial W_2}",
                                                  r"\frac{\partial J}{\partial W^{[2]}}",
                                                  r"\dfrac{\partial C}{\partial \mathbf{W}_2}",
                                                  r"\frac{\partial E}{\partial {W_{2}}}", "$∂L/∂W₂$"],
    Derivative(Quantity("L"), Quantity("z", 3)): ["dL/dz3", "∂L/∂z3", "∂L/∂z_{3}"],
    Derivative(Quantity("z", 3), Quantity("H", 2)): ["dz3/dH2", r"\frac{\partial z_3}{\partial H_2}"],
    Derivative(Quantity("yhat"), Quantity("z", 3)): ["dyhat/dz3", r"\frac{\partial \hat{y}}{\partial z_3}"],
}


@pytest.mark.parametrize("q, texts", list(SPELLINGS.items()) + list(DERIVATIVES.items()),
                         ids=lambda v: str(v) if not isinstance(v, list) else "")
def test_every_spelling_parses_to_one_value(q, texts):
    for text in texts:
        assert parse(text) == q, text


@pytest.mark.parametrize("q", list(SPELLINGS) + list(DERIVATIVES), ids=str)
def test_each_of_its_own_spellings_parses_back(q):
    for style in ("formula", "unicode", "latex"):
        assert parse(q.text(style)) == q, (style, q.text(style))
    assert parse(q.name) == q
    assert q.to_json()["name"] == q.name


def test_spellings_say_the_seed_notation():
    assert [Quantity("W", 2).text(s) for s in ("formula", "unicode", "latex")] == ["W2", "W₂", "W_{2}"]
    assert [Quantity("H", 0).text(s) for s in ("formula", "unicode", "latex")] == ["x", "x", "x"]
    assert Quantity("H", 0).name == "H0"
    assert Quantity("delta", 2).text("unicode") == "δ₂" and Quantity("delta", 2).text("latex") == r"\delta_{2}"
    d = parse("dL/dW2")
    assert d.symbol() == "∂L/∂W2" and d.text("unicode") == "∂L/∂W₂"
    assert d.text("latex") == r"\frac{\partial L}{\partial W_{2}}" and d.is_gradient
    assert not parse("dz3/dH2").is_gradient
    assert (parse("z_3").kind, parse("z_3").layer) == ("z", 3)


def test_a_power_is_not_a_layer_and_junk_is_no_name():
    for text in ["W^2", "W2x", "foo", "", "ones", "B", "W", "dL/dfoo"]:
        with pytest.raises(ScratchnetError) as info:
            parse(text, field="wrt")
        assert info.value.field == "wrt" and "\n" not in str(info.value)
    assert lookup("ones") is None and lookup("B") is None and lookup("W3") == Quantity("W", 3)


@pytest.mark.parametrize("typed, meant", [("w2", "W2"), ("yaht", "yhat"), ("Z3", "z3"), ("h1", "H1"),
                                          ("deltta2", "delta2"), ("yht", "yhat")])
def test_near_misses_are_suggested(typed, meant):
    assert suggest(typed) == meant
    with pytest.raises(ScratchnetError, match=f"did you mean {meant}"):
        parse(typed)


def test_layers_are_bounded_by_the_network():
    L = 3
    for ok in ["W1", "W3", "z1", "z3", "H0", "H2", "x", "delta3"]:
        assert quantity(ok, L) == parse(ok)
    for bad, words in [("W4", "W1…W3"), ("W0", "W1…W3"), ("z0", "z1…z3"), ("H3", "output of this network is yhat"),
                       ("H5", "H0 \\(x\\) … H2"), ("delta4", "delta1…delta3")]:
        with pytest.raises(ScratchnetError, match=words) as info:
            quantity(bad, L, field="wrt")
        assert info.value.field == "wrt"


def test_a_bias_only_in_the_separate_notation():
    with pytest.raises(ScratchnetError, match="separate-bias notation"):
        quantity("b2", 3)
    assert quantity("b2", 3, bias="separate") == Quantity("b", 2)
    with pytest.raises(ScratchnetError, match="b1…b3"):
        quantity("b4", 3, bias="separate")


def test_wrt_takes_a_gradient_target_or_its_derivative():
    assert wrt("W_2", 3) == Quantity("W", 2) and wrt("dL/dW2", 3) == Quantity("W", 2)
    assert wrt(r"\frac{\partial L}{\partial z_3}", 3) == Quantity("z", 3) and wrt("x", 3) == Quantity("H", 0)
    for bad, words in [("yhat", "softmax input is the one with respect to z3"), ("dz3/dH2", "not a gradient"),
                       ("W9", "W1…W3"), ("b1", "separate-bias"), ("y", "this network has")]:
        with pytest.raises(ScratchnetError, match=words) as info:
            wrt(bad, 3)
        assert info.value.field == "wrt"


def test_names_for_a_network_lists_each_name_once_with_its_spellings():
    names = [q.name for q in names_for(3)]
    assert names == ["H0", "H1", "H2", "z1", "z2", "z3", "W1", "W2", "W3", "yhat", "y", "delta1", "delta2", "delta3"]
    assert "b2" in [q.name for q in names_for(3, "separate")]
    j = names_for(3)[0].to_json()
    assert j == {"name": "H0", "kind": "H", "layer": 0, "formula": "x", "unicode": "x", "latex": "x"}
    assert [q.name for q in gradient_targets(2, "separate")] == ["W1", "W2", "b1", "b2", "z1", "z2", "H0", "H1"]
    for q in names_for(4, "separate"):
        assert q.validate(4, "separate") is q


def test_quantities_are_immutable_values():
    q = Quantity("W", 2)
    with pytest.raises(AttributeError):
        q.layer = 3
    assert {parse("W_2"), parse("W2")} == {q}
