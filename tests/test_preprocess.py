"""Preprocessing of pictures into MNIST-like 28×28 inputs, on synthetic pictures with known answers."""

import numpy as np
import pytest
from PIL import Image

from scratchnet.errors import ScratchnetError
from scratchnet.preprocess import (CENTRE, bounding_box, centre_of_mass, fit_paper, ink_image,
                                   load_digit, otsu_threshold, place_in_field, to_grey, to_mnist)

# A 10-wide, 20-tall bar: scaled to a longer side of 20 it stays 20×10; its centre of mass (9.5, 4.5)
# within itself lands on (14, 14) to the nearest pixel (rounding half up), so rows 5…24, columns 10…19.
EXPECTED_BAR = np.zeros((28, 28), np.uint8)
EXPECTED_BAR[5:25, 10:20] = 255


def assert_is_the_bar(got, low=200):
    """``got`` is the 20×10 bar up to a one-pixel shift: 200 bright pixels in a 20×10 box, nothing else,
    every one at least ``low``, centre of mass within half a pixel of the centre."""
    got = got.astype(float)
    rows, cols = np.nonzero(got > 128)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (20, 10)
    assert (got > 128).sum() == 200 and (got > 0).sum() == 200
    assert got[got > 128].min() >= low
    r, c = centre_of_mass(got)
    assert abs(r - CENTRE) <= 0.5 and abs(c - CENTRE) <= 0.5


def bar_picture(H, W, top, left, scale=1, ink=255, paper=0):
    """A uint8 (H, W) picture with a (20·scale)×(10·scale) bar of ``ink`` on ``paper`` at (top, left)."""
    a = np.full((H, W), paper, np.uint8)
    a[top:top + 20 * scale, left:left + 10 * scale] = ink
    return a


def ell_shape():
    """An asymmetric L (40×30, thick strokes) whose centre of mass is far from its box's centre."""
    a = np.zeros((40, 30))
    a[:, :8] = 1
    a[-8:, :] = 1
    return a


@pytest.mark.parametrize("H, W, top, left", [(28, 28, 4, 9), (100, 80, 0, 0), (100, 80, 80, 70),
                                              (300, 50, 150, 3), (40, 500, 10, 400)])
def test_shifted_bar_gives_the_known_result(H, W, top, left):
    assert np.array_equal(to_mnist(bar_picture(H, W, top, left)), EXPECTED_BAR)


@pytest.mark.parametrize("scale", [2, 3, 7, 15])
def test_scaled_bar_gives_the_known_result(scale):
    picture = bar_picture(40 * scale, 30 * scale, 13 * scale, 2 * scale, scale=scale)
    got = to_mnist(picture).astype(int)
    assert np.abs(got - EXPECTED_BAR).max() <= 2


def test_small_bar_is_enlarged():
    """A 4×2 bar grows to 20×10: shrinking and enlarging both end at a longer side of 20."""
    a = np.zeros((12, 9), np.uint8)
    a[3:7, 4:6] = 255
    got = to_mnist(a)
    assert np.array_equal(got > 128, EXPECTED_BAR > 128)


def test_inverted_bar_dark_ink_on_light_paper():
    picture = bar_picture(120, 90, 30, 50, scale=3, ink=20, paper=235)
    assert np.abs(to_mnist(picture).astype(int) - EXPECTED_BAR).max() <= 2


def test_rgb_blue_ink_on_cream_paper():
    mask = bar_picture(120, 90, 30, 50, scale=3) > 0
    rgb = np.empty((120, 90, 3), np.uint8)
    rgb[...] = (240, 232, 210)
    rgb[mask] = (30, 40, 150)
    assert np.abs(to_mnist(rgb).astype(int) - EXPECTED_BAR).max() <= 2
    assert np.abs(to_mnist(Image.fromarray(rgb)).astype(int) - EXPECTED_BAR).max() <= 2


