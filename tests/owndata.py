"""Own data for the tests of issue 19: real MNIST digits written out as a folder of class folders of
pictures, a Kaggle-layout CSV and an ``.npz``, the way a learner or a teacher would have them."""

import numpy as np
from PIL import Image

import scratchnet as sn

FORMATS = ("png", "jpeg", "bmp", "gif", "webp")


def mnist(n, split="train", start=0):
    """The first ``n`` real MNIST images of ``split`` from ``start``: ``uint8 (n, 784)``, ``(n,)``."""
    X, y = sn.load_mnist(split)
    return X[start:start + n], y[start:start + n]


def write_folder(root, X, y, names=None, dark_on_light=True, formats=FORMATS):
    """``root/<class>/<i>.<format>``, one picture per row of ``X``, cycling through ``formats``; ink dark
    on light paper (as a scan) unless ``dark_on_light`` is False. Returns the picture paths."""
    names = names or [str(k) for k in range(int(y.max()) + 1)]
    paths = []
    for i, (x, label) in enumerate(zip(X, y)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        img = x.reshape(28, 28)
        img = 255 - img if dark_on_light else img
        fmt = formats[i % len(formats)]
        path = folder / f"{i}.{fmt if fmt != 'jpeg' else 'jpg'}"
        Image.fromarray(img).resize((56, 56)).save(path, format=fmt.upper() if fmt != "jpeg" else "JPEG",
                                                   **({"quality": 95} if fmt == "jpeg" else {}))
        paths.append(path)
    return paths


LUT = [str(v).encode() for v in range(256)]


def csv_text(X, y, header=True, label_column=0, labels=None):
    """Kaggle's layout: ``label,pixel0,…`` (the label at ``label_column``), as bytes."""
    labels = [str(v).encode() for v in (y if labels is None else labels)]
    lines = []
    if header:
        names = [f"pixel{j}".encode() for j in range(X.shape[1])]
        names.insert(label_column, b"label")
        lines.append(b",".join(names))
    for label, x in zip(labels, X):
        fields = [LUT[v] for v in x]
        fields.insert(label_column, label)
        lines.append(b",".join(fields))
    return b"\n".join(lines) + b"\n"


def write_csv(path, X, y, **kwargs):
    path.write_bytes(csv_text(X, y, **kwargs))
    return path
