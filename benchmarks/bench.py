"""How fast scratchnet trains, against JAX, PyTorch, scikit-learn and this machine's compute floor.

    python benchmarks/bench.py --out docs/benchmarks.md       # everything (about 10 minutes on 2 cores)
    python benchmarks/bench.py --help

One run measures, on the same MNIST images and settings (sigmoid hidden layers, softmax output,
Adam, batch 128, float32, no augmentation):

- **seconds per epoch** of scratchnet and its peers (`timing`), their epochs taken in turns, on the seed
  network ``784 → 100 σ → 10 σ → 10 softmax`` and on a wide one ``784 → 1024 σ → 1024 σ → 10 softmax``;
- **a width sweep**: ``784 → w σ → w σ → 10`` for several hidden widths ``w`` on a subset of the images,
  to show how each peer's step grows with the network;
- **the compute floor** (`floor`): the epoch's matrix FLOP at the machine's peak float32 GEMM rate, and
  each product of a step timed at its real shape, with the same BLAS kernel as the peers' runs;
- **peak memory** of ``scratchnet train``, **the time to 98 % test accuracy** with the default recipe and a
  **profile** of one seed-network epoch (`training_runs`).

`report` writes the Markdown and the figures. Speed is checked here, never by a timed test.

Measured as users run it: when the calling environment pins OpenBLAS's kernel (``OPENBLAS_CORETYPE``,
``OPENBLAS_L2_SIZE``, see `timing.PINNING`), the script runs itself again in a worker process without
them; every report names the kernel OpenBLAS used (threadpoolctl's ``architecture``).
"""

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):              # run as a script: make the ``benchmarks`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scratchnet as sn                                                         # noqa: E402
from scratchnet.training import Recipe                                          # noqa: E402

from benchmarks import floor, report, timing, training_runs                     # noqa: E402

WIDE_SIZES = (784, 1024, 1024, 10)
SWEEP_WIDTHS = (100, 256, 1024, 2048)
HIDDEN = "sigmoid"


@dataclass
class Settings:
    """What one benchmark run measures, and how."""

    epochs: int = 5
    """Timed epochs per peer on the seed network (the median is reported), after `warmup` untimed ones."""
    wide_epochs: int = 3
    """Timed epochs per peer on the wide network."""
    warmup: int = 1
    batch_size: int = 128
    threads: int | None = None
    """Threads for BLAS, numexpr, XLA and PyTorch; None: the CPUs this process may run on."""
    n_train: int | None = None
    """Use only the first N training images for the seed and wide networks (None: all 60,000)."""
    lr: float = 2e-3
    seed: int = 0
    peers: tuple = timing.PEERS
    """Peers to time; scratchnet is always one of them."""
    wide: bool = True
    sweep_widths: tuple = SWEEP_WIDTHS
    """Hidden widths of the sweep (empty: no sweep)."""
    sweep_n_train: int = 8192
    sweep_epochs: int = 2
    memory: bool = True
    accuracy: bool = True
    profile: bool = True
    train_epochs: int | None = None
    """Epochs of the default recipe for the memory and 98 % runs (None: the default, `Recipe().epochs`)."""
    sweep_peers: tuple = field(default=("scratchnet", "jax", "pytorch"))
    """Peers of the sweep (scikit-learn, the slowest to run, is left out by default)."""

    def check(self):
        """Raise `SettingsError` for a value no run could use."""
        for name in ("epochs", "wide_epochs", "batch_size", "sweep_epochs", "sweep_n_train"):
            if getattr(self, name) < 1:
                raise SettingsError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise SettingsError(f"--warmup must be 0 or more, got {self.warmup}")
        if self.threads is not None and self.threads < 1:
            raise SettingsError(f"--threads must be at least 1, got {self.threads}")
        if self.n_train is not None and self.n_train < self.batch_size:
            raise SettingsError(f"--n-train must be at least the batch size {self.batch_size}, got {self.n_train}")
        if self.sweep_widths and self.sweep_n_train < self.batch_size:
            raise SettingsError(f"--sweep-n-train must be at least the batch size {self.batch_size}, "
                                f"got {self.sweep_n_train}")
        if any(w < 1 for w in self.sweep_widths):
            raise SettingsError(f"--sweep-widths must be positive integers, got {list(self.sweep_widths)}")
        unknown = set(self.peers) - set(timing.PEERS)
        if unknown:
            raise SettingsError(f"unknown peer {sorted(unknown)[0]!r}; choose from {', '.join(timing.PEERS)}")
        if self.train_epochs is not None and self.train_epochs < 1:
            raise SettingsError(f"--train-epochs must be at least 1, got {self.train_epochs}")