@pytest.mark.parametrize("stroke", [(0, 0, 0), (255, 255, 255), (200, 30, 30)])
def test_rgba_strokes_on_transparent_ground(stroke):
    """Dark or light strokes on a fully transparent ground (whose hidden colour is arbitrary)."""
    mask = bar_picture(90, 90, 20, 40, scale=2) > 0
    rgba = np.zeros((90, 90, 4), np.uint8)
    rgba[...] = (128, 255, 0, 0)                  # transparent, with a colour that must not matter
    rgba[mask] = (*stroke, 255)
    assert np.array_equal(to_mnist(Image.fromarray(rgba, "RGBA")) > 128, EXPECTED_BAR > 128)


def test_light_strokes_are_composited_on_black_and_dark_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[0, 0] = (255, 255, 255, 255)
    assert to_grey(rgba)[1, 1] == 0.0
    rgba[0, 0] = (0, 0, 0, 255)
    assert to_grey(rgba)[1, 1] == 1.0
    rgba[..., 3] = 255                             # fully opaque: the colour itself counts
    assert to_grey(rgba)[1, 1] == 0.0


def test_centre_of_mass_lands_on_the_centre():
    for flip in (False, True):
        shape = ell_shape()[:, ::-1] if flip else ell_shape()
        picture = np.zeros((200, 160))
        picture[37:77, 101:131] = shape
        got = to_mnist(picture).astype(float)
        r, c = centre_of_mass(got)
        assert abs(r - CENTRE) <= 0.5 and abs(c - CENTRE) <= 0.5
        rows, cols = np.nonzero(got)
        assert rows.max() - rows.min() + 1 == 20      # the longer side (height) is 20
        # The box is not centred: the L's mass sits in its lower left (or right) corner.
        assert abs((cols.max() + cols.min()) / 2 - CENTRE) >= 1.5


def test_place_in_field_never_cuts_the_digit():
    digit = np.zeros((20, 20))
    digit[:, 0] = 1                                   # all mass at the left edge
    field = place_in_field(digit)
    assert field.sum() == digit.sum()
    assert field[:, 0].sum() == 0 and field[:, 8].sum() == 20


def test_aspect_ratio_is_kept():
    wide = np.zeros((50, 200), np.uint8)
    wide[10:30, 20:180] = 255                          # 160 wide, 20 tall: 8 to 1
    rows, cols = np.nonzero(to_mnist(wide) > 128)
    assert cols.max() - cols.min() + 1 == 20
    assert rows.max() - rows.min() + 1 in (2, 3)


def test_polarity_detection():
    light_paper = bar_picture(60, 60, 10, 10, ink=30, paper=220) / 255
    dark_board = bar_picture(60, 60, 10, 10, ink=220, paper=30) / 255
    assert ink_image(light_paper)[1] is True
    assert ink_image(dark_board)[1] is False
    # The ink is bright either way, and the paper is 0.
    for g in (light_paper, dark_board):
        ink, _ = ink_image(g)
        assert ink[20, 15] > 0.5 and ink[50, 50] == 0


def test_polarity_when_the_digit_fills_most_of_the_picture():
    """Ink covering 70 % of the picture, with paper only at the margin: the paper is still paper."""
    g = np.full((50, 50), 0.9)
    g[3:-3, 3:-3] = 0.1
    g[20:30, 20:30] = 0.9                             # a hole in the ink
    ink, dark_ink = ink_image(g)
    assert dark_ink is True
    assert ink[25, 25] == 0 and ink[10, 10] > 0.5


def test_uneven_light_is_not_taken_for_ink():
    """Light that falls from 0.95 to 0.45 across the picture (a shadow) on paper and dark ink alike."""
    H, W = 200, 160
    light = np.linspace(0.95, 0.45, W)[None, :] * np.ones((H, 1))
    mask = bar_picture(H, W, 40, 20, scale=3) > 0
    g = light * np.where(mask, 0.1, 1.0)              # reflectance 1 for paper, 0.1 for ink
    b, sigma = fit_paper(g)
    assert np.abs(b - light)[~mask].max() < 0.01
    assert_is_the_bar(to_mnist(g), low=240)


def test_noise_and_a_speck_of_dust_do_not_move_the_box():
    rng = np.random.default_rng(0)
    g = bar_picture(300, 300, 50, 200, scale=5, ink=25, paper=230).astype(float)
    g += rng.normal(0, 6, size=g.shape)
    g[290:292, 5:7] = 25                              # a 2×2 speck far from the digit
    assert_is_the_bar(to_mnist(np.clip(g, 0, 255).astype(np.uint8)), low=230)


