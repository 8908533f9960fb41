"""From a picture of a handwritten digit to an MNIST-like 28×28 input, the way MNIST itself was made.

MNIST's digits are bright ink on a black ground; each was scaled so that its longer side is 20 pixels
(keeping the aspect ratio, anti-aliased, hence the grey edges) and placed in a 28×28 field so that its
centre of mass sits at the centre. A photo or scan of a digit is nothing like that: any size, a margin
of any width, the digit anywhere, usually dark ink on light paper, often a colour picture with uneven
light. `to_mnist` repeats MNIST's steps on such a picture::

    1. greyscale     g (H, W) in [0, 1]; colour by luminance, transparency composited on a ground
                     that contrasts with the opaque strokes
    2. paper         a smooth surface b (H, W) (a quadratic in x and y) fitted to the pixels that are
                     not ink, so that a shadow or a gradient of light is not taken for ink
    3. polarity      the ink is whichever side of the paper (darker or brighter) holds more of the
                     strong deviations r = g - b; ink is made bright: ink = ±r / b, clipped at 0
                     (divided by the paper's brightness, so a stroke in a shadow counts in full)
    4. crop          to the bounding box of the ink (ignoring the faintest 0.2 % of ink mass on each
                     side, so that a speck of dust far away does not widen the box)
    5. scale         longer side to 20 pixels, aspect ratio kept (Pillow, Lanczos, anti-aliased);
                     brightest ink scaled to 255
    6. centre        paste into a 28×28 field so that the centre of mass lands on pixel (14, 14)
                     (row, column), where MNIST's digits have theirs on average

The result is a uint8 array ``(28, 28)``, ink 255 on ground 0, ready for ``Network.predict_proba`` after
``reshape(1, 784)``. What this leaves out: finding a digit among other writing, the edge of the page or
a table in the photo (crop the photo to the digit on its paper first), deskewing.
"""

import functools
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ScratchnetError

FIELD = 28
"""Side of MNIST's field, pixels."""
BOX = 20
"""Longer side of the digit inside the field, pixels."""
CENTRE = 14.0
"""Row and column (0-based pixel indices) where the centre of mass goes. Over MNIST's 10,000 test
images the mean centre of mass is (13.99, 14.01)."""
WORK_SIDE = 512
"""Larger pictures are first reduced so that their longer side is this many pixels."""
MAX_PIXELS = 40_000_000
"""Largest picture read, in pixels (a 40-megapixel photo; Pillow itself warns only past 89 million). A
digit needs a few thousand; the limit keeps a hostile or mistaken file from taking gigabytes."""
ORIENTATION_TAG = 0x0112
ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
"""How to turn a picture upright for each EXIF orientation (as `PIL.ImageOps.exif_transpose` does)."""
MIN_CONTRAST = 0.08
"""Ink must differ from the paper by at least this much (of the full 0…1 grey range)."""
TRIM = 0.002
"""Share of the ink mass ignored on each side when finding the bounding box."""


# --------------------------------------------------------------------------- 1. reading and greyscale

