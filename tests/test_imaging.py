"""Reading users' images and making them MNIST-like, on images the tests draw themselves.

Every step of `to_mnist` is checked by its outcome (polarity, centring, size, stroke width,
background, lines), and every kind of bad or unusual file must give a result or an ImageError,
never another exception.
"""

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from recognize_digits import RecognizeDigitsError, imaging
from recognize_digits.imaging import ImageError, load_image, open_image, preprocess, to_mnist


def ring(size=(200, 200), box=None, width=8, ink=30, paper=225):
    """A "0": an ellipse outline, dark ink on light paper by default."""
    im = Image.new("L", size, paper)
    w, h = size
    box = box or (0.3 * w, 0.2 * h, 0.7 * w, 0.8 * h)
    ImageDraw.Draw(im).ellipse(box, outline=ink, width=width)
    return np.asarray(im)


def seven(size=(160, 200), width=10, ink=20, paper=230):
    """A "7": a bar at the top and a stroke down to the bottom left (not symmetric in any way)."""
    im = Image.new("L", size, paper)
    w, h = size
    ImageDraw.Draw(im).line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.4 * w, 0.85 * h)],
                            fill=ink, width=width, joint="curve")
    return np.asarray(im)


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


# --- to_mnist: each step ------------------------------------------------------------------------


def test_dark_on_light_and_light_on_dark_give_the_same_white_digit():
    dark_ink = to_mnist(ring())
    light_ink = to_mnist(255 - ring())
    assert_mnist_like(dark_ink)
    np.testing.assert_allclose(dark_ink, light_ink, atol=0.02)
    # White on black: the ring is white, its inside black.
    assert dark_ink[14, 14] == 0 and dark_ink.max() == 1


def test_off_centre_digit_is_cropped_scaled_to_20x20_and_centred_by_mass():
    canvas = np.full((300, 400), 210, np.uint8)
    canvas[10:130, 300:380] = seven(size=(80, 120))  # small, in the top right corner
    x = to_mnist(canvas)
    assert_mnist_like(x)
    height, width = box_size(x > 0)
    assert height in (20, 21) and width <= 20  # taller than wide: the height fits the box
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # MNIST's rounding: within half a pixel


def test_thin_pen_strokes_are_thickened_and_fat_marker_strokes_thinned():
    thin = to_mnist(ring(size=(500, 500), width=2))  # would be 0.1 px wide at 20x20
    fat = to_mnist(ring(size=(300, 300), box=(60, 30, 240, 270), width=70))
    for x in (thin, fat):
        assert_mnist_like(x)  # which checks the amount of ink
        assert imaging.STROKE_MIN <= imaging._stroke_width(x) <= imaging.STROKE_MAX
    assert fat[14, 14] == 0  # the hole of the "0" stays open


def test_mnist_like_input_comes_through_unchanged():
    # A digit made the MNIST way: 20 px tall, about 2 px strokes, centred by mass in 28x28.
    digit = Image.new("L", (14, 20), 0)
    ImageDraw.Draw(digit).ellipse((0, 0, 13, 19), outline=255, width=2)
    cy, cx = centre_of_mass(np.asarray(digit, np.float64))
    top, left = int(np.floor(14 - cy + 0.5)), int(np.floor(14 - cx + 0.5))
    x = np.zeros((28, 28), np.uint8)
    x[top : top + 20, left : left + 14] = np.asarray(digit)
    np.testing.assert_allclose(to_mnist(x), x / 255.0, atol=1e-6)


