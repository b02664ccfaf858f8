"""Digits the tests draw themselves, and what an MNIST-like digit must look like."""

import numpy as np
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter


def ring(size=(200, 200), box=None, width=8, ink=30, paper=225):
    """A "0": an ellipse outline, dark ink on light paper by default."""
    im = Image.new("L", size, paper)
    w, h = size
    box = box or (0.3 * w, 0.2 * h, 0.7 * w, 0.8 * h)
    ImageDraw.Draw(im).ellipse(box, outline=ink, width=width)
    return np.asarray(im)


def pen_zero(size=(120, 160), width=8, tilt=0.0, over=40.0, skips=(), ink=30, paper=225):
    """A "0" as a pen draws it: from the top, round anticlockwise and `over` degrees past its
    start (the stroke overlaps itself at the top), the ellipse `tilt` degrees askew. `skips`:
    (angle, degrees) where the pen skipped, leaving the stroke broken (angles from the top,
    anticlockwise, 360 and on for the overshoot)."""
    im = Image.new("L", size, paper)
    w, h = size
    rx, ry, t = 0.3 * w, 0.38 * h, np.radians(tilt)
    stroke = []
    for a in np.arange(0.0, 360.0 + over + 1, 2.0):
        if any(start <= a < start + length for start, length in skips):
            stroke.append(None)
            continue
        # The pen starts inside the ellipse, and runs out past it at the end: it crosses its start.
        r = 1 - 0.12 * max(0.0, 60 - a) / 60 + 0.12 * max(0.0, a - 300) / 60
        x, y = -r * rx * np.sin(np.radians(a)), -r * ry * np.cos(np.radians(a))
        stroke.append((w / 2 + x * np.cos(t) - y * np.sin(t), h / 2 + x * np.sin(t) + y * np.cos(t)))
    draw, line = ImageDraw.Draw(im), []
    for point in stroke + [None]:
        if point is None:
            if len(line) > 1:
                draw.line(line, fill=ink, width=width, joint="curve")
            line = []
        else:
            line.append(point)
    return np.asarray(im)


def seven(size=(160, 200), width=10, ink=20, paper=230):
    """A "7": a bar at the top and a stroke down to the bottom left (not symmetric in any way)."""
    im = Image.new("L", size, paper)
    w, h = size
    ImageDraw.Draw(im).line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.4 * w, 0.85 * h)],
                            fill=ink, width=width, joint="curve")
    return np.asarray(im)



def colour_eight(size=(59, 77), ink=(60, 90, 190), paper=(150, 150, 150), width=1, blur=2.0,
                 noise=2.0, seed=0):
    """An "8" in colour `ink` (blue: little darker than the paper in grey) on colour `paper`, as a
    small photo: two stacked loops, Gaussian-blurred by `blur` px, with sensor noise. RGB Image."""
    w, h = size
    big = Image.new("RGB", (4 * w, 4 * h), paper)
    draw = ImageDraw.Draw(big)
    draw.ellipse((1.2 * w, 0.6 * h, 2.8 * w, 1.92 * h), outline=ink, width=4 * width)
    draw.ellipse((1.0 * w, 1.84 * h, 3.0 * w, 3.4 * h), outline=ink, width=4 * width)
    small = big.resize(size, Image.Resampling.LANCZOS).filter(ImageFilter.GaussianBlur(blur))
    rgb = np.asarray(small, np.float32) + np.random.default_rng(seed).normal(0, noise, (h, w, 3))
    return Image.fromarray(np.clip(rgb, 0, 255).round().astype(np.uint8))

# Seven-segment strokes, as (x0, y0, x1, y1) in a 2x3 grid of corners: a digit drawn with the
# straight-line tool of a paint program.
SEGMENTS = {"top": (0, 0, 1, 0), "middle": (0, 1, 1, 1), "bottom": (0, 2, 1, 2),
            "upper left": (0, 0, 0, 1), "lower left": (0, 1, 0, 2), "upper right": (1, 0, 1, 1),
            "lower right": (1, 1, 1, 2)}
BOX_DIGITS = {
    0: ("top", "bottom", "upper left", "lower left", "upper right", "lower right"),
    2: ("top", "upper right", "middle", "lower left", "bottom"),
    3: ("top", "middle", "bottom", "upper right", "lower right"),
    4: ("upper left", "middle", "upper right", "lower right"),
    5: ("top", "upper left", "middle", "lower right", "bottom"),
    7: ("top", "upper right", "lower right"),
}