def read_image(source, name=None, max_side=None):
    """Open a picture (PNG, JPEG or anything Pillow reads); returns a `PIL.Image.Image`.

    Parameters
    ----------
    source : a path, or a binary file object (e.g. ``io.BytesIO`` of an upload)
    name : how messages call the picture (default: the path, or "the picture")
    max_side : int, optional, the longest side accepted, in pixels

    The size is read from the header and a picture of more than `MAX_PIXELS` pixels (or a side over
    ``max_side``) is refused before its pixels are decoded. A large picture is decoded at a reduced scale
    where the format allows (JPEG) and shrunk by a whole factor (`_reduce_large`) before anything else, so
    a 40-megapixel photo costs a few hundred megabytes at most. The EXIF orientation of phone photos is
    applied, so the digit stands the way it was photographed. Raises `ScratchnetError` for a missing,
    empty, unreadable (no permission), damaged or oversized picture (an oversized one with
    ``field="size"``); no warning of Pillow's reaches the user.
    """
    is_path = isinstance(source, (str, Path))
    name = name or (str(source) if is_path else "the picture")
    if is_path:
        path = Path(source)
        try:
            if not path.exists():
                raise ScratchnetError(f"{name}: no such file")
            if path.is_dir():
                raise ScratchnetError(f"{name}: is a folder, not an image")
            if path.stat().st_size == 0:
                raise ScratchnetError(f"{name}: the file is empty")
        except PermissionError:
            raise ScratchnetError(f"{name}: cannot be read: permission denied") from None
    hint = "give a PNG or JPEG picture of one digit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                           # Pillow's notes on odd files
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as img:
                width, height = img.size
                if width * height > MAX_PIXELS or (max_side is not None and max(width, height) > max_side):
                    limit = f"{MAX_PIXELS / 1e6:.0f} megapixels" if width * height > MAX_PIXELS else \
                        f"{max_side} pixels a side"
                    raise ScratchnetError(f"{name}: {width}×{height} pixels is too large (the limit is {limit}); "
                                          "crop or shrink the picture to the digit", field="size")
                try:
                    orientation = img.getexif().get(ORIENTATION_TAG)
                except Exception:                                   # damaged EXIF: take the picture as it is
                    orientation = None
                factor = max(width, height) // WORK_SIDE
                if factor >= 2:
                    img.draft(img.mode, (width // factor, height // factor))   # JPEG: decode smaller
                img.load()
                img = _reduce_large(img)
                method = ORIENTATIONS.get(orientation)
                img = img.transpose(method) if method is not None else img.copy()
        except ScratchnetError:
            raise
        except PermissionError:
            raise ScratchnetError(f"{name}: cannot be read: permission denied") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ScratchnetError(f"{name}: too large (more than {MAX_PIXELS / 1e6:.0f} megapixels); "
                                  "crop or shrink the picture to the digit", field="size") from None
        except UnidentifiedImageError:
            raise ScratchnetError(f"{name}: not an image Pillow can read; {hint}") from None
        except MemoryError:
            raise ScratchnetError(f"{name}: too large to decode in the memory available") from None
        except Exception as e:                # a damaged file can fail deep inside any of Pillow's decoders
            raise ScratchnetError(f"{name}: a damaged or truncated image ({type(e).__name__}); {hint}") from None
    return img


def _luminance(rgb):
    """ITU-R 601 luma of ``rgb (H, W, 3)`` in [0, 1], as Pillow's ``convert("L")`` computes it."""
    return rgb @ np.array([0.299, 0.587, 0.114])


def to_grey(image):
    """Greyscale in [0, 1] of a picture: ``(H, W)`` float64, 0 black and 1 white.

    Parameters
    ----------
    image : `PIL.Image.Image`, or ndarray ``(H, W)`` (grey), ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA),
        uint8 in 0…255 or floats in [0, 1]

    A transparent picture (some pixels with alpha below 1) is composited on a ground that contrasts with
    its opaque pixels: dark strokes on white, light strokes on black. Composited on white always, light
    strokes on a transparent ground would vanish.
    """
    rgb, alpha = _channels(image)
    grey = _luminance(rgb) if rgb.ndim == 3 else rgb
    if alpha is None or np.all(alpha >= 1):
        return grey
    weight = alpha.sum()
    strokes = float((grey * alpha).sum() / weight) if weight > 0 else 0.0
    ground = 1.0 if strokes < 0.5 else 0.0                 # white behind dark strokes, black behind light
    return alpha * grey + (1 - alpha) * ground


def _channels(image):
    """``(colour, alpha)``: colour ``(H, W)`` or ``(H, W, 3)`` and alpha ``(H, W)`` or None, floats in [0, 1]."""
    if isinstance(image, Image.Image):
        return _pil_channels(image)
    a = np.asarray(image)
    if a.dtype == bool:
        a = a.astype(np.float64)
    elif np.issubdtype(a.dtype, np.integer):
        a = a / (65535.0 if a.max(initial=0) > 255 else 255.0)
    elif np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    else:
        raise ScratchnetError(f"cannot read pixels of type {a.dtype} as an image")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        colour, alpha = a, None
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        colour, alpha = a[:, :, :3], (a[:, :, 3] if a.shape[2] == 4 else None)
    elif a.ndim == 3 and a.shape[2] == 2:
        colour, alpha = a[:, :, 0], a[:, :, 1]
    else:
        raise ScratchnetError(f"an image must be (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if min(a.shape[:2]) < 1:
        raise ScratchnetError("the image has no pixels")
    if not np.all(np.isfinite(a)):
        raise ScratchnetError("the image holds NaN or infinite values")
    return np.clip(colour, 0, 1), None if alpha is None else np.clip(alpha, 0, 1)


def _reduce_large(img, side=WORK_SIDE):
    """Shrink a large picture by a whole factor (box averaging) before it becomes float arrays, so a
    12-megapixel photo does not need hundreds of megabytes; its longer side stays at least ``side``."""
    factor = max(img.size) // side
    if factor < 2:
        return img
    if img.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        alpha = img.mode in ("PA", "RGBa", "La") or "transparency" in img.info
        img = img.convert("I" if img.mode.startswith("I;16") else ("RGBA" if alpha else "RGB"))
    return img.reduce(factor)


def _pil_channels(img):
    img = _reduce_large(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or a.max(initial=0) > 255 else \
            (1.0 if img.mode == "F" and a.max(initial=0) <= 1 else 255.0)
        return np.clip(a / top, 0, 1), None
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        a = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0
        return a[:, :, :3], a[:, :, 3]
    if img.mode in ("L", "1"):
        return np.asarray(img.convert("L"), dtype=np.float64) / 255.0, None
    return np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0, None


def _shrink(g, side=WORK_SIDE):
    """Reduce ``g (H, W)`` so that its longer side is at most ``side`` (area-averaging)."""
    H, W = g.shape
    if max(H, W) <= side:
        return g
    scale = side / max(H, W)
    size = (max(1, round(W * scale)), max(1, round(H * scale)))
    return np.asarray(Image.fromarray(g.astype(np.float32)).resize(size, Image.Resampling.BOX), np.float64)


# --------------------------------------------------------------------------- 2. paper and 3. polarity

def _design(H, W, rows, cols):
    """Quadratic basis ``[1, u, v, u², uv, v²] (len(rows), 6)`` at the given pixels, ``u, v`` in [-1, 1]."""
    u = cols / max(W - 1, 1) * 2 - 1
    v = rows / max(H - 1, 1) * 2 - 1
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)


@functools.lru_cache(maxsize=8)
def _paper_grid(H, W):
    """The grid `fit_paper` samples a ``(H, W)`` picture on, and its quadratic basis.

    Returns ``(rows, cols, At)``: the grid's pixel indices (intp, ``(n,)`` each, at most 128 × 128 of them)
    and the basis of `_design` at them, transposed to ``(6, n)``. The lab's drawings all have one size, so
    the grid is built once per size; the arrays are read-only, shared by every thread that asks.
    """
    step = max(1, -(-max(H, W) // 128))
    rows, cols = np.meshgrid(np.arange(0, H, step), np.arange(0, W, step), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    At = np.ascontiguousarray(_design(H, W, rows.astype(np.float64), cols.astype(np.float64)).T)
    for a in (rows, cols, At):
        a.flags.writeable = False
    return rows, cols, At


def _median(a):
    """The median of a 1-d ``a`` (as `numpy.median`, without its generality)."""
    n = a.size
    lo, hi = (n - 1) // 2, n // 2
    p = np.partition(a, [lo, hi])
    return 0.5 * (p[lo] + p[hi])


def otsu_threshold(values, bins=256):
    """Otsu's threshold of grey values in [0, 1]: the ``t`` that maximises the between-class variance
    ``w0 w1 (μ0 - μ1)²`` of the split ``values <= t`` / ``values > t``."""
    counts = np.bincount(np.minimum((values * bins).astype(np.intp), bins - 1), minlength=bins)
    edges = np.linspace(0.0, 1.0, bins + 1)          # bin k holds [k/bins, (k+1)/bins), the last one 1 too
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)                          # pixels at or below each bin
    w1 = w0[-1] - w0
    m0 = np.cumsum(counts * centres)
    mu0 = np.divide(m0, w0, out=np.zeros(bins), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros(bins), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][np.argmax(between)])


def fit_paper(g, iterations=8):
    """The paper's brightness under the ink, as a smooth surface, and the spread of its noise.

    A quadratic ``b(u, v)`` is fitted by least squares to the pixels (of a grid of at most 128×128) on the
    paper's side of Otsu's threshold, then refitted to those whose residual lies within 3σ until that
    set stops changing; σ = 1.4826 · median absolute deviation of the residuals, a spread that the ink,
    a minority of the pixels, cannot inflate.

    Parameters
    ----------
    g : ndarray (H, W), grey in [0, 1]

    Returns
    -------
    b : ndarray (H, W), the fitted paper
    sigma : float, the spread of the paper around ``b`` (at least 1/255)
    """
    H, W = g.shape
    rows, cols, At = _paper_grid(H, W)
    target = g[rows, cols]
    # Start from the pixels on the paper's side of Otsu's threshold (the paper's side is the one that
    # holds the median grey of the picture's border: a margin of paper around the digit is usual, while a
    # digit may fill most of the middle), then let the surface bend and refit.
    border = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    threshold = otsu_threshold(target)
    keep = (target > threshold) if _median(border) > threshold else (target <= threshold)
    for _ in range(iterations):
        Ak = np.compress(keep, At, axis=1)                               # (6, kept)
        coef, *_ = np.linalg.lstsq(Ak @ Ak.T, Ak @ target[keep], rcond=None)   # normal equations, 6 × 6
        r = target - coef @ At
        rk = r[keep]
        sigma = max(1.4826 * float(_median(np.abs(rk - _median(rk)))), 1 / 255)
        new_keep = np.abs(r) <= 3 * sigma
        if new_keep.sum() < 6 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    u = np.arange(W) / max(W - 1, 1) * 2 - 1                         # the basis of `_design` on every pixel
    v = np.arange(H) / max(H - 1, 1) * 2 - 1
    b = np.multiply.outer(v, coef[4] * u)                            # c4 uv + (c0 + c2 v + c5 v²) + (c1 u + c3 u²)
    b += (coef[0] + coef[2] * v + coef[5] * v * v)[:, None]
    b += (coef[1] * u + coef[3] * u * u)[None, :]
    return b, sigma


def ink_image(g):
    """Bright ink on a dark ground, from a greyscale picture of either polarity.

    Parameters
    ----------
    g : ndarray (H, W), grey in [0, 1]

    Returns
    -------
    ink : ndarray (H, W) float64, 0 where the paper is, larger where the ink is (not yet scaled to 1)
    dark_ink : bool, True if the ink was darker than the paper (and has been inverted)

    Light falls on ink and paper alike, so a shadow scales both: the ink's deviation from the paper is
    divided by the paper's brightness ``b`` (Weber contrast), which makes a stroke in the shadow as
    strong as one in the light.
    """
    b, sigma = fit_paper(g)
    r = g - b
    t = 4 * sigma                                           # deviations smaller than this are paper grain
    dark = float(np.sum(np.maximum(-r - t, 0)))
    bright = float(np.sum(np.maximum(r - t, 0)))
    dark_ink = dark > bright
    ink = np.maximum((-r if dark_ink else r) - t, 0)         # make ink bright, drop the grain
    return ink / np.maximum(b, 0.05), dark_ink


# --------------------------------------------------------------------------- 4. crop, 5. scale, 6. centre

def bounding_box(ink, trim=TRIM):
    """Rows ``top:bottom`` and columns ``left:right`` (half-open) that hold the ink.

    The faintest ``trim`` of the ink mass is ignored on each side, along rows and along columns.

    Parameters
    ----------
    ink : ndarray (H, W), non-negative, not all zero

    Returns
    -------
    (top, bottom, left, right) : ints
    """
    def span(profile):
        c = np.cumsum(profile) / profile.sum()
        lo = int(np.searchsorted(c, trim, side="right"))
        hi = int(np.searchsorted(c, 1 - trim, side="left")) + 1
        return lo, max(hi, lo + 1)

    top, bottom = span(ink.sum(axis=1))
    left, right = span(ink.sum(axis=0))
    return top, bottom, left, right


def fit_box(crop, box=BOX):
    """Scale ``crop (h, w)`` so that its longer side is ``box`` pixels, keeping the aspect ratio.

    Returns an ndarray ``(h', w')`` with ``max(h', w') = box``: the crop, its brightest pixel scaled to 1,
    Lanczos-resampled (anti-aliased when shrinking), clipped to [0, 1] (Lanczos rings a little past a
    sharp edge) and scaled again so the brightest pixel is 1 (a thin stroke shrunk a lot turns grey).
    """
    h, w = crop.shape
    crop = crop / crop.max()
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))          # Pillow wants (width, height)
    out = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.LANCZOS),
                     np.float64)
    out = np.clip(out, 0, 1)
    return out / out.max() if out.max() > 0 else out


