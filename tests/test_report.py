"""Metrics on hand-made cases, and the evaluation report's files (pictures ≥ 800 px wide, report.md)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from scratchnet import metrics, plots
from scratchnet.cli import cli
from scratchnet.cli import evaluate as evaluate_cli
from scratchnet.errors import ScratchnetError
from scratchnet.modelfile import save
from scratchnet.network import Network
from scratchnet.report import PICTURES, evaluate_model, write_report


def test_confusion_matrix_by_hand():
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 0, 2, 1]
    C = metrics.confusion_matrix(y_true, y_pred, n_classes=3)
    assert C.tolist() == [[1, 1, 0],
                          [0, 2, 0],
                          [1, 1, 1]]


def test_precision_recall_f1_by_hand():
    C = np.array([[1, 1, 0],
                  [0, 2, 0],
                  [1, 1, 1]])
    r = metrics.per_class(C)
    # precision: column sums 2, 4, 1; recall: row sums 2, 2, 3
    assert np.allclose(r.precision, [1 / 2, 2 / 4, 1 / 1])
    assert np.allclose(r.recall, [1 / 2, 2 / 2, 1 / 3])
    assert np.allclose(r.f1, [0.5, 2 * 0.5 * 1 / 1.5, 2 * 1 * (1 / 3) / (4 / 3)])
    assert r.support.tolist() == [2, 2, 3]
    assert r.accuracy == pytest.approx(4 / 7)
    assert r.rows()[1] == {"class": 1, "precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3),
                           "support": 2}


def test_a_class_never_predicted_or_absent_scores_zero():
    C = np.array([[3, 0, 0],
                  [2, 0, 0],
                  [0, 0, 0]])
    r = metrics.per_class(C)
    assert r.precision.tolist() == [0.6, 0.0, 0.0]
    assert r.recall.tolist() == [1.0, 0.0, 0.0]
    assert r.f1[1] == 0.0 and r.f1[2] == 0.0
    assert np.isfinite(r.f1).all()


def test_bad_labels_are_refused():
    with pytest.raises(ScratchnetError):
        metrics.confusion_matrix([0, 1], [0, 10])
    with pytest.raises(ScratchnetError):
        metrics.confusion_matrix([0, 1], [0])
    with pytest.raises(ScratchnetError):
        metrics.per_class(np.zeros((2, 3)))


def small_setup(n=300, seed=0, history=True):
    """A 784 → 16 σ → 10 softmax network and ``n`` random images, a third of them labelled as the
    network predicts them, so that the report has right and wrong answers."""
    rng = np.random.default_rng(seed)
    net = Network([784, 16, 10], ["sigmoid", "softmax"], rng=rng)
    X = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
    y = rng.integers(0, 10, size=n).astype(np.uint8)
    y[: n // 3] = net.predict(X[: n // 3])
    if history:
        net.metadata["history"] = [
            {"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 0.5 / e, "lr": 0.1, "seconds": 1.0,
             "val_loss": 1.2 / e, "val_accuracy": 1 - 0.6 / e} for e in range(1, 5)]
    return net, X, y


def test_write_report_files(tmp_path):
    net, X, y = small_setup()
    ev, paths = write_report(net, X, y, tmp_path / "rep", model_name="tiny.npz")
    for name in PICTURES:
        with Image.open(tmp_path / "rep" / name) as img:
            assert img.format == "PNG"
            assert img.width >= 800 and img.height >= 300, name
    md = (tmp_path / "rep" / "report.md").read_text()
    for name in PICTURES:
        assert f"]({name})" in md
    # The numbers agree with the predictions, and the table carries them.
    predicted = net.predict(X)
    assert ev.accuracy == pytest.approx(np.mean(predicted == y))
    assert ev.C.sum() == len(y) and np.trace(ev.C) == np.sum(predicted == y)
    assert f"**accuracy {ev.accuracy:.4f}**" in md
    row = ev.classes.rows()[3]
    assert f"| 3 | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | {row['support']} |" in md
    assert sorted(paths) == sorted(PICTURES + ("report.md",))


def test_fashion_report_names_the_clothes_not_digits(tmp_path):
    net, X, y = small_setup()
    ev, _ = write_report(net, X, y, tmp_path, dataset="fashion-mnist")
    md = (tmp_path / "report.md").read_text()
    row = ev.classes.rows()[9]
    assert f"| Ankle boot | {row['precision']:.4f} |" in md
    assert "| **Trouser** |" in md and "digit" not in md
    assert "| 3 | " not in md


def test_report_without_history_or_mistakes(tmp_path):
    net, X, _ = small_setup(n=50, history=False)
    y = net.predict(X).astype(np.uint8)                # every answer right
    ev, _ = write_report(net, X, y, tmp_path)
    assert ev.accuracy == 1.0 and ev.top_confusions() == []
    for name in ("training_curves.png", "mistakes.png"):
        with Image.open(tmp_path / name) as img:
            assert img.width >= 800
    assert "no training history" in (tmp_path / "report.md").read_text()


def test_one_epoch_of_history_is_one_epoch_not_1_epochs(tmp_path):
    net, X, y = small_setup(n=50)
    net.metadata["history"] = net.metadata["history"][:1]
    write_report(net, X, y, tmp_path)
    assert "1 epoch recorded in the model file." in (tmp_path / "report.md").read_text()
    net.metadata["history"] = small_setup(n=50)[0].metadata["history"]
    write_report(net, X, y, tmp_path / "four")
    assert "4 epochs recorded" in (tmp_path / "four" / "report.md").read_text()


def test_report_into_a_file_is_refused(tmp_path):
    net, X, y = small_setup(n=20)
    (tmp_path / "taken").write_text("x")
    with pytest.raises(ScratchnetError, match="is a file"):
        write_report(net, X, y, tmp_path / "taken")


def test_top_confusions():
    net, X, y = small_setup(n=20)
    ev = evaluate_model(net, X, y)
    ev.C = np.zeros((10, 10), int)
    ev.C[4, 9], ev.C[7, 1], ev.C[3, 3] = 5, 2, 50
    assert ev.top_confusions() == [(4, 9, 5), (7, 1, 2)]


def test_first_layer_needs_square_inputs(tmp_path):
    with pytest.raises(ScratchnetError, match="square"):
        plots.first_layer_weights(np.zeros((11, 4)), tmp_path / "w.png")
    plots.first_layer_weights(np.zeros((17, 3)), tmp_path / "w.png")          # 16 = 4×4 inputs
    with Image.open(tmp_path / "w.png") as img:
        assert img.width >= 800


def test_evaluate_report_command(tmp_path, monkeypatch):
    """``evaluate --report`` through the command line, on a fake test set (no MNIST needed)."""
    net, X, y = small_setup(n=120)
    save(net, tmp_path / "m.npz", {"history": net.metadata["history"], "dataset": "mnist"})
    monkeypatch.setattr(evaluate_cli, "load_mnist", lambda split, dataset, data_dir: (X, y))
    runner = CliRunner()
    result = runner.invoke(cli, ["evaluate", str(tmp_path / "m.npz"), "--report", str(tmp_path / "r"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    loss, accuracy = net.evaluate(X, y)
    assert out["accuracy"] == pytest.approx(accuracy) and out["loss"] == pytest.approx(loss)
    assert out["n"] == 120
    assert np.array(out["confusion_matrix"]).sum() == 120
    assert all((tmp_path / "r" / name).is_file() for name in PICTURES + ("report.md",))

    result = runner.invoke(cli, ["evaluate", str(tmp_path / "m.npz"), "--report", str(tmp_path / "r2")])
    assert result.exit_code == 0, result.output
    assert "Per-class precision, recall and F1" in result.output
    assert "Confusion matrix" in result.output
    assert (tmp_path / "r2" / "report.md").is_file()


def test_confident_mistakes_are_sorted_by_confidence():
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.05, 0.95]])
    y = np.array([1, 1, 0, 0, 0])
    from scratchnet.metrics import confident_mistakes
    assert confident_mistakes(y, P).tolist() == [4, 0, 2]
    assert confident_mistakes(y, P, n=2).tolist() == [4, 0]
    assert confident_mistakes(np.array([0, 1, 1, 0, 1]), P).tolist() == []


def test_first_layer_units_are_numbered_from_0_as_in_the_lab(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: seen.append(fig))
    plots.first_layer_weights(np.zeros((17, 3)), tmp_path / "w.png")
    titles = [ax.get_title() for ax in seen[0].axes if ax.get_title()]
    assert titles == ["0", "1", "2"]                          # j in W1[1:, j], as the lab numbers units
