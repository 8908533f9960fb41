"""Never lose a run: checkpoints after every epoch, resume to the same bits, interrupts, divergence.

Runs use a miniature MNIST (`tinydata`) so that each takes well under a second. The library-level tests
interrupt a run at chosen steps (by raising KeyboardInterrupt from the progress callback, as a signal
handler would); the command-line tests send real SIGINT and SIGTERM to a real process.
"""

import signal
import subprocess
import time
import tracemalloc

import numpy as np
import pytest
import tinydata

import scratchnet as sn
from scratchnet import checkpoint as checkpoints
from scratchnet.data import checksums
from scratchnet.errors import ScratchnetError
from scratchnet.experiment import Conflict, Run, Setup, UnfinishedRun, resume_training, run_training
from scratchnet.training import Diverged, Recipe

TIMING = {"created", "seconds"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tinydata.make(tmp_path_factory.mktemp("tiny"), n_train=1500, n_test=100)


@pytest.fixture
def tiny(data, monkeypatch):
    """The miniature stands in for MNIST in this process."""
    monkeypatch.setitem(checksums.SHA256, "mnist", tinydata.checksums(data))
    monkeypatch.setenv("SCRATCHNET_DATA", str(data))
    return data


def comparable(net):
    """A model's weights and metadata without the wall-clock fields (which no two runs share)."""
    meta = {k: v for k, v in net.metadata.items() if k not in TIMING}
    meta["history"] = [{k: v for k, v in h.items() if k not in TIMING} for h in meta["history"]]
    return [W.copy() for W in net.weights], meta


def assert_same_model(a, b):
    (wa, ma), (wb, mb) = comparable(a), comparable(b)
    assert ma == mb
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)          # bit for bit, not approximately


class StopAt:
    """An ``on_batch`` that raises KeyboardInterrupt at the ``step``-th batch of the run."""

    def __init__(self, step):
        self.step, self.seen = step, 0

    def __call__(self, epoch, b, n, **_):
        self.seen += 1
        if self.seen == self.step:
            raise KeyboardInterrupt


SETUPS = {
    "default recipe": (Setup(n_train=400), Recipe(epochs=3)),                  # the moving average at 0.998
    "adam": (Setup(n_train=400), Recipe(epochs=4, batch_size=64, seed=3)),
    "momentum, validation, patience, average 0.9": (Setup(n_train=500, val_split=100),
                                                    Recipe(epochs=5, batch_size=50, optimizer="momentum", lr=0.05,
                                                           schedule="constant", shift=2, average=0.9, patience=2,
                                                           seed=1)),
    "sgd, float64, average 0.99": (Setup(n_train=300, dtype="float64", sizes=(784, 32, 10),
                                         activations=("tanh", "softmax")),
                                   Recipe(epochs=3, batch_size=100, optimizer="sgd", lr=0.5, shift=0, average=0.99)),
    "adam, no average": (Setup(n_train=400), Recipe(epochs=4, batch_size=64, average=0, seed=3)),
}


@pytest.mark.parametrize("name", SETUPS)
def test_resume_gives_the_same_bits_wherever_it_was_interrupted(tmp_path, tiny, name):
    setup, recipe = SETUPS[name]
    reference = run_training(setup, recipe, out=tmp_path / "reference.npz")
    assert not (tmp_path / "reference.ckpt.npz").exists()             # a finished run removes it
    steps = -(-(setup.n_train - setup.val_split) // recipe.batch_size)
    for stop in (2, steps + 1, 2 * steps, 2 * steps + 1):              # mid-epoch and on epoch boundaries
        out = tmp_path / f"stopped-{stop}.npz"
        ckpt = tmp_path / f"stopped-{stop}.ckpt.npz"
        with pytest.raises(KeyboardInterrupt):
            run_training(setup, recipe, out=out, on_batch=StopAt(stop))
        assert not out.exists()
        done = (stop - 1) // steps                                      # epochs finished before the stop
        if done == 0:
            assert not ckpt.exists()
            continue
        assert checkpoints.load(ckpt)[1].epoch == done
        resumed = resume_training(ckpt)
        assert resumed["model"] == str(out.absolute()) and not ckpt.exists()
        assert_same_model(sn.load(out), sn.load(reference["model"]))


def test_a_resumed_run_can_be_interrupted_and_resumed_again(tmp_path, tiny):
    setup, recipe = SETUPS["adam"]
    reference = sn.load(run_training(setup, recipe, out=tmp_path / "reference.npz")["model"])
    out, ckpt = tmp_path / "m.npz", tmp_path / "m.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=out, on_batch=StopAt(8))
    run = Run.resume(ckpt)
    with pytest.raises(KeyboardInterrupt):
        run.execute(on_batch=StopAt(16))
    assert checkpoints.load(ckpt)[1].epoch == 3
    Run.resume(ckpt).execute()
    assert_same_model(sn.load(out), reference)


def test_checkpoint_holds_the_whole_state(tmp_path, tiny):
    setup, recipe = SETUPS["momentum, validation, patience, average 0.9"]
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=tmp_path / "m.npz", on_batch=StopAt(8 * 2 + 1))
    net, state, run = checkpoints.load(tmp_path / "m.ckpt.npz")
    assert state.epoch == 2 and state.step == 16 and len(state.history) == 2
    assert state.best_params is not None and state.best_params.shape == net.params.shape
    assert np.any(state.optimizer.v != 0)                      # momentum's velocity came back
    np.testing.assert_array_equal(net.params, state.average)   # the network holds W̄, as between epochs
    assert np.abs(state.raw_params - state.average).max() > 1e-4          # and the optimiser's own W is kept
    assert run["recipe"] == recipe.to_dict() and run["setup"] == setup.to_dict()
    assert run["out"] == str((tmp_path / "m.npz").absolute())


