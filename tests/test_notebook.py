"""The tutorial notebook runs from top to bottom, so it cannot rot; and it is committed without outputs.

Each section's output is asserted: the formula checks, the gradient check, the learner's own code
(`sn.check_code`: the mistake named, then the fixed code correct) and the training run.
"""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


def test_the_committed_notebook_is_small_and_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert NOTEBOOK.stat().st_size < 40_000
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


def _text(output):
    data = output.get("data", {})
    return output.get("text", "") + data.get("text/html", "") + data.get("text/plain", "")


def test_the_tutorial_runs_and_shows_each_verdict():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    shown = ["".join(_text(o) for o in cell.outputs) for cell in nb.cells if cell.cell_type == "code"]
    by_source = {cell.source: text for cell, text in zip([c for c in nb.cells if c.cell_type == "code"], shown)}

    def output_of(fragment):
        return next(text for source, text in by_source.items() if fragment in source)

    assert "<table" in output_of("sn.derive()")                       # the derivation renders as HTML
    assert "bias_row" in output_of('factor="dz3/dH2"')                   # each factor of the chain
    assert "diagonal_jacobian" in output_of(r'H_2(1-H_2) \in')
    assert ">correct<" in output_of(r"\operatorname{diag}(H_2")
    assert "third_order" in output_of('factor="dz2/dW2"')
    assert ">agree<" in output_of('chain("W2")')                          # the chain is the δ form
    final = output_of("answer = sn.check")
    assert "shape error" in final and "bias_row" in final and "elementwise_product" in final
    assert "<code>[1\\ H_1]^T</code>" in final                          # the trace in the learner's notation
    assert "you claimed, 101×1, is not" in final                               # the claimed shape is judged
    assert ">correct<" in output_of(r'sn.check(r"[1\ H_1]^T \left(')          # the corrected formula
    assert ">correct<" in output_of(r"\frac{1}{B}")                              # and for a batch
    assert "PASS" in output_of("sn.gradient_check")
    # the learner's own backprop code (issue 18): the seed's bias row kept, then σ′ forgotten, then fixed
    stopped = output_of("delta2 = (delta3 @ W3.T)")
    assert ">shape error<" in stopped and "<b>bias_row</b>" in stopped and "(4,11) (4,10)" in stopped
    assert "delta2 = (delta3 @ W3.T) * H2" in stopped.split("your code stopped at")[1]   # at the learner's line
    forgot = output_of("σ'(z2) forgotten")
    assert ">wrong value<" in forgot and "<b>activation_derivative</b>" in forgot
    assert "First wrong layer: 2" in forgot and "wrong only because of layer 2" in forgot
    assert "δ2 = (δ3 W3[1:]ᵀ) ⊙ σ&#x27;(z2)" in forgot                           # the corrected line
    fixed = output_of("# δ1 = (δ2 W2[1:]ᵀ) ⊙ σ'(z1)")
    assert ">correct<" in fixed and "Every gradient is right at B = 4 and at B = 1" in fixed
    assert ">wrong<" not in fixed and "wrong only" not in fixed and "first_wrong_layer=None" in fixed
    assert "after four epochs" in output_of("Recipe(epochs=4")


def test_the_tutorial_trains_on_training_images_and_measures_on_test_images():
    """The test set is only for measuring, as everywhere in scratchnet."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert 'X, y = sn.load_mnist("train")' in source
    calls = [line for line in source.splitlines() if "train(" in line]
    assert calls and all("X_test" not in line for line in calls)
