"""The report of a benchmark run: the targets, the tables, ``docs/benchmarks.md`` and its two figures."""

from pathlib import Path

from .floor import SQUARE, gemm_seconds_by_kind
from .timing import NAMES, PEERS

MB = 1e6
RATIO_TARGETS = (("seed", "jax", 1.0), ("seed", "pytorch", 0.5), ("wide", "jax", 1.15), ("wide", "pytorch", 0.5),
                 ("wide", "products", 1.15), ("wide", "floor", 1.15))
"""Issue 21: scratchnet's median epoch over a peer's, or over a products-only floor: the step's products
alone at their real shapes and measured rates (``products``), and the epoch's FLOP at the peak GEMM rate
(``floor``, the stricter reading), measured in one run with the CPU's own BLAS kernel, at 1 and at 2
threads."""
SECONDS_TO_98 = 3.0
"""Issue 21: 98 % test accuracy with the default recipe within 3 s of training."""
MEMORY_MB = 400.0
"""Issue 6: peak memory of the default ``scratchnet train`` ≤ 400 MB."""
NETWORK_TITLES = {"seed": "Seed network", "wide": "Wide network"}
COLOURS = {"scratchnet": "#d62728", "jax": "#2ca02c", "pytorch": "#1f77b4", "sklearn": "#ff7f0e"}



def _threads(n):
    """``1 thread``, ``2 threads``."""
    return f"{n} thread" + ("" if n == 1 else "s")

def _met(value, target):
    return "—" if value is None else ("met" if value <= target else "not met")


def _ratio_label(network, peer):
    names = {"floor": "floor (FLOP at the peak rate)", "products": "the step's products alone"}
    return f"{network}: scratchnet / " + names.get(peer, NAMES.get(peer, peer).split(" (")[0])


def target_rows(results):
    """The comparison with the targets: a list of ``(measure, value, target, status)`` strings, ``status``
    being ``met``, ``not met`` or ``—`` (not measured)."""
    rows = []
    for network, peer, target in RATIO_TARGETS:
        net = results["networks"].get(network)
        value = None if net is None else net["ratios"].get(peer)
        rows.append((_ratio_label(network, peer), "—" if value is None else f"{value:.2f}×", f"≤ {target:.2f}×",
                     _met(value, target)))
    acc = results.get("accuracy")
    label = f"time to {acc['goal'] if acc else 0.98:.0%} test accuracy"
    if acc is None:
        rows.append((label, "—", f"≤ {SECONDS_TO_98:.0f} s", "—"))
    elif acc["reached"]:
        rows.append((label, f"{acc['seconds']:.1f} s (epoch {acc['epoch']})", f"≤ {SECONDS_TO_98:.0f} s",
                     "met" if acc["seconds"] <= SECONDS_TO_98 else "not met"))
    else:
        rows.append((label, f"not reached (best {acc['accuracy']:.2%} after {acc['seconds']:.1f} s)",
                     f"≤ {SECONDS_TO_98:.0f} s", "not met"))
    memory = results.get("memory")
    mb = None if memory is None else memory["peak_bytes"] / MB
    rows.append(("peak memory of `scratchnet train` (issue 6)", "—" if mb is None else f"{mb:.0f} MB",
                 f"≤ {MEMORY_MB:.0f} MB", _met(mb, MEMORY_MB)))
    return rows


def epoch_rows(net):
    """One network's seconds per epoch: ``(what, median, range, scratchnet ÷ it, how)`` strings, then the
    step's products alone and the floor."""
    rows, sn_median = [], net["peers"]["scratchnet"]["median"]
    for key in PEERS:
        f = net["peers"].get(key)
        if f is None:
            continue
        if "median" not in f:
            rows.append((NAMES[key], "—", "—", "—", f"skipped ({f['skipped']})"))
            continue
        timed = len(f["epoch_seconds"]) - f["warmup"]
        how = f"median of {timed} epoch{'s' * (timed != 1)} after {f['warmup']} warm-up"
        if "compile_seconds" in f:
            how += f"; compiling the epoch took {f['compile_seconds']:.2f} s more, once"
        rows.append((NAMES[key], f"{f['median']:.3f}", f"{f['min']:.3f} – {f['max']:.3f}",
                     f"{sn_median / f['median']:.2f}×", how))
    g = net["gemm"]
    rows.append(("the step's products alone", f"{g['seconds_per_epoch']:.3f}", "—",
                 f"{sn_median / g['seconds_per_epoch']:.2f}×",
                 "every matmul of an epoch at its real shape and measured rate"))
    rows.append(("floor", f"{net['floor_seconds']:.3f}", "—", f"{sn_median / net['floor_seconds']:.2f}×",
                 f"{net['flop_per_epoch'] / 1e9:.1f} GFLOP at the peak rate"))
    return rows