def test_lighting_paper_texture_and_a_ruled_line_do_not_become_ink():
    clean = ring(size=(300, 300), width=6, ink=40, paper=200).astype(np.float32)
    ruled = clean.copy()
    ruled[148:151, :] = np.minimum(ruled[148:151, :], 120)  # a ruled line through the "0"
    rows, cols = np.indices(clean.shape)
    light = 0.55 + 0.45 * cols / 300 + 0.1 * np.sin(rows / 60)  # a shadow across the sheet
    texture = np.random.default_rng(0).normal(0, 5, clean.shape)
    x = to_mnist(np.clip(ruled * light + texture, 0, 255).astype(np.uint8))
    assert_mnist_like(x)
    assert x[11:18, 11:17].max() == 0  # nothing inside the "0": the line is gone
    # No ink where the clean sheet has none (give or take a pixel), and about as much ink.
    reference = to_mnist(clean.astype(np.uint8))
    assert x[imaging._grow(reference, 1) == 0].max() == 0
    assert abs(x.sum() - reference.sum()) < 0.2 * reference.sum()


def speck(rng):
    paper = np.full((300, 300), 230)
    paper[150:152, 150:152] = 20  # a speck of dust
    return paper


@pytest.mark.parametrize("make", [
    lambda rng: np.full((100, 120), 255),  # white paper
    lambda rng: np.zeros((28, 28)),  # black
    lambda rng: 90 + 100 * np.indices((200, 150))[1] / 150,  # a lighting gradient
    lambda rng: rng.normal(180, 6, (200, 200)),  # paper texture
    lambda rng: np.where(np.arange(300)[:, None] % 50, 220, 120) + rng.normal(0, 3, (300, 300)),
    speck,
], ids=["white", "black", "gradient", "texture", "ruled", "speck"])
def test_blank_paper_has_no_digit(make, tmp_path):
    blank = np.clip(make(np.random.default_rng(1)), 0, 255).astype(np.uint8)
    with pytest.raises(ImageError, match="no digit found"):
        to_mnist(blank)
    path = save(tmp_path, blank, "blank.png")
    with pytest.raises(ImageError) as err:
        preprocess(path)
    assert str(err.value) == f"no digit found in {path} (the image is blank)."


# --- Reading files --------------------------------------------------------------------------------


def test_preprocess_scales_to_mnist_range(tmp_path):
    path = save(tmp_path, ring())
    x = preprocess(path)
    assert x.shape == (1, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0], to_mnist(ring()) * 2 - 1, atol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        preprocess(path, mode="fancy")


def test_load_image_is_the_chapter_formula(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (45, 37, 3), dtype=np.uint8)
    path = save(tmp_path, rgb)
    with Image.open(path) as im:
        im = im.convert("L").resize((28, 28), Image.Resampling.LANCZOS)
    expected = np.array(im).reshape(1, 1, 28, 28).astype(np.float32) / 255.0 * 2.0 - 1.0
    np.testing.assert_array_equal(load_image(path), expected)
    np.testing.assert_array_equal(preprocess(path, mode="book"), expected)


def test_transparent_png_is_laid_on_white(tmp_path):
    drawing = Image.new("RGBA", (120, 120), (0, 0, 0, 0))  # a paint program's transparent canvas
    ImageDraw.Draw(drawing).ellipse((30, 15, 90, 105), outline=(0, 0, 0, 255), width=6)
    grey = np.asarray(open_image(save(tmp_path, drawing)))
    assert grey[0, 0] == 255 and grey[60, 32] == 0  # white paper, black ink
    assert_mnist_like(preprocess(save(tmp_path, drawing))[0, 0] / 2 + 0.5)
    # White ink on transparency would vanish on white paper: it is laid on black instead.
    white = Image.new("RGBA", (120, 120), (255, 255, 255, 0))
    ImageDraw.Draw(white).ellipse((30, 15, 90, 105), outline=(255, 255, 255, 255), width=6)
    np.testing.assert_allclose(preprocess(save(tmp_path, white, "white.png")),
                               preprocess(save(tmp_path, drawing)), atol=0.05)


def test_palette_image_with_transparency(tmp_path):
    im = Image.new("P", (80, 100), 0)
    im.putpalette([0, 0, 0, 10, 10, 200] + [0] * 762)
    ImageDraw.Draw(im).ellipse((20, 10, 60, 90), outline=1, width=5)
    path = save(tmp_path, im, "palette.png", transparency=0)  # colour 0 (black) is transparent
    grey = np.asarray(open_image(path))
    assert grey[0, 0] == 255 and grey[50, 21] < 100
    assert_mnist_like(preprocess(path)[0, 0] / 2 + 0.5)


