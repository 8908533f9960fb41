"""Does `scratchnet predict`'s preprocessing beat a plain resize on pictures unlike MNIST?

There is no collection of real phone photos in this repository, so this script makes synthetic
"photos" from real handwriting: MNIST *test* digits (never seen in training), each

- enlarged smoothly to 100–520 pixels tall, its strokes made thinner or thicker by where the smooth
  enlargement is cut into ink and paper;
- placed off-centre on a canvas of 200–640 × 200–640 pixels (wide, uneven margins);
- written in dark ink (black, blue, graphite) on light paper of a random tint, or, for a random half,
  in light chalk on a dark board;
- lit unevenly (a linear gradient of brightness, up to 35 %), slightly blurred, with Gaussian noise;
- saved as a JPEG (quality 55–95) or as a PNG, and read back from the file.

Every picture then goes through three pipelines into the same trained network:

- ``plain resize``: greyscale, resize the whole picture to 28×28 (Lanczos), nothing else;
- ``plain resize + polarity``: the same, inverted when the picture's border is lighter than mid-grey;
- ``predict``: `scratchnet.preprocess.load_digit`, what ``scratchnet predict`` does.

and the original 28×28 test images are scored too, as the ceiling. Usage::

    python benchmarks/handwriting.py --model model.npz [--n 1000] [--seed 0] [--save-examples DIR]

These are synthetic photos made from MNIST digits, not real photos: they test size, margin, position,
polarity, stroke width, colour, light, noise and compression, but not other writers' styles (the
strokes are MNIST's own), paper edges, ruled lines or perspective.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from scratchnet.data import load_mnist
from scratchnet.errors import ScratchnetError
from scratchnet.modelfile import load
from scratchnet.preprocess import load_digit

INKS = {"black": (25, 25, 30), "blue": (30, 45, 140), "graphite": (80, 80, 85)}


def make_photo(digit, rng):
    """A synthetic photo of one MNIST digit.

    Parameters
    ----------
    digit : ndarray uint8 (28, 28), bright ink on black
    rng : numpy.random.Generator

    Returns
    -------
    image : PIL.Image.Image, RGB
    info : dict, how it was made (``dark_ink``, ``size``, ``digit_height``, ``cut``)
    """
    H, W = (int(v) for v in rng.integers(200, 641, size=2))
    # The digit's own ink occupies about 20 of MNIST's 28 pixels; enlarge so the ink is 100–520 px
    # tall but never taller than the canvas (minus a few pixels).
    ink_rows = np.flatnonzero(digit.max(axis=1) > 0)
    ink_h = ink_rows[-1] - ink_rows[0] + 1
    target = min(int(rng.integers(100, 521)), H - 10)
    scale = max(target / ink_h, 2.0)
    side = int(round(28 * scale))
    big = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float64) / 255
    # Cut the smooth enlargement into pen strokes: a low cut makes thick strokes, a high one thin.
    cut = float(rng.uniform(0.15, 0.7))
    ink = np.clip((big - cut) / 0.08 + 0.5, 0, 1)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if ink.shape[0] > H - 4 or ink.shape[1] > W - 4:               # keep the digit inside the canvas
        f = min((H - 4) / ink.shape[0], (W - 4) / ink.shape[1])
        size = (max(1, int(ink.shape[1] * f)), max(1, int(ink.shape[0] * f)))
        ink = np.asarray(Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.BILINEAR))
    h, w = ink.shape
    top, left = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))   # anywhere: uneven margins
    alpha = np.zeros((H, W))
    alpha[top:top + h, left:left + w] = ink
    dark_ink = bool(rng.random() < 0.5)
    if dark_ink:
        paper = np.array([235, 230, 215]) + rng.uniform(-20, 15, size=3)
        pen = np.array(INKS[rng.choice(list(INKS))]) + rng.uniform(-10, 10, size=3)
    else:
        paper = np.array([45, 55, 50]) + rng.uniform(-25, 25, size=3)      # a dark board
        pen = np.array([230, 232, 225]) + rng.uniform(-25, 10, size=3)     # chalk
    rgb = paper * (1 - alpha[..., None]) + pen * alpha[..., None]
    # Uneven light: brightness falls linearly by up to 35 % along a random direction.
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:H, 0:W]
    ramp = (np.cos(angle) * xx / W + np.sin(angle) * yy / H)
    ramp = (ramp - ramp.min()) / max(ramp.max() - ramp.min(), 1e-9)
    rgb = rgb * (1 - rng.uniform(0, 0.35) * ramp)[..., None]
    rgb += rng.normal(0, rng.uniform(2, 8), size=rgb.shape)
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.5))))
    return img, {"dark_ink": dark_ink, "size": (W, H), "digit_height": h, "cut": cut}


def plain_resize(path, polarity=False):
    """The naive input: greyscale, the whole picture resized to 28×28; ``(28, 28)`` uint8.

    With ``polarity``, inverted when the picture's border (its outermost pixels) averages lighter than
    mid-grey, so that the ink is bright as in MNIST.
    """
    with Image.open(path) as img:
        g = img.convert("L")
        small = np.asarray(g.resize((28, 28), Image.Resampling.LANCZOS))
        if polarity:
            a = np.asarray(g, np.float64)
            border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
            if border.mean() > 127.5:
                small = 255 - small
    return small


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="model.npz", help="a model trained by 'scratchnet train'")
    parser.add_argument("--n", type=int, default=1000, help="number of synthetic photos")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-examples", default=None,
                        help="folder for a sheet of example photos and what each pipeline made of them")
    args = parser.parse_args(argv)

    net = load(args.model)
    X, y = load_mnist("test")
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(len(X), size=args.n, replace=False)
    inputs = {"plain resize": [], "plain resize + polarity": [], "predict": []}
    failed, dark, formats, examples = 0, [], [], []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k, i in enumerate(chosen):
            img, info = make_photo(X[i].reshape(28, 28), rng)
            if rng.random() < 0.7:
                path = Path(tmp) / f"{k}.jpg"
                img.save(path, quality=int(rng.integers(55, 96)))
            else:
                path = Path(tmp) / f"{k}.png"
                img.save(path)
            formats.append(path.suffix)
            dark.append(info["dark_ink"])
            inputs["plain resize"].append(plain_resize(path))
            inputs["plain resize + polarity"].append(plain_resize(path, polarity=True))
            try:
                inputs["predict"].append(load_digit(path))
            except ScratchnetError:
                failed += 1
                inputs["predict"].append(np.zeros((28, 28), np.uint8))     # counted as wrong below
            if args.save_examples and len(examples) < 8:
                examples.append((img.copy(), {m: v[-1] for m, v in inputs.items()}, int(y[i])))
    seconds = time.perf_counter() - start
    labels = y[chosen]
    dark = np.array(dark)

    print(f"{args.n} synthetic photos of MNIST test digits (seed {args.seed}; "
          f"{dark.mean():.0%} dark ink on light paper, {np.mean(np.array(formats) == '.jpg'):.0%} JPEG), "
          f"model {args.model}: {net}")
    print(f"{'input':<26} {'accuracy':>9} {'dark ink':>9} {'light ink':>10}")
    ceiling = (net.predict(X[chosen]) == labels)
    print(f"{'MNIST 28×28 originals':<26} {ceiling.mean():9.3f} {ceiling[dark].mean():9.3f} "
          f"{ceiling[~dark].mean():10.3f}")
    for name, images in inputs.items():
        right = net.predict(np.stack(images).reshape(len(images), -1)) == labels
        print(f"{name:<26} {right.mean():9.3f} {right[dark].mean():9.3f} {right[~dark].mean():10.3f}")
    print(f"predict refused {failed} pictures (counted as wrong); {seconds:.1f} s for making, saving and "
          f"reading all pictures on {platform.machine()} {platform.processor() or ''}".rstrip())
    if args.save_examples:
        _example_sheet(examples, Path(args.save_examples) / "handwriting_examples.png")


def _example_sheet(examples, path):
    """A figure: each synthetic photo beside the 28×28 inputs the three pipelines made of it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 1.7 * len(examples) + 0.6), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(examples), 4, squeeze=False)
    titles = ["synthetic photo (label {})", "plain resize", "plain resize + polarity", "predict's input"]
    for row, (img, made, label) in zip(axes, examples):
        row[0].imshow(np.asarray(img))
        row[0].set_title(titles[0].format(label), fontsize=10)
        for ax, (name, x), title in zip(row[1:], made.items(), titles[1:]):
            ax.imshow(x, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(title, fontsize=10)
        for ax in row:
            ax.set_axis_off()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, facecolor="white")
    print(f"examples: {path}")


if __name__ == "__main__":
    main()
