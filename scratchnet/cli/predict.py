"""``scratchnet predict MODEL IMAGE...``: read handwritten digits (or the model's own classes) from pictures
and print the top three, by class name."""

from pathlib import Path

import click
import numpy as np
from PIL import Image
from rich.markup import escape

from ..atomic import write_atomic
from ..data import model_class_names
from ..errors import ScratchnetError
from ..modelfile import load
from ..preprocess import FIELD, load_digit
from . import _output


def _input_path(folder, image, taken):
    """A file name in ``folder`` for the 28×28 input of ``image``, unique among ``taken``."""
    stem = Path(image).stem or "image"
    name, k = f"{stem}.png", 1
    while name in taken:
        k += 1
        name = f"{stem}-{k}.png"
    taken.add(name)
    return Path(folder) / name


@click.command("predict", short_help="Read the digits in your own pictures.")
@click.argument("model", type=click.Path(dir_okay=False, readable=False))     # the loaders say what is wrong
@click.argument("images", nargs=-1, required=True, type=click.Path(readable=False), metavar="IMAGE...")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list, one object per image: image, digit (the label's number), class (its "
                   "name), probabilities (one per class).")
@click.option("--show-input", type=click.Path(file_okay=False), default=None,
              help="Save the 28×28 image the network saw for each picture into this folder.")
def command(model, images, as_json, show_input):
    """Read the digit in each picture (PNG or JPEG, any size, dark ink on light paper or light on dark).

    Each picture is made MNIST-like first: greyscale, ink bright on a dark ground, cropped to the ink,
    longer side scaled to 20 pixels, centred by its centre of mass in a 28×28 field. A picture that
    cannot be read gets a one-line message; the others are still read, and the exit code is 1.
    """
    net = load(model)
    if net.sizes[0] != FIELD * FIELD:
        raise ScratchnetError(f"{model} takes {net.sizes[0]} inputs, not {FIELD}×{FIELD} = {FIELD * FIELD} "
                              "pixels; predict needs a model trained on 28×28 images")
    folder = None
    if show_input:
        folder = Path(show_input)
        if folder.exists() and not folder.is_dir():
            raise ScratchnetError(f"--show-input {folder} is a file; give a folder")
        folder.mkdir(parents=True, exist_ok=True)
    names = model_class_names(net)
    results, taken, failed = [], set(), 0
    for image in images:
        try:
            x = load_digit(image)
        except ScratchnetError as e:
            failed += 1
            _output.stderr.print(f"scratchnet: error: {e}", markup=False, soft_wrap=True)
            results.append({"image": image, "digit": None, "class": None, "probabilities": None, "error": str(e)})
            continue
        p = net.predict_proba(x.reshape(1, -1))[0].astype(np.float64)
        row = {"image": image, "digit": int(p.argmax()), "class": names[int(p.argmax())],
               "probabilities": [float(v) for v in p]}
        if folder is not None:
            saved = _input_path(folder, image, taken)
            write_atomic(saved, lambda f: Image.fromarray(x).save(f, format="PNG"))   # uint8 (28, 28): mode L
            row["input"] = str(saved)
        results.append(row)
    if as_json:
        _output.emit_json(results)
    else:
        _print_lines(results, names)
    if failed:
        raise SystemExit(1)


def _print_lines(results, names):
    """One line per picture: the path as given, then the top three classes (``names[k]``) with their
    probabilities."""
    for row in results:
        if row["digit"] is None:
            continue
        p = np.asarray(row["probabilities"])
        top = np.argsort(-p, kind="stable")[:3]
        rest = "   ".join(f"{escape(names[k])} {p[k]:6.1%}" for k in top[1:])
        line = f"{escape(row['image'])}: [bold]{escape(names[top[0]])}[/] {p[top[0]]:6.1%}   (then {rest})"
        if row.get("input"):
            line += f"   saw {escape(row['input'])}"
        _output.stdout.print(line, soft_wrap=True)