def sweep_rows(sweep):
    """The width sweep: per width, milliseconds per step of each peer and the floor, and the ratios."""
    peers = [p for p in PEERS if any("median" in r["peers"].get(p, {}) for r in sweep["rows"])]
    header = (["width", "network"] + [f"{NAMES[p].split(' (')[0]} ms/step" for p in peers] + ["floor ms/step"]
              + [f"scratchnet / {NAMES[p].split(' (')[0]}" for p in peers if p != "scratchnet"]
              + ["scratchnet / floor"])
    rows = []
    for r in sweep["rows"]:
        ms = [f"{r['peers'][p]['median'] / sweep['steps'] * 1e3:.2f}" if "median" in r["peers"].get(p, {}) else "—"
              for p in peers]
        ratio = [f"{r['ratios'][p]:.2f}×" if r["ratios"].get(p) is not None else "—"
                 for p in peers if p != "scratchnet"]
        rows.append([r["width"], f"784 → {r['width']} → {r['width']} → 10", *ms,
                     f"{r['floor_seconds'] / sweep['steps'] * 1e3:.2f}", *ratio, f"{r['ratios']['floor']:.2f}×"])
    return header, rows


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def kernel_text(machine):
    """One sentence: which BLAS kernel ran, on which CPU extensions, and whether OpenBLAS was pinned."""
    pinning = machine.get("pinning") or {}
    text = (f"BLAS kernel: {machine.get('blas_kernel', 'unknown')} (threadpoolctl's `architecture`), on a CPU "
            f"that exposes {machine.get('vector_extensions', 'unknown')}")
    if pinning.get("set"):
        return text + "; pinned by " + ", ".join(f"{k}={v}" for k, v in pinning["set"].items()) + "."
    if pinning.get("removed"):
        return text + "; run without " + pinning["removed"].replace(",", " and ") + \
            " (removed from the calling environment, as a user's NumPy runs)."
    return text + "; the environment pinned no kernel (no OPENBLAS_CORETYPE, no OPENBLAS_L2_SIZE)."


def _busy_note(machine, threads=None):
    """A warning line when other work shared the machine: a 1-minute load average above half its CPUs
    at the start, or at the end above that plus the ``threads`` the run's own peers kept busy during
    its last minute (a 2-thread run on a quiet 2-CPU machine ends at a load of about 2)."""
    load, after = machine.get("load_average"), machine.get("load_average_after")
    own = min(threads or machine["cpus"], machine["cpus"])
    if not load or (load[0] <= 0.5 * machine["cpus"] and (after or load)[0] <= own + 0.5 * machine["cpus"]):
        return []
    return [f"**Noisy run**: other work shared the machine (1-minute load average {load[0]:.1f} at the start, "
            f"{(after or load)[0]:.1f} at the end, of which about {own} was this run's own threads, on "
            f"{machine['cpus']} CPUs), so every number here is slowed by an unknown amount. The peers' epochs "
            "were taken in turns, so the ratios are fairer than the seconds, but still noisier than on a "
            "quiet machine.", ""]


