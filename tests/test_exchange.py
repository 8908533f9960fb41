"""Your network in and out (issue 19): `scratchnet export` and `scratchnet import`.

A scikit-learn MLP and a PyTorch-layout network (``nn.Linear``: ``(out, in)`` weights, separate biases),
each trained on real MNIST where it was made, import to exactly the test accuracy they had there; a
scratchnet model exported to JSON and run through the README's own NumPy forward pass has the accuracy
`evaluate` gives; import ∘ export is the identity on every array, in every layout and format; bad weights
are one line and nothing is written.
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.errors import ScratchnetError
from scratchnet.exchange import export_weights, import_weights
from scratchnet.report import evaluate_model

from conftest import assert_one_line_error, run_cli

README = Path(__file__).parent.parent / "README.md"
N_TRAIN = 3000


@pytest.fixture(scope="module")
def mnist():
    X, y = sn.load_mnist("train")
    Xt, yt = sn.load_mnist("test")
    return X[:N_TRAIN], y[:N_TRAIN], Xt, yt


def _accuracy_in_scratchnet(model, Xt, yt):
    """Test accuracy of a saved model as `scratchnet evaluate` computes it."""
    return evaluate_model(sn.load(model), Xt, yt).accuracy


def test_a_scikit_learn_mlp_imports_to_the_accuracy_it_had(mnist, tmp_path, invoke):
    neural_network = pytest.importorskip("sklearn.neural_network")
    X, y, Xt, yt = mnist
    clf = neural_network.MLPClassifier((32, 16), activation="tanh", max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # it has not converged in 15 epochs: fine
        clf.fit(X / 255.0, y)
    theirs = clf.score(Xt / 255.0, yt)
    assert theirs > 0.85
    arrays = {}
    for l, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_), start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b              # (n_in, n_out) and (n_out,): row convention
    np.savez(tmp_path / "sklearn.npz", **arrays)
    result = invoke("import", tmp_path / "sklearn.npz", "--out", tmp_path / "m.npz", "--activations",
                    "tanh,tanh,softmax")
    assert result.returncode == 0, result.stderr
    assert "784 → 32 tanh → 16 tanh → 10 softmax" in result.stdout
    assert _accuracy_in_scratchnet(tmp_path / "m.npz", Xt, yt) == theirs
    P = sn.load(tmp_path / "m.npz").predict_proba(Xt[:500])
    np.testing.assert_allclose(P, clf.predict_proba(Xt[:500] / 255.0), atol=1e-12)


def test_a_pytorch_layout_network_imports_to_the_accuracy_it_had(mnist, tmp_path, invoke):
    torch = pytest.importorskip("torch")
    X, y, Xt, yt = mnist
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 48), torch.nn.ReLU(), torch.nn.Linear(48, 10))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    Xb, yb = torch.tensor(X / 255.0, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    for epoch in range(5):
        for i in range(0, len(Xb), 100):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(Xb[i:i + 100]), yb[i:i + 100]).backward()
            optimiser.step()
    with torch.no_grad():
        theirs = float((model(torch.tensor(Xt / 255.0, dtype=torch.float32)).argmax(1).numpy() == yt).mean())
    assert theirs > 0.85
    layers = [m for m in model if isinstance(m, torch.nn.Linear)]
    arrays = {}
    for l, layer in enumerate(layers, start=1):
        arrays[f"W{l}"] = layer.weight.detach().numpy()       # (out, in): the column convention
        arrays[f"b{l}"] = layer.bias.detach().numpy()
    assert arrays["W1"].shape == (48, 784)
    np.savez(tmp_path / "torch.npz", **arrays)
    row = invoke("import", tmp_path / "torch.npz", "--out", tmp_path / "wrong.npz", "--activations", "relu,softmax")
    assert_one_line_error(row, 1, "--convention column")      # read as (in, out), the shapes do not chain
    assert not (tmp_path / "wrong.npz").exists()
    result = invoke("import", tmp_path / "torch.npz", "--out", tmp_path / "m.npz", "--activations", "relu,softmax",
                    "--convention", "column", "--bias", "separate")
    assert result.returncode == 0, result.stderr
    net = sn.load(tmp_path / "m.npz")
    assert net.dtype == np.float32 and net.sizes == (784, 48, 10)
    assert _accuracy_in_scratchnet(tmp_path / "m.npz", Xt, yt) == theirs


def _readme_forward_pass():
    """The README's NumPy forward pass, as it stands there."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    found = [b for b in blocks if 'json.load(open("model.json"))' in b]
    assert len(found) == 1, "the README shows one forward pass from model.json"
    assert len(found[0].strip().splitlines()) <= 12
    return found[0]