class SettingsError(Exception):
    """A setting no run could use (the message names the flag)."""


def networks(settings):
    """The networks to time: ``[(key, sizes, activations, timed epochs)]``, the seed one first."""
    nets = [("seed", tuple(sn.SEED_SIZES), tuple(sn.SEED_ACTIVATIONS), settings.epochs)]
    if settings.wide:
        nets.append(("wide", WIDE_SIZES, (HIDDEN, HIDDEN, "softmax"), settings.wide_epochs))
    return nets


def ratios(peers, floor_seconds, products_seconds=None):
    """scratchnet's median epoch divided by each peer's, by the floor and (``"products"``) by the epoch's
    products alone at their measured rates (None where not measured)."""
    sn_median = peers["scratchnet"]["median"]
    out = {name: sn_median / r["median"] if "median" in r else None
           for name, r in peers.items() if name != "scratchnet"}
    out["floor"] = sn_median / floor_seconds
    out["products"] = None if products_seconds is None else sn_median / products_seconds
    return out


def run_benchmark(settings=None, progress=None):
    """Measure everything in this module's docstring; returns one JSON-ready dict.

    ``progress`` is an optional callable ``(message)`` told what is being measured.
    """
    settings = settings or Settings()
    settings.check()
    say = progress or (lambda message: None)
    threads = settings.threads or timing.default_threads()
    os.environ["SCRATCHNET_THREADS"] = str(threads)         # scratchnet's blocked kernels (scratchnet.fused)
    peers = ("scratchnet",) + tuple(p for p in timing.PEERS if p != "scratchnet" and p in settings.peers)
    X, y = sn.load_mnist("train")
    X_all, y_all = X, y
    if settings.n_train is not None:
        X, y = X[:settings.n_train], y[:settings.n_train]
    out = {"settings": asdict(settings) | {"threads": threads, "n_train": len(X), "peers": list(peers)},
           "machine": timing.machine_info(threads), "networks": {}}
    with timing.limit_threads(threads):
        say(f"peak float32 GEMM rate ({threads} threads, {floor.SQUARE}² product)")
        gflops = out["peak_gflops"] = floor.peak_gflops()
        for key, sizes, activations, epochs in networks(settings):
            say(f"{key} network {sn.architecture_text(sizes, activations)}")
            net = {"sizes": list(sizes), "architecture": sn.architecture_text(sizes, activations),
                   "n_train": len(X), "flop_per_image": floor.flops_per_image(sizes),
                   "floor_seconds": floor.floor_seconds(sizes, len(X), gflops),
                   "gemm": floor.measure_gemm(sizes, settings.batch_size, len(X))}
            net["flop_per_epoch"] = net["flop_per_image"] * len(X)
            net["peers"] = timing.time_epochs(peers, X, y, sizes, activations, settings.warmup, epochs,
                                              settings.batch_size, settings.lr, settings.seed, threads, say)
            net["ratios"] = ratios(net["peers"], net["floor_seconds"], net["gemm"]["seconds_per_epoch"])
            out["networks"][key] = net
        out["sweep"] = None
        if settings.sweep_widths:
            out["sweep"] = sweep(X_all[:settings.sweep_n_train], y_all[:settings.sweep_n_train], settings,
                                 threads, gflops, say)
        out["profile"] = None
        if settings.profile:
            say("profile of one scratchnet epoch (pyinstrument)")
            out["profile"] = training_runs.profile_epoch(X, y, settings.batch_size, settings.lr, settings.seed)
        out["accuracy"] = None
        if settings.accuracy:
            recipe = Recipe() if settings.train_epochs is None else Recipe(epochs=settings.train_epochs)
            say(f"time to {training_runs.ACCURACY_GOAL:.0%} test accuracy (default recipe, up to "
                f"{recipe.epochs} epochs)")
            X_test, y_test = sn.load_mnist("test")
            out["accuracy"] = training_runs.time_to_accuracy(X_all, y_all, X_test, y_test, recipe)
    out["memory"] = None
    if settings.memory:
        extra = [] if settings.train_epochs is None else ["--epochs", settings.train_epochs]
        say("peak memory of scratchnet train " + " ".join(map(str, extra)))
        out["memory"] = training_runs.peak_memory_of_train(extra, threads)
    out["machine"]["load_average_after"] = timing.load_average()
    return out