def render_markdown(results, images=None, command=None):
    """``docs/benchmarks.md``: targets, tables, figures (``images``: paths relative to the document,
    ``{"epochs": …, "sweep": …}``), GEMM rates, profile, machine and the command that reproduces it."""
    m, s = results["machine"], results["settings"]
    v, images = m["versions"], images or {}
    load = m.get("load_average")
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/bench.py` (the `benchmarks/` folder: `timing.py`, `floor.py`, "
        "`training_runs.py`, `report.py`); do not edit by hand, re-run instead:",
        "",
        "    pip install -e '.[bench,torch]'       # JAX, optax, scikit-learn, pyinstrument; PyTorch",
        f"    {command or 'python benchmarks/bench.py --out docs/benchmarks.md'}",
        "",
        "`python benchmarks/bench.py --help` lists the options (fewer epochs, a subset of the images, "
        "skipping peers or parts). Its tests are opt-in: `python -m pytest -m bench`.",
        "",
        f"Adam (lr {s['lr']}), batch {s['batch_size']}, float32, sigmoid hidden layers, no augmentation, "
        f"{s['n_train']:,} MNIST training images, {_threads(s['threads'])} for every peer; the peers' epochs "
        "are taken in turns (one epoch of each, round after round).",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs ({m['cpus_usable']} usable); {m['platform']}; "
        f"BLAS {m['blas']} — at run time {m['blas_runtime']}; Python {v['python']}, NumPy {v['numpy']}, "
        f"numexpr {v.get('numexpr') or 'not installed'}, numba {v.get('numba') or 'not installed'}, JAX {v.get('jax') or 'not installed'} (optax "
        f"{v.get('optax') or '—'}), PyTorch {v.get('torch') or 'not installed'}, scikit-learn "
        f"{v.get('sklearn') or 'not installed'}."
        + (f" Load average at the start {load[0]:.2f}, at the end {(m.get('load_average_after') or load)[0]:.2f} "
           f"(on {m['cpus']} CPUs; at the start, above 0 means other work shared the machine; at the end "
           f"it counts the run's own {_threads(s['threads'])} too)." if load else ""),
        "",
        kernel_text(m),
        "",
        *_busy_note(m, s['threads']),
        "## Against the targets",
        "",
        _md_table(("measure", "value", "target", "status"), target_rows(results)),
        "",
    ]
    for key, net in results["networks"].items():
        lines += [f"## {NETWORK_TITLES.get(key, key)} {net['architecture']}: seconds per epoch", "",
                  _md_table(("what", "median s/epoch", "range", "scratchnet ÷ this", "how"), epoch_rows(net)), ""]
    if images.get("epochs"):
        lines += [f"![seconds per epoch]({images['epochs']})", ""]
    lines += [
        f"The floor is the epoch's matrix FLOP divided by the float32 rate of a {SQUARE}² GEMM "
        f"({results['peak_gflops']:.0f} GFLOP/s here). The FLOP are derived from the layer sizes: per "
        "layer the forward product `[1 H] W` and the weight gradient `[1 H]ᵀ δ` (bias rows counted), and "
        "the input gradient `δ W̄ᵀ` of every layer after the first ("
        + ", ".join(f"{net['flop_per_image']:,} per image for the {key} network"
                    for key, net in results["networks"].items())
        + "). At a step's own shapes the BLAS is slower; the row \"the step's products alone\" is the time of "
        "the epoch's products at their measured rates.",
        "",
    ]
    sweep = results.get("sweep")
    if sweep:
        header, rows = sweep_rows(sweep)
        lines += ["## How the step grows with the hidden width", "",
                  f"`784 → w σ → w σ → 10 softmax` on the first {sweep['n_train']:,} training images "
                  f"({sweep['steps']} steps of batch {s['batch_size']} per epoch), "
                  f"median of {s['sweep_epochs']} epochs after {s['warmup']} warm-up, in milliseconds per step:",
                  "", _md_table(header, rows), ""]
        if images.get("sweep"):
            lines += [f"![milliseconds per step against the hidden width]({images['sweep']})", ""]
    for key, net in results["networks"].items():
        g = net["gemm"]
        lines += [f"### GEMM rates of the {key} network's step (NumPy, float32)", "",
                  _md_table(("product", "kind", "shape (m×k · k×n)", "µs per call", "GFLOP/s", "calls per epoch"),
                            [(x["name"], x["kind"], f"{x['m']}×{x['k']} · {x['k']}×{x['n']}",
                              f"{x['seconds_per_call'] * 1e6:.1f}", f"{x['gflops']:.1f}", f"{x['calls_per_epoch']:,}")
                             for x in g["shapes"]]), ""]
    lines += [
        "## How each peer is timed",
        "",
        "- **scratchnet**: `scratchnet.training.train` with `Recipe(batch_size, optimizer=\"adam\", "
        "schedule=\"constant\", shift=0, average=0)` (the peers' algorithm: no moving average of the weights); seconds per epoch from its history (shuffle, per-batch uint8 → "
        "float32 conversion, forward, backward, Adam, loss and accuracy bookkeeping). Adam's update, δ_L, "
        "σ′ and the uint8 → float32 `[1 x]` run as their compiled numba twins (`scratchnet.fused`, the NumPy formulas' bits; loaded before "
        "the first epoch's clock starts), the rest is NumPy.",
        "- **JAX**: the whole epoch one `jax.jit`-compiled function (a permutation, `lax.scan` of the step over "
        "the full batches, one step on the last partial batch); the step is `jax.grad` of the mean "
        "`optax.softmax_cross_entropy_with_integer_labels` and `optax.adam`; the images are on the device "
        "once, as float32 divided by 255. Compiling is done ahead of time and reported apart.",
        "- **PyTorch**: `nn.Sequential(Linear, Sigmoid, …, Linear)`, `CrossEntropyLoss`, `torch.optim.Adam`, "
        "`torch.set_num_threads(threads)`; the images are one float32 tensor already divided by 255, batches "
        "are slices of `torch.randperm`; no loss or accuracy bookkeeping.",
        "- **scikit-learn**: `MLPClassifier(hidden sizes, activation=\"logistic\", solver=\"adam\", "
        "alpha=0)` with the same batch size and learning rate; one epoch is one `partial_fit` call on the "
        "whole float32 set (one shuffled pass, what each iteration of `fit` does, plus its input check).",
        "- Each peer is set up and runs its warm-up epochs; then every round takes one epoch of each peer, "
        "the order shifted by one each round; the median of the timed epochs is reported.",
        "",
    ]
    mem, acc = results.get("memory"), results.get("accuracy")
    if mem:
        lines += [f"Peak memory: `{mem['command']}` run as a subprocess, its own `VmHWM` "
                  f"({mem['peak_bytes'] / MB:.0f} MB, 1 MB = 10⁶ bytes).", ""]
    if acc:
        lines += [f"Time to {acc['goal']:.0%}: the seed network with the default recipe (up to "
                  f"{acc['recipe']['epochs']} epochs, batch {acc['recipe']['batch_size']}, {acc['recipe']['schedule']} "
                  f"schedule, shifts of {acc['recipe']['shift']} px), test set evaluated after each epoch outside "
                  "the timed part; cumulative training seconds until the first epoch at or above the goal.", "",
                  _md_table(("epoch", "seconds", "test accuracy"),
                            [(h["epoch"], f"{h['seconds']:.2f}", f"{h['test_accuracy']:.4f}")
                             for h in acc["history"]]), ""]
    prof = results.get("profile")
    if prof:
        seed = results["networks"]["seed"]
        lines += [
            "## Where scratchnet's epoch goes (pyinstrument, seed network)",
            "",
            f"One epoch after a warm-up, sampled every {prof['interval'] * 1e3:.3g} ms "
            f"({prof['seconds']:.3f} s with the profiler on, against the unprofiled median above: the "
            "profiler's hook on every call inflates many small calls most). NumPy's C calls (matmul, ufuncs) "
            "are not Python frames, so their time counts for the scratchnet function that makes them; compare "
            "the forward and backward rows with the GEMM table above to see how much of them is matrix work.",
            "",
            _md_table(("what", "seconds", "share"),
                      [(c["name"], f"{c['seconds']:.3f}", f"{c['share']:.0%}") for c in prof["categories"]]),
            "",
            "The same epoch's matrix products run alone at the measured rates (GEMM table), by kind:",
            "",
            _md_table(("GEMMs", "seconds per epoch"),
                      [(kind, f"{t:.3f}") for kind, t in gemm_seconds_by_kind(seed["gemm"]).items()]),
            "",
            _md_table(("function", "seconds", "share"),
                      [(f"`{c['name']}`", f"{c['seconds']:.3f}", f"{c['share']:.0%}")
                       for c in prof["functions"][:12]]),
            "",
        ]
    return "\n".join(lines)