def test_resume_with_contradicting_settings_is_refused(tmp_path, tiny):
    setup, recipe = SETUPS["adam"]
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=tmp_path / "m.npz", on_batch=StopAt(8))
    with pytest.raises(Conflict) as e:
        Run.resume(tmp_path / "m.ckpt.npz", given={"lr": 0.1})
    assert e.value.field == "lr" and e.value.saved == recipe.lr
    with pytest.raises(Conflict):
        Run.resume(tmp_path / "m.ckpt.npz", given={"sizes": [784, 50, 10]})
    Run.resume(tmp_path / "m.ckpt.npz", given={"lr": recipe.lr, "sizes": list(setup.sizes)})   # agreeing: fine


def test_a_new_run_never_overwrites_an_unfinished_one(tmp_path, tiny):
    setup, recipe = SETUPS["adam"]
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=tmp_path / "m.npz", on_batch=StopAt(8))
    before = (tmp_path / "m.ckpt.npz").read_bytes()
    with pytest.raises(UnfinishedRun):
        run_training(setup, recipe, out=tmp_path / "m.npz")
    assert (tmp_path / "m.ckpt.npz").read_bytes() == before


def test_divergence_saves_nothing_and_keeps_the_old_model(tmp_path, tiny):
    setup, recipe = SETUPS["adam"]
    run_training(setup, recipe, out=tmp_path / "m.npz")
    before = (tmp_path / "m.npz").read_bytes()
    with pytest.raises(Diverged) as e, np.errstate(all="ignore"):
        run_training(setup, Recipe(epochs=3, lr=1000), out=tmp_path / "m.npz")
    assert e.value.field == "lr" and e.value.epoch == 1 and "smaller learning rate" in str(e.value)
    assert (tmp_path / "m.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def _rewrite(ckpt, change):
    """Rewrite the checkpoint ``ckpt`` with ``change(arrays, meta)`` applied to its arrays and metadata."""
    import json
    with np.load(ckpt) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("metadata").tobytes())
    change(arrays, meta)
    np.savez(ckpt, metadata=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)


def test_a_checkpoint_from_before_the_average_resumes_without_one(tmp_path, tiny):
    """A checkpoint written before ``Recipe.average`` existed has no ``average`` array and a recipe without
    the field: it resumes as the run it was, without an average, to the bits of an uninterrupted run."""
    setup, recipe = SETUPS["adam, no average"]
    reference = sn.load(run_training(setup, recipe, out=tmp_path / "reference.npz")["model"])
    out, ckpt = tmp_path / "m.npz", tmp_path / "m.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=out, on_batch=StopAt(8))
    assert "average" not in np.load(ckpt).files

    def as_before(arrays, meta):
        del meta["run"]["recipe"]["average"]
    _rewrite(ckpt, as_before)
    net, state, _ = checkpoints.load(ckpt)
    assert state.average is None and state.raw_params is None
    assert Run.resume(ckpt).recipe.average == 0.0
    resume_training(ckpt)
    assert_same_model(sn.load(out), reference)


def test_a_checkpoint_whose_average_contradicts_its_recipe_is_refused_in_one_line(tmp_path, tiny):
    setup, recipe = SETUPS["adam, no average"]
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=tmp_path / "m.npz", on_batch=StopAt(8))
    ckpt = tmp_path / "m.ckpt.npz"
    _rewrite(ckpt, lambda arrays, meta: arrays.update(average=arrays["params"]))
    with pytest.raises(ScratchnetError) as e:
        resume_training(ckpt)
    assert e.value.field == "average" and "\n" not in str(e.value)
    assert "has a moving average of the weights, but the recipe's average is 0" in str(e.value)


