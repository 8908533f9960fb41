"""`check_code(..., forward=)` and ``check-code --forward``: the learner's ``forward(weights, X) -> [H1, …,
ŷ]`` is compared layer by layer first. A correct forward pass passes in both conventions and bias
notations; a mistake planted in each layer of the seed network is found at that layer (the layers after
it wrong only because of it); the softmax over the batch and the missing bias are named; bad forward
code is one exit-2 message, wrong shapes a shape_error."""

import importlib.util
import json
import os

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.codecheck import LearnerCodeError
from scratchnet.errors import ScratchnetError

from conftest import assert_one_line_error

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "learner_code")


def fixture(name, function="backprop"):
    spec = importlib.util.spec_from_file_location(f"forward_{name[:-3]}", os.path.join(HERE, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)


def _act(name, z, axis):
    if name == "softmax":
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    return {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}[name](z)


def make_forward(convention="row", bias="row", hidden=("sigmoid", "sigmoid"), bug=None, at=None):
    """A learner's forward pass in their own notation, with ``bug`` planted at layer ``at``: ``no_bias``,
    ``softmax_batch`` (over the batch axis), ``no_activation``, ``transposed`` (a square W), ``off``
    (every unit 0.1 % too large: no known mistake)."""
    row = convention == "row"
    classes = 1 if row else 0

    def forward(weights, X):
        L, H, out = len(weights), X, []
        for l, w in enumerate(weights, start=1):
            planted = bug if l == at else None
            if bias == "row":
                W, b = (w[1:], w[0]) if row else (w[:, 1:], w[:, :1])
            elif bias == "separate":
                W, b = w
            else:
                W, b = w, 0.0
            if planted == "transposed":
                W = W.T
            if planted == "no_bias":
                b = 0.0
            z = H @ W + b if row else W @ H + b
            name = "softmax" if l == L else hidden[l - 1]
            if planted == "no_activation":
                H = z
            elif planted == "softmax_batch":
                H = _act(name, z, 1 - classes)
            else:
                H = _act(name, z, classes)
            if planted == "off":
                H = H * 1.001
            out.append(H)
        return out
    return forward


# ---------------------------------------------------------------- a correct forward pass

CORRECT = [
    ("correct_row.py", {}, {}),
    ("correct_column.py", {"convention": "column"}, {"convention": "column"}),
    ("correct_separate_row.py", {"bias": "separate"}, {"bias": "separate"}),
    ("correct_separate_column.py", {"bias": "separate", "convention": "column", "activations": ["tanh", "tanh"]},
     {"bias": "separate", "convention": "column", "hidden": ("tanh", "tanh")}),
]


@pytest.mark.parametrize("name, options, style", CORRECT, ids=[c[0] for c in CORRECT])
def test_a_correct_forward_pass_passes_in_every_notation(name, options, style):
    result = sn.check_code(fixture(name), forward=make_forward(**style), **options)
    assert result.verdict == "correct", str(result)
    assert result.first_wrong_forward_layer is None and not result.forward_wrong
    assert set(result.forward) == {4, 1}
    for run in result.forward.values():
        assert [r.status for r in run.layers] == ["right"] * 3
        assert [r.name for r in run.layers] == ["H1", "H2", "ŷ"]
    data = result.to_json()["forward"]
    assert data["right"] and data["verdict"] == "correct" and data["first_wrong_forward_layer"] is None
    assert "Forward pass: right at every layer (H1, H2, ŷ), at B = 4 and at B = 1." in result.lines()


def test_a_tuple_and_ŷ_alone_are_accepted():
    forward = make_forward()
    result = sn.check_code(fixture("correct_row.py"), forward=lambda w, X: tuple(forward(w, X)))
    assert result.verdict == "correct"
    result = sn.check_code(fixture("correct_row.py"), forward=lambda w, X: forward(w, X)[-1])
    assert result.verdict == "correct" and result.forward_main.output_only
    assert [r.status for r in result.forward_main.layers] == ["not_returned", "not_returned", "right"]


# ---------------------------------------------------------------- planted mistakes, found at their layer

@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_missing_bias_in_each_layer_is_found_and_named_there(at):
    result = sn.check_code(fixture("correct_row.py"), forward=make_forward(bug="no_bias", at=at))
    assert result.verdict == "wrong_value" and result.exit_code == 1
    assert result.first_wrong_forward_layer == at
    statuses = [r.status for r in result.forward_main.layers]
    assert statuses == ["right"] * (at - 1) + ["wrong"] + ["inherited"] * (3 - at)
    wrong = result.forward_main.layers[at - 1]
    assert wrong.code == "missing_bias" and f"W{at}[0]" in wrong.words
    assert result.to_json()["forward"]["diagnoses"] == ["missing_bias"]
    name = "ŷ" if at == 3 else f"H{at}"
    text = result.lines()
    assert text[1] == (f"Your forward pass is wrong from {name} on: every gradient below depends on it." if at < 3
                       else "Your forward pass is wrong at ŷ: every gradient depends on it.")
    assert result.first_wrong_layer is None        # the gradients themselves are right at the true point


@pytest.mark.parametrize("at", [1, 2, 3])
def test_an_error_no_known_mistake_gives_is_found_at_its_layer_and_said_so(at):
    result = sn.check_code(fixture("correct_row.py"), forward=make_forward(bug="off", at=at))
    assert result.first_wrong_forward_layer == at and result.verdict == "wrong_value"
    assert result.forward_main.layers[at - 1].status == "unexplained"
    assert result.forward_main.diagnoses == []
    assert any("no known mistake gives these numbers" in line for line in result.lines())


def test_the_softmax_over_the_batch_is_named_in_both_conventions():
    for convention, backprop in (("row", "correct_row.py"), ("column", "correct_column.py")):
        result = sn.check_code(fixture(backprop), convention=convention,
                               forward=make_forward(convention, bug="softmax_batch", at=3))
        assert result.first_wrong_forward_layer == 3
        layer = result.forward_main.layers[2]
        assert layer.code == "softmax_axis" and "over the batch" in layer.words
        assert "Mistake in ŷ (softmax_axis)" in "\n".join(result.lines())


def test_a_missing_bias_is_named_with_separate_biases_and_in_the_column_convention():
    result = sn.check_code(fixture("correct_separate_column.py"), bias="separate", convention="column",
                           activations=["tanh", "tanh"],
                           forward=make_forward("column", "separate", ("tanh", "tanh"), bug="no_bias", at=2))
    layer = result.forward_main.layers[1]
    assert (result.first_wrong_forward_layer, layer.code) == (2, "missing_bias")
    assert "without + b2" in layer.words and layer.right_formula == "H2 = tanh(W2 H1 + b2)"
    assert layer.where.startswith("H2[") and result.forward_main.layers[2].status == "inherited"


def test_a_missing_activation_and_a_transposed_square_weight_are_named():
    result = sn.check_code(fixture("correct_row.py"), forward=make_forward(bug="no_activation", at=1))
    assert (result.first_wrong_forward_layer, result.forward_main.diagnoses) == (1, ["activation_missing"])
    result = sn.check_code(fixture("correct_row.py"), forward=make_forward(bug="transposed", at=3))
    assert (result.first_wrong_forward_layer, result.forward_main.diagnoses) == (3, ["transposed"])


def _first_layer(bug):
    """A forward pass whose H1 is computed with ``bug``; H2 and ŷ come from the right H1, so are right."""
    def forward(weights, X):
        out = make_forward()(weights, X)
        ones = np.ones((len(X), 1))
        z1 = np.hstack([ones, X]) @ weights[0]
        out[0] = {"twice": lambda: 1 / (1 + np.exp(-out[0])), "tanh": lambda: np.tanh(z1),
                  "sign": lambda: 1 / (1 + np.exp(z1)),
                  "ones_last": lambda: 1 / (1 + np.exp(-(np.hstack([X, ones]) @ weights[0])))}[bug]()
        return out
    return forward


@pytest.mark.parametrize("bug, code, words", [
    ("twice", "activation_twice", "σ applied twice: H1 = σ(σ(z1))"),
    ("tanh", "wrong_activation", "tanh(z1) where σ(z1) belongs"),
    ("sign", "sign", "σ(−z1) = 1/(1 + e^z1)"),
    ("ones_last", "bias_last", "[x 1] W1: the ones appended"),
])
def test_other_cheap_mistakes_of_a_layer_are_named(bug, code, words):
    result = sn.check_code(fixture("correct_row.py"), forward=_first_layer(bug))
    layer = result.forward_main.layers[0]
    assert (result.first_wrong_forward_layer, layer.code) == (1, code) and layer.words.startswith(words)
    assert [r.status for r in result.forward_main.layers] == ["wrong", "right", "right"]


def test_a_float32_forward_pass_passes_and_a_sigmoid_output_is_named():
    forward = make_forward()
    as32 = [np.float32]

    def forward32(weights, X):
        return forward([w.astype(as32[0]) for w in weights], X.astype(as32[0]))
    assert sn.check_code(fixture("correct_row.py"), forward=forward32).verdict == "correct"

    def sigmoid_output(weights, X):
        out = forward(weights, X)
        out[2] = 1 / (1 + np.exp(-(np.hstack([np.ones((len(X), 1)), out[1]]) @ weights[2])))
        return out
    result = sn.check_code(fixture("correct_row.py"), forward=sigmoid_output)
    assert result.forward_main.layers[2].words == "σ(z3) where softmax(z3) belongs"


def test_a_shape_mismatch_inside_forward_is_its_shape_error_and_a_hang_ends():
    def forward(weights, X):
        return [X @ weights[0]]                       # 784 against 785: the ones of [1 x] left out
    result = sn.check_code(fixture("correct_row.py"), forward=forward)
    assert result.verdict == "shape_error" and result.exit_code == 1
    crash = result.forward_main.crash
    assert crash.text.startswith("return [X @ weights[0]]") and crash.codes == ("bias_row",)
    assert result.lines()[1].startswith("Your forward pass stopped at test_check_code_forward.py:")

    def hang(weights, X):
        while True:
            pass
    with pytest.raises(LearnerCodeError, match="your forward did not return within 0.3 s") as e:
        sn.check_code(fixture("correct_row.py"), forward=hang, timeout=0.3)
    assert e.value.kind == "timeout"


def test_a_wrong_forward_pass_is_wrong_value_even_when_the_gradients_pass():
    result = sn.check_code(fixture("correct_row.py"), forward=make_forward(bug="no_bias", at=2))
    assert all(r.verdict == "correct" for r in result.runs.values())
    assert result.verdict == "wrong_value" and result.exit_code == 1
    assert "Your gradients are right at the true forward values" in " ".join(result.summary())


def test_a_forward_pass_of_the_wrong_shape_is_a_shape_error():
    forward = make_forward()
    result = sn.check_code(fixture("correct_row.py"), forward=lambda w, X: [H.T for H in forward(w, X)])
    assert result.verdict == "shape_error" and result.exit_code == 1
    assert result.first_wrong_forward_layer == 1
    problem = result.forward_main.layers[0].problem
    assert problem.got == (100, 4) and "column convention" in problem.words


# ---------------------------------------------------------------- bad forward code: exit 2

def _raises(weights, X):
    return {}["H1"]


BAD = [
    (_raises, "raised", "your forward raised KeyError"),
    (lambda w, X: None, "returned_none", "your forward returned None"),
    (lambda w, X: make_forward()(w, X)[:2], "wrong_count", "returned 2 items for a network of 3 layers"),
    (lambda w, X: [X] + make_forward()(w, X), "wrong_count", "(X first as H0? leave it out)"),
    (lambda w, X: [H * np.nan for H in make_forward()(w, X)], "not_finite", "NaN"),
    (lambda w, X: "yhat", "not_arrays", "your forward returned a str"),
]


@pytest.mark.parametrize("forward, kind, fragment", BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_forward_code_is_one_clear_error(forward, kind, fragment):
    with pytest.raises(LearnerCodeError) as e:
        sn.check_code(fixture("correct_row.py"), forward=forward)
    assert e.value.kind == kind and e.value.exit_code == 2
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_a_forward_name_needs_a_file():
    with pytest.raises(ScratchnetError, match="only when the code is a file"):
        sn.check_code(fixture("correct_row.py"), forward="forward")


# ---------------------------------------------------------------- the command line, on a file

LEARNER_FILE = '''
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ones(H):
    return np.hstack([np.ones((len(H), 1)), H])


def forward(weights, X):
    Hs, H = [], X
    for l, W in enumerate(weights):
        z = ones(H) @ W
        H = softmax(z) if l == len(weights) - 1 else sigmoid(z)
        Hs.append(H)
    return Hs


def forward_without_bias(weights, X):
    Hs, H = [], X
    for l, W in enumerate(weights):
        z = ones(H) @ W if l != 1 else H @ W[1:]
        H = softmax(z) if l == len(weights) - 1 else sigmoid(z)
        Hs.append(H)
    return Hs


def forward_broken(weights, X):
    H = ones(X) @ weights[0]
    raise RuntimeError("not written yet")


def backprop(weights, X, Y):
    Hs = [X] + forward(weights, X)
    delta = (Hs[-1] - Y) / len(X)
    grads = [None] * len(weights)
    for l in range(len(weights), 0, -1):
        grads[l - 1] = ones(Hs[l - 1]).T @ delta
        if l > 1:
            delta = (delta @ weights[l - 1][1:].T) * Hs[l - 1] * (1 - Hs[l - 1])
    return grads
'''


@pytest.fixture
def learner(tmp_path):
    path = tmp_path / "my_net.py"
    path.write_text(LEARNER_FILE)
    return str(path)


def test_cli_forward_on_a_file(invoke, learner):
    result = invoke("check-code", learner, "--forward", "forward")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Forward pass: right at every layer (H1, H2, ŷ), at B = 4 and at B = 1." in result.stdout
    result = invoke("check-code", learner, "--forward", "forward_without_bias")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1] == "Your forward pass is wrong from H2 on: every gradient below depends on it."
    assert "Mistake in H2 (missing_bias): z2 = H1 W2[1:] without the bias row W2[0]" in result.stdout
    assert "  right: H2 = σ([1 H1] W2)" in lines


def test_cli_json_carries_the_forward_object(invoke, learner):
    result = invoke("check-code", f"{learner}:backprop", "--forward", "forward_without_bias", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "wrong_value" and data["first_wrong_forward_layer"] == 2
    forward = data["forward"]
    assert forward["first_wrong_forward_layer"] == 2 and forward["diagnoses"] == ["missing_bias"]
    assert [r["status"] for r in forward["layers"]] == ["right", "wrong", "inherited"]
    assert forward["layers"][1]["where"].startswith("H2[") and forward["layers"][1]["tolerance"]["rtol"] == 1e-6
    assert set(forward["batches"]) == {"4", "1"}
    plain = json.loads(invoke("check-code", learner, "--json").stdout)
    assert plain["forward"] is None and plain["first_wrong_forward_layer"] is None


def test_cli_bad_forward_code_is_one_line_and_exit_2(invoke, learner):
    assert_one_line_error(invoke("check-code", learner, "--forward", "forward_broken"), 2,
                          "your forward raised RuntimeError: not written yet", "my_net.py:")
    assert_one_line_error(invoke("check-code", learner, "--forward", "forwardd"), 2,
                          "my_net.py has no function forwardd")
    result = invoke("check-code", learner, "--forward", "forward_broken", "--json")
    assert result.returncode == 2 and json.loads(result.stdout)["kind"] == "raised"


def test_html_puts_the_wrong_forward_pass_first():
    html = sn.check_code(fixture("correct_row.py"), forward=make_forward(bug="no_bias", at=2))._repr_html_()
    assert "Your forward pass is wrong from H2 on" in html and "wrong: missing_bias" in html
    assert html.index("Your forward pass") < html.index("W3")


def test_the_docs_forward_section_prints_what_it_shows(invoke, tmp_path):
    import re
    page = open(os.path.join(os.path.dirname(HERE), "..", "..", "docs", "check-code.md"), encoding="utf-8").read()
    section = page[page.index("## The forward pass too"):page.index("## What it reports")]
    code = re.search(r"```python\n(import numpy as np\n.*?)```", section, re.S).group(1)
    command, shown = re.search(r"```console\n\$ scratchnet ([^\n]+)\n(.*?)```", section, re.S).groups()
    (tmp_path / "my_net.py").write_text(code)
    args = command.split()
    result = invoke(*[str(tmp_path / a) if a == "my_net.py" else a for a in args])
    assert result.returncode == 1
    printed, at = [line.rstrip() for line in result.stdout.splitlines()], 0
    for line in (line.rstrip() for line in shown.splitlines() if line.strip()):
        assert line in printed[at:], f"the page shows {line!r}, which `scratchnet {command}` no longer prints"
        at = printed.index(line, at) + 1


def test_cli_forward_needs_a_file_and_another_name(invoke, learner, tmp_path):
    result = invoke("check-code", "--grads", str(tmp_path), "--forward", "forward")
    assert result.returncode == 2 and "--forward FUNCTION names a function of FILE.py" in result.stderr
    result = invoke("check-code", learner, "--forward", "backprop")
    assert result.returncode == 2 and "names backprop itself" in result.stderr and "Traceback" not in result.stderr