def test_bounding_box_and_otsu():
    ink = np.zeros((10, 12))
    ink[2:5, 3:9] = 1
    assert bounding_box(ink) == (2, 5, 3, 9)
    values = np.concatenate([np.full(90, 0.2), np.full(10, 0.8)])
    assert 0.2 <= otsu_threshold(values) < 0.8


def test_already_mnist_like_input_is_nearly_unchanged():
    """Preprocessing its own output again changes little: the steps are idempotent up to resampling."""
    picture = np.zeros((160, 120))
    picture[20:140, 30:90] = ell_shape().repeat(3, axis=0).repeat(2, axis=1)
    once = to_mnist(picture)
    twice = to_mnist(once)
    assert np.mean(np.abs(once.astype(int) - twice)) < 6


def test_files_png_jpeg_greyscale_rgb_rgba(tmp_path):
    picture = bar_picture(400, 300, 60, 100, scale=10, ink=20, paper=235)
    Image.fromarray(picture).save(tmp_path / "grey.png")
    Image.fromarray(np.stack([picture] * 3, -1)).save(tmp_path / "rgb.jpg", quality=80)
    rgba = np.zeros((400, 300, 4), np.uint8)
    rgba[..., 3] = 255 - picture                      # dark ink as opaque strokes, paper transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "strokes.png")
    Image.fromarray(picture).convert("P").save(tmp_path / "palette.png")
    for name in ("grey.png", "rgb.jpg", "strokes.png", "palette.png"):
        got = load_digit(tmp_path / name)
        assert got.shape == (28, 28) and got.dtype == np.uint8
        assert np.array_equal(got > 128, EXPECTED_BAR > 128), name


def test_sixteen_bit_png(tmp_path):
    picture = bar_picture(60, 60, 5, 5, scale=2).astype(np.uint16) * 257
    Image.fromarray(picture).save(tmp_path / "deep.png")
    assert np.array_equal(load_digit(tmp_path / "deep.png") > 128, EXPECTED_BAR > 128)


def test_bad_files_raise_one_clear_error(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("this is not a picture\n")
    Image.fromarray(np.full((50, 50), 200, np.uint8)).save(tmp_path / "blank.png")
    Image.fromarray(bar_picture(60, 60, 5, 5)).save(tmp_path / "whole.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "whole.png").read_bytes()[:60])
    cases = {"empty.png": "empty", "notes.png": "not an image", "blank.png": "no ink",
             "missing.png": "no such file", "cut.png": "damaged"}
    for name, fragment in cases.items():
        with pytest.raises(ScratchnetError, match=fragment) as info:
            load_digit(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)


def test_faint_noise_is_no_ink():
    rng = np.random.default_rng(1)
    g = np.clip(0.8 + rng.normal(0, 0.01, size=(100, 100)), 0, 1)
    with pytest.raises(ScratchnetError, match="no ink"):
        to_mnist(g)


def test_tiny_and_one_row_pictures_are_read():
    """The paper's fit stays defined when its grid has fewer than six points or one row (a least-squares
    fit, not a solve of a singular system)."""
    for picture in (np.array([[0, 255], [255, 255]], np.uint8), np.r_[np.full(20, 255), np.zeros(5)][None, :]):
        got = to_mnist(picture.astype(np.uint8))
        assert got.shape == (28, 28) and got.max() == 255


def test_threads_preparing_pictures_at_once_get_the_serial_answers():
    """The lab prepares many learners' drawings at once: the grid `fit_paper` caches per picture size is
    shared by the threads and must not be written by any of them."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(2)
    pictures = []
    for k in range(24):
        g = bar_picture(140, 140, int(rng.integers(0, 100)), int(rng.integers(0, 110)), ink=20, paper=235)
        pictures.append(np.clip(g + rng.normal(0, 4, g.shape), 0, 255).astype(np.uint8))
    serial = [to_mnist(p) for p in pictures]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            assert all(np.array_equal(a, b) for a, b in zip(pool.map(to_mnist, pictures), serial))