@pytest.mark.parametrize("orientation, stored", [
    (6, Image.Transpose.ROTATE_90),  # stored turned a quarter left: shown turned right
    (8, Image.Transpose.ROTATE_270),
    (3, Image.Transpose.ROTATE_180),
])
def test_exif_rotated_jpeg_comes_out_the_right_way_up(tmp_path, orientation, stored):
    upright = Image.fromarray(seven())  # 160 wide, 200 tall
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(tmp_path, upright.transpose(stored), "photo.jpg", exif=exif, quality=95)
    grey = open_image(path)
    assert grey.size == upright.size
    assert np.abs(np.asarray(grey, np.float32) - np.asarray(upright, np.float32)).mean() < 4
    # The same digit as from the upright image (but for JPEG's artefacts), not a turned one.
    assert np.abs(preprocess(path)[0, 0] - (to_mnist(np.asarray(upright)) * 2 - 1)).mean() < 0.03


def test_sixteen_bit_grey_is_scaled_to_eight_bits(tmp_path):
    digit = ring().astype(np.uint16) * 257  # 0..65535
    path = save(tmp_path, Image.fromarray(digit), "deep.png")
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    grey = open_image(path)
    assert grey.mode == "L"
    np.testing.assert_array_equal(np.asarray(grey), ring())
    np.testing.assert_allclose(preprocess(path)[0, 0], to_mnist(ring()) * 2 - 1, atol=1e-6)


def test_cmyk_jpeg(tmp_path):
    im = Image.new("CMYK", (150, 150), (0, 0, 0, 0))  # no ink: white paper
    ImageDraw.Draw(im).ellipse((40, 20, 110, 130), outline=(0, 0, 0, 255), width=8)  # black ink
    path = save(tmp_path, im, "cmyk.jpg", quality=95)
    grey = np.asarray(open_image(path))
    assert grey[0, 0] > 240 and grey[75, 44] < 40
    assert_mnist_like(preprocess(path)[0, 0] / 2 + 0.5)


def test_animated_gif_uses_its_first_frame(tmp_path):
    first = Image.fromarray(ring()).convert("P")
    second = Image.new("L", (200, 200), 225)
    ImageDraw.Draw(second).line([(100, 30), (100, 170)], fill=30, width=10)  # a "1"
    path = save(tmp_path, first, "anim.gif", save_all=True, append_images=[second.convert("P")],
                duration=100, loop=0)
    with Image.open(path) as im:
        assert im.n_frames == 2
    still = save(tmp_path, first, "still.gif")
    np.testing.assert_array_equal(preprocess(path), preprocess(still))


def test_one_pixel_image(tmp_path):
    for value in (0, 255):
        with pytest.raises(ImageError, match="blank"):
            preprocess(save(tmp_path, np.full((1, 1), value, np.uint8), f"dot{value}.png"))


def png_header_only(width, height):
    """A PNG that claims width x height pixels (1 bit) and holds none: a header, nothing more."""
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8000, 10000, 20000, 100000])
def test_huge_image_is_refused_before_decoding(tmp_path, side):
    # 64 Mpixel (over our limit), 100 (Pillow warns), 400 and 10,000 (Pillow refuses): each an
    # ImageError naming the file, at once; decoding them would take gigabytes.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(side, side))
    for read in (preprocess, load_image, open_image):
        with pytest.raises(ImageError, match="too large") as err:
            read(str(path))
        assert str(path) in str(err.value)


def test_a_real_big_image_compressed_small_is_refused(tmp_path):
    path = save(tmp_path, Image.new("1", (7100, 7100), 1), "big.png")  # 50.4 Mpixel, a few kB
    with pytest.raises(ImageError, match="too large"):
        preprocess(path)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"digit: 3\nthis is a text file, renamed .png\n", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image"),  # a PNG signature, then garbage
])
def test_not_an_image(tmp_path, content, message):
    path = tmp_path / "digit.png"
    path.write_bytes(content)
    for read in (preprocess, load_image, open_image):
        with pytest.raises(ImageError, match=message) as err:
            read(str(path))
        assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"])
