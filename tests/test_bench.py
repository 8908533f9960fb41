"""The benchmark in ``benchmarks/``: FLOP count, GEMM shapes, the interleaved timing, the targets and the
Markdown, the command end to end on a tiny set.

Opt-in (``python -m pytest -m bench``): the end-to-end tests train several peers. No test here asserts a
speed: speed is checked by running the benchmark, never by a timed test.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench, floor, report, timing, training_runs

pytestmark = pytest.mark.bench
ROOT = Path(__file__).resolve().parent.parent


def test_flop_per_image_of_the_seed_network_counts_the_bias_rows():
    # forward [1 H] W: 2·(785·100 + 101·10 + 11·10); the weight gradients the same; input gradients of
    # layers 2 and 3 use W̄ (no bias row): 2·(10·100 + 10·10)
    assert floor.flops_per_image([784, 100, 10, 10]) == 320_680
    assert floor.flops_per_image([784, 100, 10, 10]) == 2 * 2 * (785 * 100 + 101 * 10 + 11 * 10) \
        + 2 * (10 * 100 + 10 * 10)


def test_flop_count_follows_the_layer_sizes():
    # one layer: no input gradient; a hidden layer adds its input gradient 2·n_1·n_2 (no bias row)
    assert floor.flops_per_image([5, 3]) == 2 * (2 * 6 * 3)
    assert floor.flops_per_image([5, 3, 2]) == 2 * (2 * 6 * 3 + 2 * 4 * 2) + 2 * 2 * 3


def test_matmul_shapes_are_the_steps_products():
    shapes = floor.matmul_shapes([784, 100, 10, 10], 128)
    kinds = [s["kind"] for s in shapes]
    assert kinds.count("forward") == 3 and kinds.count("weight gradient") == 3
    assert kinds.count("input gradient") == 2
    first = [(s["name"], s["m"], s["k"], s["n"]) for s in shapes[:3]]
    assert first == [("[1 H0] W1", 128, 785, 100), ("[1 H0]ᵀ δ1", 785, 128, 100), ("[1 H1] W2", 128, 101, 10)]
    assert (shapes[4]["name"], shapes[4]["m"], shapes[4]["k"], shapes[4]["n"]) == ("δ2 W̄2ᵀ", 128, 10, 100)


def test_floor_is_the_flop_at_the_given_rate():
    assert floor.floor_seconds([784, 100, 10, 10], 60_000, 100.0) == pytest.approx(320_680 * 60_000 / 100e9)


def test_time_matmul_returns_a_positive_time_per_call():
    seconds = floor.time_matmul(8, 4, 3, transpose="a", min_seconds=0.001)
    assert 0 < seconds < 1


def _tiny_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n)


def test_peers_take_their_epochs_in_turns():
    X, y = _tiny_data()
    peers = timing.time_epochs(("scratchnet", "pytorch"), X, y, (784, 8, 8, 10), ("sigmoid", "sigmoid", "softmax"),
                               warmup=1, epochs=2, batch_size=64, lr=1e-3, seed=0, threads=1)
    for name in ("scratchnet", "pytorch"):
        p = peers[name]
        if "skipped" in p:
            assert name != "scratchnet"
            continue
        assert len(p["epoch_seconds"]) == 3 and p["warmup"] == 1
        assert p["min"] <= p["median"] <= p["max"] and p["min"] > 0


def test_scratchnet_runner_trains_like_one_train_call():
    # epoch by epoch through the runner, the weights end where one train() call of the same recipe ends
    import scratchnet as sn
    from scratchnet.training import Recipe, train
    X, y = _tiny_data()
    runner = timing.ScratchnetRunner(X, y, (784, 8, 10), ("sigmoid", "softmax"), 3, 64, 1e-3, 0)
    try:
        for _ in range(3):
            runner.epoch()
    finally:
        runner.close()
    net = sn.Network((784, 8, 10), ("sigmoid", "softmax"), seed=0)
    train(net, X, y, Recipe(epochs=3, batch_size=64, lr=1e-3, schedule="constant", shift=0, seed=0))
    np.testing.assert_array_equal(runner.net.params, net.params)


def test_a_runner_closed_early_stops_its_thread():
    X, y = _tiny_data()
    runner = timing.ScratchnetRunner(X, y, (784, 8, 10), ("sigmoid", "softmax"), 5, 64, 1e-3, 0)
    runner.epoch()
    runner.close()
    assert not runner._thread.is_alive()


def test_jax_epoch_trains():
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    X, y = _tiny_data(300)                  # 300 = 2 full batches of 128 and a partial one
    runner = timing.start_jax(X, y, (784, 8, 8, 10), ("sigmoid", "sigmoid", "softmax"), 2, 128, 1e-3, 0, 1)
    assert runner.info["compile_seconds"] > 0 and runner.epoch() > 0


def _results(**over):
    def peers(sn, jax, torch):
        return {"scratchnet": {"epoch_seconds": [0.5, sn, sn], "warmup": 1, "median": sn, "min": sn, "max": sn},
                "jax": {"epoch_seconds": [0.9, jax], "warmup": 1, "median": jax, "min": jax, "max": jax,
                        "compile_seconds": 1.5},
                "pytorch": {"epoch_seconds": [0.9, torch], "warmup": 1, "median": torch, "min": torch,
                            "max": torch},
                "sklearn": {"skipped": "not installed"}}

    def net(sizes, sn, jax, torch, floor_s):
        p = peers(sn, jax, torch)
        return {"sizes": sizes, "architecture": "784 → …", "n_train": 60000,
                "flop_per_image": floor.flops_per_image(sizes), "flop_per_epoch": floor.flops_per_image(sizes) * 60000,
                "floor_seconds": floor_s, "peers": p, "ratios": bench.ratios(p, floor_s, 0.8 * floor_s),
                "gemm": {"shapes": [dict(name="[1 H0] W1", kind="forward", m=128, k=785, n=100, transpose=None,
                                         seconds_per_call=1e-4, gflops=200.0, calls_per_epoch=469)],
                         "seconds_per_epoch": 0.0469}}

    results = {
        "settings": {"batch_size": 128, "lr": 2e-3, "n_train": 60000, "threads": 2, "sweep_epochs": 2, "warmup": 1},
        "machine": {"cpu": "Test CPU", "cpus": 2, "cpus_usable": 2, "threads": 2, "platform": "test",
                    "blas": "openblas", "blas_runtime": "openblas", "load_average": [0.1, 0, 0],
                    "load_average_after": [0.2, 0, 0], "versions": {"python": "3", "numpy": "2"}},
        "peak_gflops": 150.0,
        "networks": {"seed": net([784, 100, 10, 10], 0.2, 0.25, 0.4, 0.128),
                     "wide": net([784, 1024, 1024, 10], 4.0, 4.0, 5.0, 3.2)},
        "sweep": {"n_train": 8192, "steps": 64,
                  "rows": [{"width": 100, "sizes": [784, 100, 100, 10], "floor_seconds": 0.032,
                            "peers": peers(0.064, 0.128, 0.256),
                            "ratios": {"jax": 0.5, "pytorch": 0.25, "sklearn": None, "floor": 2.0}}]},
        "memory": {"peak_bytes": 350e6, "command": "scratchnet train"},
        "accuracy": {"goal": 0.98, "reached": True, "seconds": 6.0, "epoch": 9, "accuracy": 0.981,
                     "recipe": {"epochs": 30, "batch_size": 128, "schedule": "cosine", "shift": 1},
                     "history": [{"epoch": 9, "seconds": 6.0, "test_accuracy": 0.981}]},
        "profile": None,
    }
    results.update(over)
    return results


def test_target_rows_compare_with_issue_21():
    assert report.target_rows(_results()) == [
        ("seed: scratchnet / JAX", "0.80×", "≤ 1.00×", "met"),
        ("seed: scratchnet / PyTorch", "0.50×", "≤ 0.50×", "met"),
        ("wide: scratchnet / JAX", "1.00×", "≤ 1.15×", "met"),
        ("wide: scratchnet / PyTorch", "0.80×", "≤ 0.50×", "not met"),
        ("wide: scratchnet / the step's products alone", "1.56×", "≤ 1.15×", "not met"),
        ("wide: scratchnet / floor (FLOP at the peak rate)", "1.25×", "≤ 1.15×", "not met"),
        ("time to 98% test accuracy", "6.0 s (epoch 9)", "≤ 3 s", "not met"),
        ("peak memory of `scratchnet train` (issue 6)", "350 MB", "≤ 400 MB", "met"),
    ]


def test_target_rows_without_the_wide_network_or_the_98_percent_goal():
    acc = dict(_results()["accuracy"], reached=False, epoch=None, accuracy=0.975, seconds=40.0)
    results = _results(accuracy=acc, memory=None)
    del results["networks"]["wide"]
    rows = report.target_rows(results)
    assert rows[2] == ("wide: scratchnet / JAX", "—", "≤ 1.15×", "—")
    assert rows[6:] == [
        ("time to 98% test accuracy", "not reached (best 97.50% after 40.0 s)", "≤ 3 s", "not met"),
        ("peak memory of `scratchnet train` (issue 6)", "—", "≤ 400 MB", "—"),
    ]


def test_markdown_has_the_tables_figures_and_command():
    md = report.render_markdown(_results(), {"epochs": "images/benchmarks.png", "sweep": "images/benchmarks_sweep.png"},
                                "python benchmarks/bench.py --out docs/benchmarks.md")
    assert "    python benchmarks/bench.py --out docs/benchmarks.md" in md
    assert "| seed: scratchnet / PyTorch | 0.50× | ≤ 0.50× | met |" in md
    assert "| scratchnet | 0.200 | 0.200 – 0.200 | 1.00× | median of 2 epochs after 1 warm-up |" in md
    assert "| JAX (jit, lax.scan) | 0.250 | 0.250 – 0.250 | 0.80× | median of 1 epoch after 1 warm-up; " \
           "compiling the epoch took 1.50 s more, once |" in md
    assert "| scikit-learn | — | — | — | skipped (not installed) |" in md
    assert "| floor | 0.128 | — | 1.56× | 19.2 GFLOP at the peak rate |" in md
    # the sweep in milliseconds per step: 0.064 s / 64 steps = 1 ms
    assert "| 100 | 784 → 100 → 100 → 10 | 1.00 | 2.00 | 4.00 | 0.50 | 0.50× | 0.25× | 2.00× |" in md
    assert "![seconds per epoch](images/benchmarks.png)" in md and "images/benchmarks_sweep.png" in md
    assert "320,680 per image for the seed network" in md and "Test CPU" in md


def test_every_report_names_the_blas_kernel_and_the_pinning():
    results = _results()
    results["machine"] = dict(results["machine"], blas_kernel="openblas: SkylakeX", vector_extensions="AVX-512",
                              pinning={"set": {}, "removed": "OPENBLAS_CORETYPE=Haswell,OPENBLAS_L2_SIZE=512"})
    sentence = ("BLAS kernel: openblas: SkylakeX (threadpoolctl's `architecture`), on a CPU that exposes AVX-512; "
                "run without OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512 (removed from the calling "
                "environment, as a user's NumPy runs).")
    assert sentence in report.render_markdown(results) and sentence in report.summary_text(results)
    results["machine"]["pinning"] = {"set": {"OPENBLAS_CORETYPE": "Haswell"}, "removed": ""}
    assert "; pinned by OPENBLAS_CORETYPE=Haswell." in report.summary_text(results)


def test_worker_environment_drops_only_the_pinning(monkeypatch):
    env = timing.unpinned_env({"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512", "PATH": "/bin",
                               "OPENBLAS_NUM_THREADS": "2"})
    assert env == {"PATH": "/bin", "OPENBLAS_NUM_THREADS": "2",
                   timing.REMOVED: "OPENBLAS_CORETYPE=Haswell,OPENBLAS_L2_SIZE=512"}
    assert timing.unpinned_env({"PATH": "/bin"}) == {"PATH": "/bin"}
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert "OPENBLAS_CORETYPE" not in timing.thread_env(1) and timing.thread_env(1)["OPENBLAS_NUM_THREADS"] == "1"
    assert timing.pinned() == ["OPENBLAS_CORETYPE"]


def test_a_pinned_caller_runs_the_benchmark_in_an_unpinned_worker(tmp_path):
    # the real kernel a worker gets: the same script, run with the pin, reports no pin of its own
    script = tmp_path / "probe.py"
    script.write_text("import os, sys\n"
                      f"sys.path.insert(0, {str(ROOT)!r})\n"
                      "from benchmarks import timing\n"
                      "if timing.pinned():\n"
                      "    sys.exit(timing.run_unpinned(__file__))\n"
                      "print(os.environ.get(timing.REMOVED), timing.blas_kernel())\n")
    env = dict(os.environ, OPENBLAS_L2_SIZE="512")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    removed, kernel = result.stdout.split(" ", 1)
    assert removed == "OPENBLAS_L2_SIZE=512" and kernel.startswith("openblas: ")


def test_markdown_warns_about_a_busy_machine():
    assert "Noisy run" not in report.render_markdown(_results())
    busy = _results()
    busy["machine"] = dict(busy["machine"], load_average=[4.3, 0, 0], load_average_after=[7.1, 0, 0])
    assert "**Noisy run**: other work shared the machine (1-minute load average 4.3 at the start, 7.1" \
        in report.render_markdown(busy)


def test_a_run_s_own_threads_do_not_make_it_noisy():
    # a 2-thread run on a quiet 2-CPU machine ends at a load of about 2: its own peers, not other work
    own = _results()
    own["settings"] = dict(own["settings"], threads=2)
    own["machine"] = dict(own["machine"], cpus=2, load_average=[0.6, 0, 0], load_average_after=[2.0, 0, 0])
    assert "Noisy run" not in report.render_markdown(own)
    own["machine"]["load_average_after"] = [3.4, 0, 0]           # more than its own two threads and a half
    assert "**Noisy run**" in report.render_markdown(own)
    own["settings"]["threads"], own["machine"]["load_average_after"] = 1, [2.6, 0, 0]
    assert "**Noisy run**" in report.render_markdown(own)          # a 1-thread run has one thread of its own


def test_figures_are_written(tmp_path):
    paths = report.write(_results(), tmp_path / "benchmarks.md", "python benchmarks/bench.py")
    assert [p.name for p in paths] == ["benchmarks.md", "benchmarks.png", "benchmarks_sweep.png"]
    assert all(p.stat().st_size > 10_000 for p in paths[1:])


def test_reproduce_command_names_only_what_differs():
    s = bench.Settings(epochs=2, n_train=1000, peers=("scratchnet", "jax", "sklearn"), threads=2,
                       sweep_widths=(16,), wide=False)
    assert bench.reproduce_command(s, "docs/benchmarks.md") == \
        "python benchmarks/bench.py --epochs 2 --n-train 1000 --threads 2 --sweep-widths '16' --skip-torch " \
        "--skip-wide --out docs/benchmarks.md"
    assert bench.reproduce_command(bench.Settings(), "b.md") == "python benchmarks/bench.py --out b.md"


def test_command_line_round_trips_through_reproduce_command():
    s = bench.Settings(epochs=2, n_train=1000, peers=("scratchnet", "pytorch"), sweep_widths=(16, 32),
                       memory=False, profile=False)
    argv = bench.reproduce_command(s, None).split()[2:]
    parsed, out, as_json = bench.parse_args([a.strip("'") for a in argv])
    assert parsed == s and out is None and not as_json


def _run(*args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_bench_end_to_end_on_a_tiny_set(tmp_path):
    out = tmp_path / "benchmarks.md"
    result = _run("--epochs", "2", "--wide-epochs", "1", "--n-train", "512", "--train-epochs", "1",
                  "--sweep-widths", "16,32", "--sweep-n-train", "256", "--sweep-epochs", "1",
                  "--skip-torch", "--skip-sklearn", "--skip-jax", "--skip-memory", "--no-profile",
                  "--threads", "1", "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)                          # exactly one JSON object
    seed = data["networks"]["seed"]
    assert seed["flop_per_image"] == 320_680 and seed["flop_per_epoch"] == 320_680 * 512
    sn = seed["peers"]["scratchnet"]
    assert len(sn["epoch_seconds"]) == 3 and sn["min"] <= sn["median"] <= sn["max"]
    assert set(seed["peers"]) == {"scratchnet"} and seed["ratios"]["floor"] > 0
    assert len(data["networks"]["wide"]["peers"]["scratchnet"]["epoch_seconds"]) == 2
    assert [r["width"] for r in data["sweep"]["rows"]] == [16, 32] and data["sweep"]["steps"] == 2
    assert data["accuracy"]["history"][0]["epoch"] == 1 and data["memory"] is None
    assert data["settings"]["threads"] == 1 and data["machine"]["threads"] == 1
    md = out.read_text()
    assert "--n-train 512" in md and "| seed: scratchnet / PyTorch | — |" in md
    assert (tmp_path / "images" / "benchmarks.png").stat().st_size > 10_000
    assert (tmp_path / "images" / "benchmarks_sweep.png").stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["--n-train", "10"], "bench: error: --n-train must be at least the batch size 128, got 10"),
    (["--epochs", "0"], "bench: error: --epochs must be at least 1, got 0"),
    (["--sweep-widths", "1,x"], "bench: error: argument --sweep-widths: expected comma-separated integers"),
    (["--out", "/no/such/folder/b.md"], "bench: error: cannot write /no/such/folder/b.md: folder"),
])
def test_bad_input_is_one_line(args, message):
    result = _run(*args)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_peak_memory_of_a_real_train_run():
    memory = training_runs.peak_memory_of_train(["--epochs", "1", "--batch-size", "512"], threads=1)
    assert memory["command"] == "scratchnet train --epochs 1 --batch-size 512"
    assert 30e6 < memory["peak_bytes"] < 4e9               # at least Python + NumPy + MNIST, not absurd


def test_a_failing_train_run_is_reported():
    with pytest.raises(training_runs.MeasureError, match="failed while measuring its memory"):
        training_runs.peak_memory_of_train(["--epochs", "0"])


def test_profile_groups_the_epoch_by_what_it_does():
    pytest.importorskip("pyinstrument")
    from scratchnet.data import load_mnist
    X, y = load_mnist("train")
    prof = training_runs.profile_epoch(X[:8192], y[:8192], 128, 2e-3, 0)
    names = {c["name"] for c in prof["categories"]}
    assert any(n.startswith("forward pass") for n in names) and any(n.startswith("backward") for n in names)
    assert abs(sum(c["share"] for c in prof["categories"]) - 1) < 1e-9
    assert np.isclose(sum(c["seconds"] for c in prof["functions"]),
                      sum(c["seconds"] for c in prof["categories"]))
