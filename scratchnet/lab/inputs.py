"""What the page sends, read into the 28×28 input the network sees.

A request carries either ``"image"``, a ``data:image/png;base64,…`` URL of a picture (the canvas), or
``"pixels"``, 784 numbers in 0…1 that already are a 28×28 input (bright ink on black, row by row, as a
test-set image is). A picture goes through `scratchnet.preprocess.to_mnist`, the preprocessing of
``scratchnet predict``; the limits below are checked before any pixel is decoded.
"""

import base64
import binascii
import io
import math

import numpy as np

from ..errors import ScratchnetError
from ..preprocess import FIELD, read_image, to_mnist

MAX_SIDE = 4096
"""Largest picture side, pixels; a larger picture is refused from its header, before it is decoded."""
MAX_FORMULA = 2000
"""Longest formula, characters."""


class LabRequestError(ScratchnetError):
    """A request the lab refuses; ``status`` is the HTTP status of the JSON error answer."""

    def __init__(self, message, status=422):
        super().__init__(message)
        self.status = status


def decode_picture(url):
    """The picture in a ``data:image/…;base64,`` URL as a loaded `PIL.Image.Image`, read by
    `scratchnet.preprocess.read_image` (as ``scratchnet predict`` reads a file).

    Refuses (`LabRequestError`) anything that is not such a URL (422), a picture Pillow cannot read (422)
    and one with a side over `MAX_SIDE` pixels (413; refused from the header, so a decompression bomb is
    never decoded).
    """
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url[:40]:
        raise LabRequestError('"image" must be a data URL: data:image/png;base64,…')
    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise LabRequestError('"image" is not valid base64') from None
    try:
        return read_image(io.BytesIO(data), name="the drawing", max_side=MAX_SIDE)
    except ScratchnetError as e:
        raise LabRequestError(str(e), status=413 if e.field == "size" else 422) from None


def read_pixels(values):
    """784 numbers in 0…1 (a list) as a float64 ``(784,)`` input."""
    if not isinstance(values, list) or len(values) != FIELD * FIELD:
        raise LabRequestError(f'"pixels" must be a list of {FIELD * FIELD} numbers in 0…1')
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1
               for v in values):
        raise LabRequestError('"pixels" must hold numbers in 0…1 only')
    return np.asarray(values, dtype=np.float64)


def read_input(body):
    """The network's input ``x (784,)`` in 0…1 from a request body with ``"image"`` or ``"pixels"``.

    A picture is made MNIST-like by `to_mnist` (exactly as ``scratchnet predict`` reads a file); pixels
    are taken as they are.
    """
    if "image" in body:
        img = decode_picture(body["image"])
        try:
            x = to_mnist(img, name="the drawing")
        except ScratchnetError as e:
            raise LabRequestError(str(e)) from None
        return x.reshape(-1) / 255.0
    if "pixels" in body:
        return read_pixels(body["pixels"])
    raise LabRequestError('give "image" (a data URL of a picture) or "pixels" (784 numbers in 0…1)')


def read_label(body, key="label", default=None, classes=10):
    """An integer label ``0 … classes-1`` (the index of one of the network's classes) from ``body[key]``
    (``default`` when absent or null)."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < classes:
        raise LabRequestError(f'"{key}" must be an integer 0…{classes - 1}, the index of one of the '
                              f"network's {classes} classes")
    return value


def read_formula(body):
    """The formula text, at most `MAX_FORMULA` characters."""
    formula = body.get("formula")
    if not isinstance(formula, str):
        raise LabRequestError('"formula" must be a string')
    if len(formula) > MAX_FORMULA:
        raise LabRequestError(f"the formula has {len(formula)} characters; the lab takes at most {MAX_FORMULA}",
                              status=413)
    return formula