def test_truncated_image(tmp_path, fmt):
    buf = io.BytesIO()
    Image.fromarray(ring()).save(buf, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    for mode in ("mnist", "book"):
        with pytest.raises(ImageError) as err:
            preprocess(str(path), mode)
        assert str(path) in str(err.value)


def test_missing_file_and_folder(tmp_path):
    for path in (tmp_path / "nothing.png", tmp_path):
        with pytest.raises(ImageError) as err:
            preprocess(str(path))
        assert str(path) in str(err.value)
    assert issubclass(ImageError, RecognizeDigitsError)  # the scripts print it as one line


# --- Anything at all: a digit, or an ImageError ------------------------------------------------


def check_result(x, shape):
    assert x.shape == shape and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= -1 and x.max() <= 1


images = st.tuples(st.integers(1, 48), st.integers(1, 48), st.integers(0, 2**32 - 1)).map(
    lambda t: np.random.default_rng(t[2]).integers(0, 256, (t[0], t[1]), dtype=np.uint8)
)
shapes = st.sampled_from(["noise", "blocks", "two levels", "one stroke"])
FIXTURE = HealthCheck.function_scoped_fixture  # one tmp_path for all examples: each rewrites it
MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM"]  # start like a real image


def make_image(array, kind, rng):
    h, w = array.shape
    if kind == "blocks":  # coarse random blobs
        small = rng.integers(0, 256, (max(1, h // 8), max(1, w // 8)), dtype=np.uint8)
        return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.NEAREST))
    if kind == "two levels":
        low, high = rng.integers(0, 256, 2)
        return np.where(array > rng.integers(0, 256), high, low).astype(np.uint8)
    if kind == "one stroke":
        im = Image.new("L", (w, h), int(rng.integers(0, 256)))
        ImageDraw.Draw(im).line([tuple(rng.integers(0, 48, 2)), tuple(rng.integers(0, 48, 2))],
                                fill=int(rng.integers(0, 256)), width=int(rng.integers(1, 6)))
        return np.asarray(im)
    return array


@settings(max_examples=150, deadline=None)
@given(images, shapes, st.integers(0, 2**32 - 1))
def test_any_grey_array_gives_a_digit_or_image_error(array, kind, seed):
    grey = make_image(array, kind, np.random.default_rng(seed))
    try:
        x = to_mnist(grey)
    except ImageError as err:
        assert "no digit found" in str(err)
        return
    check_result(x * 2 - 1, (28, 28))


@settings(max_examples=60, deadline=None, suppress_health_check=[FIXTURE])
@given(images, st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "CMYK"]),
       st.sampled_from(["png", "gif", "jpg", "bmp", "tiff", "webp"]))
def test_any_image_file_gives_a_digit_or_image_error(tmp_path, array, mode, ext):
    im = Image.fromarray(array)
    im = im.convert(mode) if mode != "I;16" else Image.fromarray(array.astype(np.uint16) * 257)
    path = tmp_path / f"random.{ext}"
    try:
        im.save(path)
    except (OSError, ValueError, KeyError):
        return  # a mode this format cannot hold: nothing to read
    for mode_ in ("mnist", "book"):
        try:
            x = preprocess(str(path), mode_)
        except ImageError:
            continue
        check_result(x, (1, 1, 28, 28))


@settings(max_examples=80, deadline=None, suppress_health_check=[FIXTURE])
@given(st.binary(max_size=2000), st.sampled_from(MAGIC))
def test_any_bytes_give_a_digit_or_image_error(tmp_path, data, magic):
    path = tmp_path / "random.png"
    path.write_bytes(magic + data)
    for mode in ("mnist", "book"):
        try:
            x = preprocess(str(path), mode)
        except ImageError:
            continue
        check_result(x, (1, 1, 28, 28))
