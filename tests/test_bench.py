"""The benchmark harness: FLOP count, GEMM shapes, the target table and markdown, the command end to end.

No test here asserts a speed: speed is checked by running the benchmark, never by a timed test.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from scratchnet import bench
from scratchnet.cli import cli


def test_flop_per_image_of_the_seed_network():
    # forward 2·(784·100 + 100·10 + 10·10), the same for weight gradients, input gradients of layers 2, 3
    assert bench.flops_per_image([784, 100, 10, 10]) == 320_200
    assert bench.flops_per_image([784, 100, 10, 10]) == 2 * 79_500 * 2 + 2 * (100 * 10 + 10 * 10)


def test_flop_count_follows_the_layer_sizes():
    # one layer: no input gradient; a hidden layer adds its input gradient 2·n_1·n_2
    assert bench.flops_per_image([5, 3]) == 2 * (2 * 5 * 3)
    assert bench.flops_per_image([5, 3, 2]) == 2 * (2 * 5 * 3 + 2 * 3 * 2) + 2 * 3 * 2


def test_matmul_shapes_are_the_steps_products():
    shapes = bench.matmul_shapes([784, 100, 10, 10], 128)
    kinds = [s["kind"] for s in shapes]
    assert kinds.count("forward") == 3 and kinds.count("weight gradient") == 3
    assert kinds.count("input gradient") == 2
    first = [(s["m"], s["k"], s["n"]) for s in shapes[:2]]
    assert first == [(128, 784, 100), (784, 128, 100)]     # H0 W1 and H0ᵀ δ1


def test_time_matmul_returns_a_positive_time_per_call():
    seconds = bench.time_matmul(8, 4, 3, transpose="a", min_seconds=0.001)
    assert 0 < seconds < 1


def _results(**over):
    frameworks = {
        "scratchnet": {"epoch_seconds": [0.5, 0.2, 0.3, 0.25], "warmup": 1, "median": 0.25, "min": 0.2,
                       "max": 0.3},
        "pytorch": {"epoch_seconds": [0.9, 1.0], "warmup": 1, "median": 1.0, "min": 1.0, "max": 1.0},
        "sklearn": {"skipped": "not installed"},
    }
    results = {
        "settings": {"batch_size": 128, "lr": 2e-3, "n_train": 60000, "threads": 2},
        "machine": {"cpu": "Test CPU", "cpus": 2, "cpus_usable": 2, "threads": 2, "platform": "test",
                    "blas": "openblas", "blas_runtime": "openblas", "load_average": [0.1, 0, 0],
                    "load_average_after": [0.2, 0, 0], "versions": {"python": "3", "numpy": "2"}},
        "network": "784 → 100 σ → 10 σ → 10 softmax",
        "flop_per_image": 320_200, "flop_per_epoch": 320_200 * 60000,
        "gemm": {"square": {"side": 2048, "gflops": 150.0},
                 "shapes": [dict(name="H0 W1", kind="forward", m=128, k=784, n=100, transpose=None,
                                 seconds_per_call=1e-4, gflops=200.0, calls_per_epoch=469)],
                 "seconds_per_epoch": 0.0469},
        "floor_seconds": 0.128, "frameworks": frameworks,
        "ratios": {"pytorch": 0.25, "sklearn": None, "floor": 0.25 / 0.128},
        "memory": {"peak_bytes": 350e6, "command": "scratchnet train"},
        "accuracy": {"goal": 0.98, "reached": True, "seconds": 16.0, "epoch": 9, "accuracy": 0.981,
                     "recipe": {"epochs": 30, "batch_size": 64, "schedule": "cosine", "shift": 2},
                     "history": [{"epoch": 9, "seconds": 16.0, "test_accuracy": 0.981}]},
        "profile": None,
    }
    results.update(over)
    return results


def test_target_rows_compare_with_issue_6():
    rows = bench.target_rows(_results())
    assert rows == [
        ("scratchnet / PyTorch", "0.25×", "≤ 0.40×", "met"),
        ("scratchnet / scikit-learn", "—", "≤ 0.45×", "—"),
        ("scratchnet / floor", "1.95×", "≤ 2.00×", "met"),
        ("peak memory of `scratchnet train`", "350 MB", "≤ 400 MB", "met"),
        ("time to 98% test accuracy", "16.0 s (epoch 9)", "≤ 15 s", "not met"),
    ]


def test_target_rows_when_98_percent_is_not_reached():
    acc = dict(_results()["accuracy"], reached=False, epoch=None, accuracy=0.975, seconds=40.0)
    assert bench.target_rows(_results(accuracy=acc, memory=None))[3:] == [
        ("peak memory of `scratchnet train`", "—", "≤ 400 MB", "—"),
        ("time to 98% test accuracy", "not reached (best 97.50% after 40.0 s)", "≤ 15 s", "not met"),
    ]


def test_markdown_has_the_tables_figure_and_command():
    md = bench.render_markdown(_results(), "images/benchmarks.png", "scratchnet bench --out docs/benchmarks.md")
    assert "    scratchnet bench --out docs/benchmarks.md" in md
    assert "| scratchnet / PyTorch | 0.25× | ≤ 0.40× | met |" in md
    assert "| scratchnet | 0.250 | 0.200 – 0.300 | median of 3 epochs after 1 warm-up |" in md
    assert "| scikit-learn | — | — | skipped (not installed) |" in md
    assert "| floor | 0.128 | — | 19.2 GFLOP at 150 GFLOP/s |" in md
    assert "![seconds per epoch](images/benchmarks.png)" in md
    assert "Test CPU" in md


def test_markdown_warns_about_a_busy_machine():
    quiet = bench.render_markdown(_results())
    assert "Noisy run" not in quiet
    busy = _results()
    busy["machine"] = dict(busy["machine"], load_average=[4.3, 0, 0], load_average_after=[7.1, 0, 0])
    assert "**Noisy run**: other work shared the machine (1-minute load average 4.3 at the start, 7.1" \
        in bench.render_markdown(busy)


def test_reproduce_command_names_only_what_differs():
    s = bench.Settings(epochs=2, n_train=1000, torch=False, threads=2)
    assert bench.reproduce_command(s, "docs/benchmarks.md") == \
        "scratchnet bench --epochs 2 --n-train 1000 --skip-torch --threads 2 --out docs/benchmarks.md"
    assert bench.reproduce_command(bench.Settings(), "b.md") == "scratchnet bench --out b.md"


def test_bench_command_end_to_end(tmp_path):
    out = tmp_path / "benchmarks.md"
    result = CliRunner().invoke(cli, ["bench", "--epochs", "2", "--n-train", "512", "--train-epochs", "1",
                                      "--skip-torch", "--skip-sklearn", "--skip-memory", "--no-profile",
                                      "--threads", "1", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)                          # exactly one JSON object
    assert data["flop_per_image"] == 320_200 and data["flop_per_epoch"] == 320_200 * 512
    sn = data["frameworks"]["scratchnet"]
    assert len(sn["epoch_seconds"]) == 3 and sn["min"] <= sn["median"] <= sn["max"]
    assert data["frameworks"]["pytorch"] == {"skipped": "not asked for"}
    assert data["ratios"]["pytorch"] is None and data["ratios"]["floor"] > 0
    assert data["accuracy"]["history"][0]["epoch"] == 1 and data["memory"] is None
    assert data["settings"]["threads"] == 1 and data["machine"]["threads"] == 1
    md = out.read_text()
    assert "--n-train 512" in md and "| scratchnet / PyTorch | — |" in md
    assert (tmp_path / "images" / "benchmarks.png").stat().st_size > 10_000


def test_peak_memory_of_a_real_train_run():
    memory = bench.peak_memory_of_train(["--epochs", "1", "--batch-size", "512"], threads=1)
    assert memory["command"] == "scratchnet train --epochs 1 --batch-size 512"
    assert 30e6 < memory["peak_bytes"] < 4e9               # at least Python + NumPy + MNIST, not absurd


def test_a_failing_train_run_is_reported(tmp_path):
    with pytest.raises(bench.ScratchnetError, match="failed while measuring its memory"):
        bench.peak_memory_of_train(["--epochs", "0"])


def test_bench_refuses_too_few_images():
    result = CliRunner().invoke(cli, ["bench", "--n-train", "10"])
    assert result.exit_code != 0 and "--n-train must be at least the batch size" in str(result.exception)


def test_profile_groups_the_epoch_by_what_it_does():
    pytest.importorskip("pyinstrument")
    from scratchnet.data import load_mnist
    X, y = load_mnist("train")
    prof = bench.profile_epoch(X[:8192], y[:8192], bench.Settings())
    names = {c["name"] for c in prof["categories"]}
    assert any(n.startswith("forward pass") for n in names) and any(n.startswith("backward") for n in names)
    assert abs(sum(c["share"] for c in prof["categories"]) - 1) < 1e-9
    assert np.isclose(sum(c["seconds"] for c in prof["functions"]),
                      sum(c["seconds"] for c in prof["categories"]))