def sweep(X, y, settings, threads, gflops, say):
    """Seconds per epoch of ``784 → w σ → w σ → 10`` for each width ``w`` of the settings, on ``X``.

    Returns
    -------
    dict with ``n_train``, ``steps`` (batches per epoch) and ``rows``: per width ``width``, ``sizes``,
    ``floor_seconds`` and ``peers`` (as `timing.time_epochs`)
    """
    rows = []
    for width in settings.sweep_widths:
        sizes = (X.shape[1], width, width, 10)
        say(f"width sweep: {sn.architecture_text(sizes, (HIDDEN, HIDDEN, 'softmax'))} on {len(X):,} images")
        peers = timing.time_epochs(("scratchnet",) + tuple(p for p in settings.sweep_peers
                                                           if p != "scratchnet" and p in settings.peers),
                                   X, y, sizes, (HIDDEN, HIDDEN, "softmax"), settings.warmup,
                                   settings.sweep_epochs, settings.batch_size, settings.lr, settings.seed,
                                   threads)
        floor_s = floor.floor_seconds(sizes, len(X), gflops)
        rows.append({"width": width, "sizes": list(sizes), "floor_seconds": floor_s, "peers": peers,
                     "ratios": ratios(peers, floor_s)})
    return {"n_train": len(X), "steps": -(-len(X) // settings.batch_size), "rows": rows}


# ---------------------------------------------------------------------------------------- command line

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line, no usage block: ``bench: error: ...``, exit status 2."""
        self.exit(2, f"bench: error: {message}\n")


def _widths(text):
    try:
        return tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 100,256, got {text!r}")


def parse_args(argv):
    """The settings, ``--out`` and ``--json`` from the command line."""
    d = Settings()
    p = _Parser(prog="bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"timed epochs per peer, seed network [{d.epochs}]")
    p.add_argument("--wide-epochs", type=int, default=d.wide_epochs,
                   help=f"timed epochs per peer, wide network [{d.wide_epochs}]")
    p.add_argument("--warmup", type=int, default=d.warmup, help=f"untimed epochs first [{d.warmup}]")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"[{d.batch_size}]")
    p.add_argument("--threads", type=int, default=None, help="threads for every peer [the CPUs this process may use]")
    p.add_argument("--n-train", type=int, default=None, help="time on the first N training images [all 60,000]")
    p.add_argument("--sweep-widths", type=_widths, default=d.sweep_widths,
                   help="hidden widths of the sweep, comma-separated; empty for none [100,256,1024,2048]")
    p.add_argument("--sweep-n-train", type=int, default=d.sweep_n_train,
                   help=f"images per sweep epoch [{d.sweep_n_train}]")
    p.add_argument("--sweep-epochs", type=int, default=d.sweep_epochs, help=f"timed sweep epochs [{d.sweep_epochs}]")
    p.add_argument("--train-epochs", type=int, default=None,
                   help="epochs of the default recipe for the memory and 98 %% runs [the recipe's]")
    for peer in ("jax", "torch", "sklearn"):
        p.add_argument(f"--skip-{peer}", action="store_true", help=f"do not time {peer}")
    p.add_argument("--skip-wide", action="store_true", help="do not time the wide network")
    p.add_argument("--skip-memory", action="store_true", help="do not measure the peak memory of scratchnet train")
    p.add_argument("--skip-accuracy", action="store_true", help="do not measure the time to 98 %% accuracy")
    p.add_argument("--no-profile", action="store_true", help="do not profile a scratchnet epoch")
    p.add_argument("--out", default=None, help="write the Markdown report here and its figures to images/ beside it")
    p.add_argument("--json", action="store_true", help="print one JSON object; progress goes to stderr")
    a = p.parse_args(argv)
    skipped = {"jax": a.skip_jax, "pytorch": a.skip_torch, "sklearn": a.skip_sklearn}
    settings = Settings(epochs=a.epochs, wide_epochs=a.wide_epochs, warmup=a.warmup, batch_size=a.batch_size,
                        threads=a.threads, n_train=a.n_train,
                        peers=tuple(x for x in timing.PEERS if not skipped.get(x)), wide=not a.skip_wide,
                        sweep_widths=a.sweep_widths, sweep_n_train=a.sweep_n_train, sweep_epochs=a.sweep_epochs,
                        memory=not a.skip_memory, accuracy=not a.skip_accuracy, profile=not a.no_profile,
                        train_epochs=a.train_epochs)
    return settings, a.out, a.json


def reproduce_command(settings, out):
    """The command line that repeats a run with these settings."""
    default, parts = Settings(), ["python benchmarks/bench.py"]
    for name in ("epochs", "wide_epochs", "warmup", "batch_size", "n_train", "sweep_n_train", "sweep_epochs",
                 "train_epochs", "threads"):
        if getattr(settings, name) != getattr(default, name):
            parts.append(f"--{name.replace('_', '-')} {getattr(settings, name)}")
    if tuple(settings.sweep_widths) != default.sweep_widths:
        parts.append(f"--sweep-widths '{','.join(map(str, settings.sweep_widths))}'")
    for peer, flag in (("jax", "--skip-jax"), ("pytorch", "--skip-torch"), ("sklearn", "--skip-sklearn")):
        if peer not in settings.peers:
            parts.append(flag)
    for name, flag in (("wide", "--skip-wide"), ("memory", "--skip-memory"), ("accuracy", "--skip-accuracy"),
                       ("profile", "--no-profile")):
        if not getattr(settings, name):
            parts.append(flag)
    if out is not None:
        parts.append(f"--out {out}")
    return " ".join(parts)


def main(argv=None):
    settings, out, as_json = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings.check()
        if out is not None and not Path(out).parent.is_dir():
            raise SettingsError(f"cannot write {out}: folder {Path(out).parent} does not exist")
        results = run_benchmark(settings, progress=lambda m: print(f"measuring {m} …", file=sys.stderr))
    except (SettingsError, training_runs.MeasureError, sn.ScratchnetError) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    if out is not None:
        results["report"] = [str(p) for p in report.write(results, out, reproduce_command(settings, out))]
    if as_json:
        print(json.dumps(results))
    else:
        print(report.summary_text(results))
        if out is not None:
            print("wrote " + ", ".join(results["report"]))
    return 0


if __name__ == "__main__":
    # OpenBLAS picks its kernel when NumPy loads: a pinned environment is measured in a worker without the pins
    sys.exit(timing.run_unpinned(__file__) if timing.pinned() else main())