def box_digit(digit, size=50, width=1, margin=0.1, ink=0, paper=255):
    """A digit of straight horizontal and vertical strokes (BOX_DIGITS), `width` px wide, in a
    size x size image, `margin` of the size from each edge (0.04: its bars span 92% of it)."""
    im = Image.new("L", (size, size), paper)
    xs = (round(margin * size), round((1 - margin) * size) - 1)
    ys = (round(margin * size), round(size / 2), round((1 - margin) * size) - 1)
    draw = ImageDraw.Draw(im)
    for name in BOX_DIGITS[digit]:
        x0, y0, x1, y1 = SEGMENTS[name]
        draw.line((xs[x0], ys[y0], xs[x1], ys[y1]), fill=ink, width=width)
    return np.array(im)


def side_by_side(digits, gap=10, margin=15, paper=255):
    """Grey images of digits (dark on light) on one sheet, left to right, `gap` px apart (< 0:
    overlapping), centred on one line: a written number."""
    height = max(d.shape[0] for d in digits) + 2 * margin
    width = sum(d.shape[1] for d in digits) + gap * (len(digits) - 1) + 2 * margin
    sheet = np.full((height, width), paper, np.uint8)
    left = margin
    for d in digits:
        top = (height - d.shape[0]) // 2
        window = sheet[top : top + d.shape[0], left : left + d.shape[1]]
        np.minimum(window, d, out=window)
        left += d.shape[1] + gap
    return sheet


def on_desk(sheet, sides, band=0.25, tilt=2.0, desk=70, seed=0):
    """A photo of a grey `sheet` that takes in the desk beyond the sheet's edge on `sides`
    ("top", "right", "bottom", "left"): the photo widened by `band` of the sheet's size on each,
    where the edge runs `tilt` degrees askew; the desk is `desk` grey, grained in streaks."""
    rng = np.random.default_rng(seed)
    h, w = sheet.shape
    pad = {s: int(band * (h if s in ("top", "bottom") else w)) for s in sides}
    widths = ((pad.get("top", 0), pad.get("bottom", 0)), (pad.get("left", 0), pad.get("right", 0)))
    photo = np.pad(sheet.astype(np.float32), widths, mode="edge")
    rows, cols = np.indices(photo.shape)
    grain = desk + 8 * np.sin(cols / 7.0) + rng.normal(0, 4, photo.shape)
    slope = np.tan(np.radians(tilt))
    for side, width in pad.items():
        depth, along = {"top": (rows, cols), "left": (cols, rows),
                        "bottom": (photo.shape[0] - 1 - rows, cols),
                        "right": (photo.shape[1] - 1 - cols, rows)}[side]
        photo = np.where(depth < width + slope * (along - along.mean()), grain, photo)
    return np.clip(photo, 0, 255).astype(np.uint8)


def centre_of_mass(x):
    rows, cols = np.indices(x.shape)
    return (rows * x).sum() / x.sum(), (cols * x).sum() / x.sum()


def box_size(x):
    rows, cols = np.flatnonzero(x.any(axis=1)), np.flatnonzero(x.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def save(tmp_path, array_or_image, name="digit.png", **kwargs):
    im = array_or_image
    if not isinstance(im, Image.Image):
        im = Image.fromarray(im)
    path = tmp_path / name
    im.save(path, **kwargs)
    return str(path)


def assert_mnist_like(x):
    """A float32 [28, 28] white digit on black in [0, 1], in a 20x20 box, centred by mass."""
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1 and x.max() > 0.9  # the strokes' core is white
    assert x[0].max() == x[-1].max() == x[:, 0].max() == x[:, -1].max() == 0  # black all round
    assert max(box_size(x > 0)) in (19, 20, 21)  # fitted into 20x20 (21: the edge's anti-aliasing)
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert 38 <= x.sum() <= 200  # the ink of 98% of MNIST digits (sum of pixels: 38 to 199)


def check_result(x, shape):
    """A model input: the shape asked for, float32, finite, in [-1, 1]."""
    assert x.shape == shape and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= -1 and x.max() <= 1


# Random grey images, 1x1 to 48x48.
grey_arrays = st.tuples(st.integers(1, 48), st.integers(1, 48), st.integers(0, 2**32 - 1)).map(
    lambda t: np.random.default_rng(t[2]).integers(0, 256, (t[0], t[1]), dtype=np.uint8)
)