@pytest.mark.parametrize("meta_change, message", [
    ({"rng": {"bit_generator": "PCG64", "state": "x"}}, "random generator"),
    ({"optimizer": {"name": "Adam", "numbers": {}, "arrays": []}}, "optimiser"),
    ({"epoch": 7}, "progress"),
    ({"history": "many"}, "history"),
    ({"run": {"setup": {}, "recipe": {}, "out": "m.npz"}}, "run record"),
    ({"sizes": [784, 10 ** 7, 10 ** 4, 10]}, "claims layer sizes"),          # terabytes, never allocated
])
def test_damaged_checkpoints_are_refused(tmp_path, tiny, meta_change, message):
    import json
    import zipfile
    setup, recipe = SETUPS["adam"]
    with pytest.raises(KeyboardInterrupt):
        run_training(setup, recipe, out=tmp_path / "m.npz", on_batch=StopAt(8))
    ckpt = tmp_path / "m.ckpt.npz"
    with np.load(ckpt) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["metadata"].tobytes())
    meta.update(meta_change)
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(ckpt, **arrays)
    assert zipfile.is_zipfile(ckpt)
    tracemalloc.start()
    try:
        with pytest.raises(ScratchnetError, match=message):
            Run.resume(ckpt)
        assert tracemalloc.get_traced_memory()[1] < 50e6
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------ the command line, with real signals

ARGS = ["train", "--epochs", "12", "--batch-size", "16", "--n-train", "1500"]


def interrupted_run(data, tmp_path, sig, after_epochs=2):
    """Start ``scratchnet train``, send ``sig`` once ``after_epochs`` epochs are checkpointed; returns
    ``(process result, seconds from the signal to the exit)``."""
    out = tmp_path / "m.npz"
    process = subprocess.Popen(tinydata.command(*ARGS, "--out", out), env=tinydata.environment(data),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (tmp_path / "m.ckpt.npz").exists():
                try:
                    if checkpoints.load(tmp_path / "m.ckpt.npz")[1].epoch >= after_epochs:
                        break
                except ScratchnetError:
                    pass
            time.sleep(0.01)
        sent = time.monotonic()
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=30)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), \
            time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_command_and_resume_finishes_it_bit_for_bit(data, tmp_path, sig, code):
    reference = tinydata.scratchnet(data, *ARGS, "--out", tmp_path / "reference.npz")
    assert reference.returncode == 0, reference.stderr
    (tmp_path / "run").mkdir()
    result, seconds = interrupted_run(data, tmp_path / "run", sig)
    assert result.returncode == code, result.stderr
    assert seconds < 1.5                                         # "within a second", on a busy machine
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    ckpt = tmp_path / "run" / "m.ckpt.npz"
    assert f"resume with: scratchnet train --resume {ckpt}" in lines[0]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["m.ckpt.npz"]     # no temporary files
    resumed = tinydata.scratchnet(data, "train", "--resume", ckpt)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["m.npz"]
    assert_same_model(sn.load(tmp_path / "run" / "m.npz"), sn.load(tmp_path / "reference.npz"))


def test_cli_resume_refuses_contradicting_options_in_one_line(data, tmp_path):
    result, _ = interrupted_run(data, tmp_path, signal.SIGINT, after_epochs=1)
    assert result.returncode == 130
    ckpt = tmp_path / "m.ckpt.npz"
    refused = tinydata.scratchnet(data, "train", "--resume", ckpt, "--lr", "0.1", "--epochs", "12")
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scratchnet: error: ")
    assert "--lr 0.1 contradicts the checkpoint" in lines[0] and "--lr 0.003" in lines[0]
    again = tinydata.scratchnet(data, *ARGS, "--out", tmp_path / "m.npz")        # a new run over it
    assert again.returncode == 1 and f"--resume {ckpt}" in again.stderr
    agreeing = tinydata.scratchnet(data, "train", "--resume", ckpt, "--epochs", "12", "--json",
                                   "--out", tmp_path / "elsewhere.npz")
    assert agreeing.returncode == 0, agreeing.stderr
    assert (tmp_path / "elsewhere.npz").exists() and not ckpt.exists()


def test_cli_divergence_is_one_line_and_saves_nothing(data, tmp_path):
    result = tinydata.scratchnet(data, "train", "--n-train", "300", "--epochs", "3", "--lr", "1000",
                                 "--out", tmp_path / "m.npz")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "diverged" in lines[0] and "smaller --lr" in lines[0]
    assert "the default --lr 0.003" in lines[0]            # not 100, which would diverge again
    assert list(tmp_path.iterdir()) == []


def test_resuming_from_a_finished_model_says_it_is_not_a_checkpoint(tmp_path):
    model = tmp_path / "m.npz"
    sn.save(sn.Network([4, 3], ["softmax"]), model)
    with pytest.raises(ScratchnetError, match="is a trained model, not a checkpoint; .* .ckpt.npz"):
        checkpoints.load(model)