def summary_text(results):
    """A plain-text summary for the terminal: each network's epochs, then the targets."""
    m = results["machine"]
    load = m.get("load_average")
    lines = [kernel_text(m)]
    if load:
        lines.append(f"Load average at the start {load[0]:.2f}, at the end {(m.get('load_average_after') or load)[0]:.2f} "
                     f"on {m['cpus']} CPUs; {_threads(results['settings']['threads'])} per peer")
    for key, net in results["networks"].items():
        lines.append(f"{NETWORK_TITLES.get(key, key)} {net['architecture']}, seconds per epoch:")
        lines += [f"  {what:<28} {median:>8}  {rng:<15} scratchnet ÷ this {ratio}"
                  for what, median, rng, ratio, _ in epoch_rows(net)]
    if results.get("sweep"):
        header, rows = sweep_rows(results["sweep"])
        lines.append("Width sweep, " + ", ".join(header[2:]))
        lines += ["  " + "  ".join(str(c) for c in [row[0], *row[2:]]) for row in rows]
    lines.append("Targets:")
    lines += [f"  {measure:<45} {value:<22} {target:<9} {status}" for measure, value, target, status
              in target_rows(results)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- figures

def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def plot_epochs(results, path):
    """Per network, bars of each peer's median seconds per epoch (range as error bars) with the floor and
    the step's products alone as lines."""
    nets = results["networks"]
    fig = _figure(6 * len(nets), 5)
    for i, (key, net) in enumerate(nets.items(), start=1):
        ax = fig.add_subplot(1, len(nets), i)
        names, medians, low, high, colours = [], [], [], [], []
        for peer in PEERS:
            f = net["peers"].get(peer, {})
            if "median" in f:
                names.append(NAMES[peer].split(" (")[0])
                medians.append(f["median"])
                low.append(f["median"] - f["min"])
                high.append(f["max"] - f["median"])
                colours.append(COLOURS[peer])
        bars = ax.bar(names, medians, yerr=[low, high], capsize=6, color=colours)
        for bar, value, above in zip(bars, medians, high):
            ax.annotate(f"{value:.3g} s", (bar.get_x() + bar.get_width() / 2, value + above), ha="center",
                        va="bottom", xytext=(0, 4), textcoords="offset points")
        ax.axhline(net["floor_seconds"], color="black", linestyle="--",
                   label=f"floor {net['floor_seconds']:.3g} s (FLOP / peak GEMM rate)")
        ax.axhline(net["gemm"]["seconds_per_epoch"], color="grey", linestyle="-.",
                   label=f"the step's products alone {net['gemm']['seconds_per_epoch']:.3g} s")
        ax.set_ylabel("seconds per epoch (median)")
        ax.set_title(f"{NETWORK_TITLES.get(key, key)}\n{net['architecture']}", fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
        ax.set_ylim(0, max([m + h for m, h in zip(medians, high)] + [net["gemm"]["seconds_per_epoch"]]) * 1.45)
        ax.tick_params(axis="x", labelsize=8)
    s, m = results["settings"], results["machine"]
    fig.suptitle(f"One epoch of {s['n_train']:,} MNIST images, batch {s['batch_size']}, float32, Adam, "
                 f"{_threads(s['threads'])} — {m['cpu']}", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_sweep(results, path):
    """Milliseconds per step against the hidden width (log–log), one line per peer and the floor."""
    sweep = results["sweep"]
    fig = _figure(7, 5)
    ax = fig.add_subplot()
    widths = [r["width"] for r in sweep["rows"]]
    for peer in PEERS:
        ms = [r["peers"][peer]["median"] / sweep["steps"] * 1e3 if "median" in r["peers"].get(peer, {}) else None
              for r in sweep["rows"]]
        points = [(w, t) for w, t in zip(widths, ms) if t is not None]
        if points:
            ax.plot(*zip(*points), marker="o", color=COLOURS[peer], label=NAMES[peer])
    ax.plot(widths, [r["floor_seconds"] / sweep["steps"] * 1e3 for r in sweep["rows"]], color="black",
            linestyle="--", label="floor (FLOP / peak GEMM rate)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(widths)
    ax.set_xticklabels([str(w) for w in widths])
    ax.set_xlabel("hidden width w (784 → w σ → w σ → 10 softmax)")
    ax.set_ylabel("milliseconds per training step (median)")
    s = results["settings"]
    ax.set_title(f"Batch {s['batch_size']}, float32, Adam, {_threads(s['threads'])}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, facecolor="white")
    return path


def write(results, out, command=None):
    """Write the Markdown ``out`` and its figures to ``images/`` beside it; returns the paths written."""
    out = Path(out)
    images = {"epochs": plot_epochs(results, out.parent / "images" / f"{out.stem}.png")}
    if results.get("sweep"):
        images["sweep"] = plot_sweep(results, out.parent / "images" / f"{out.stem}_sweep.png")
    out.write_text(render_markdown(results, {k: f"images/{p.name}" for k, p in images.items()}, command) + "\n",
                   encoding="utf-8")
    return [out, *images.values()]