def test_export_then_the_readmes_numpy_forward_pass_gives_evaluates_accuracy(mnist, tmp_path, monkeypatch):
    X, y, Xt, yt = mnist
    model = tmp_path / "model.npz"
    trained = run_cli("train", "--n-train", N_TRAIN, "--epochs", 2, "--no-augment", "--layers", "784,30,20,10",
                      "--activations", "tanh,relu,softmax", "--out", model, timeout=300)
    assert trained.returncode == 0, trained.stderr
    evaluated = run_cli("evaluate", model, "--json")
    accuracy = json.loads(evaluated.stdout)["accuracy"]
    assert accuracy > 0.8
    assert run_cli("export", model, "--out", tmp_path / "model.json").returncode == 0
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(_readme_forward_pass(), namespace)                   # noqa: S102 -- the README's own lines
    yhat = namespace["forward"](Xt)
    assert yhat.shape == (len(Xt), 10)
    np.testing.assert_allclose(yhat.sum(axis=1), 1, rtol=1e-6)
    assert (yhat.argmax(axis=1) == yt).mean() == accuracy


LAYOUTS = [("separate", "row"), ("separate", "column"), ("row", "row"), ("row", "column")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["model.json", "model.npz", "model_csv/"])
@pytest.mark.parametrize("bias, convention", LAYOUTS)
def test_import_of_export_is_the_identity_on_every_array(bias, convention, kind, dtype, tmp_path):
    net = sn.Network((7, 5, 4, 3), ("relu", "sigmoid", "softmax"), dtype=dtype, seed=3)
    net.metadata = {"class_names": ["cat", "dog", "emu"]}
    path = export_weights(net, str(tmp_path / kind), bias=bias, convention=convention)
    back = import_weights(str(tmp_path / kind) if kind.endswith("/") else path)
    assert back.sizes == net.sizes and back.activations == net.activations and back.dtype == net.dtype
    assert back.metadata["class_names"] == ["cat", "dog", "emu"]
    for W, V in zip(net.weights, back.weights):
        assert W.dtype == V.dtype and np.array_equal(W, V)      # bit for bit


@pytest.mark.parametrize("bias, convention", LAYOUTS)
def test_each_layout_has_the_shapes_it_says(bias, convention, tmp_path):
    net = sn.Network((7, 5, 3), ("tanh", "softmax"), dtype="float64", seed=1)
    export_weights(net, str(tmp_path / "w.npz"), bias=bias, convention=convention)
    with np.load(tmp_path / "w.npz", allow_pickle=False) as f:
        shapes = {k: f[k].shape for k in f.files if k != "metadata"}
    extra = 1 if bias == "row" else 0
    W1 = (7 + extra, 5) if convention == "row" else (5, 7 + extra)
    assert shapes["W1"] == W1
    assert ("b1" in shapes) == (bias == "separate")
    H = np.random.default_rng(0).random((4, 7))
    with np.load(tmp_path / "w.npz", allow_pickle=False) as f:
        W = f["W1"] if convention == "row" else f["W1"].T
        z1 = (np.hstack([np.ones((4, 1)), H]) @ W) if bias == "row" else H @ W + f["b1"]
    np.testing.assert_allclose(z1, np.hstack([np.ones((4, 1)), H]) @ net.weights[0], rtol=1e-12)


@pytest.mark.parametrize("arrays, args, words", [
    ({"W1": np.ones((784, 5)), "b1": np.ones(5), "W2": np.ones((6, 10)), "b2": np.ones(10)}, [],
     "W2 is (6, 10), but W1 gives 5 outputs"),
    ({"W1": np.ones((784, 5)), "b1": np.ones(5)}, ["--activations", "relu,softmax"], "1 layer"),
    ({"W1": np.full((784, 10), np.nan), "b1": np.ones(10)}, ["--activations", "softmax"], "NaN"),
    ({"W1": np.ones((784, 10))}, ["--activations", "softmax"], "lacks the bias b1"),
    ({"W1": np.ones((784, 10)), "b1": np.ones(10), "extra": np.ones(3)}, ["--activations", "softmax"],
     "unexpected array 'extra'"),
    ({"W1": np.array([[object()]], dtype=object)}, ["--activations", "softmax"], ""),
])
def test_bad_weights_are_one_line_and_nothing_is_written(arrays, args, words, tmp_path, invoke):
    np.savez(tmp_path / "w.npz", **arrays)
    args = args or ["--activations", "relu,softmax"]
    result = invoke("import", tmp_path / "w.npz", "--out", tmp_path / "m.npz", *args)
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scratchnet: error: ") and words in lines[0], result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_import_from_python_refuses_what_contradicts_the_file(tmp_path):
    net = sn.Network((7, 5, 3), ("tanh", "softmax"), seed=1)
    export_weights(net, str(tmp_path / "w.json"), bias="row", convention="column")
    with pytest.raises(ScratchnetError, match="says its convention is column"):
        import_weights(str(tmp_path / "w.json"), convention="row")