def centre_of_mass(a):
    """Centre of mass ``(row, col)`` of a non-negative ``a (h, w)``, in pixel indices."""
    total = a.sum()
    rows = np.arange(a.shape[0]) @ a.sum(axis=1) / total
    cols = np.arange(a.shape[1]) @ a.sum(axis=0) / total
    return float(rows), float(cols)


def place_in_field(digit, field=FIELD, centre=CENTRE):
    """Paste ``digit (h, w)`` (h, w ≤ field) into a zero ``(field, field)`` so its centre of mass lands
    on ``(centre, centre)``, to the nearest pixel, and never past the field's edge."""
    h, w = digit.shape
    r, c = centre_of_mass(digit)
    top = int(np.clip(np.floor(centre - r + 0.5), 0, field - h))
    left = int(np.clip(np.floor(centre - c + 0.5), 0, field - w))
    out = np.zeros((field, field))
    out[top:top + h, left:left + w] = digit
    return out


def to_mnist(image, name="the image"):
    """An MNIST-like input from a picture of one handwritten digit.

    Parameters
    ----------
    image : `PIL.Image.Image` or ndarray ``(H, W)``, ``(H, W, 3)``, ``(H, W, 4)`` (see `to_grey`)
    name : str, how error messages call the picture

    Returns
    -------
    ndarray uint8 (28, 28): ink up to 255 on a ground of 0, the digit's longer side 20 pixels, its centre
    of mass at pixel (14, 14)

    Raises `ScratchnetError` when the picture holds no ink (a blank or nearly uniform picture).
    """
    g = _shrink(to_grey(image))
    ink, _ = ink_image(g)
    if ink.max(initial=0) < MIN_CONTRAST:
        raise ScratchnetError(f"{name}: no ink found (the picture is blank or has too little contrast); "
                              "give a picture of one digit written on plain paper")
    top, bottom, left, right = bounding_box(ink)
    digit = fit_box(ink[top:bottom, left:right])
    return np.round(place_in_field(digit) * 255).astype(np.uint8)


def load_digit(source, name=None):
    """Read a picture (a path or a binary file object) and return its MNIST-like ``uint8 (28, 28)`` (see
    `read_image` and `to_mnist`)."""
    name = name or (str(source) if isinstance(source, (str, Path)) else "the picture")
    return to_mnist(read_image(source, name), name=name)
