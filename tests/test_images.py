"""Reading users' image files (`open_image`, `load_image`, and `preprocess` on files): every
kind of bad or unusual file must give a result or an ImageError naming it, never another exception.
"""

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from drawings import assert_mnist_like, check_result, grey_arrays, ring, save, seven
from recognize_digits import RecognizeDigitsError
from recognize_digits.images.loading import ImageError, load_image, open_image
from recognize_digits.images.preprocess import preprocess, to_mnist


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


@pytest.mark.parametrize("bits", [10, 12, 14])
def test_sixteen_bit_data_of_fewer_bits_is_scaled_by_the_bits_it_uses(tmp_path, bits):
    # 12-bit data in a 16-bit PNG is 0..4095: divided by 257, 16 grey levels, a blank image.
    top = 2**bits - 1
    digit = np.round(ring() / 255 * top).astype(np.uint16)
    path = save(tmp_path, Image.fromarray(digit), "deep.png")
    grey = np.asarray(open_image(path), np.float32)
    assert np.abs(grey - ring()).max() <= 1
    assert np.abs(preprocess(path)[0, 0] - (to_mnist(ring()) * 2 - 1)).mean() < 0.01


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


def test_a_file_object_reads_as_the_file_and_is_named_in_errors(tmp_path):
    """An upload's bytes in memory (io.BytesIO) give what the file gives; errors use `name`."""
    path = save(tmp_path, ring())
    with open(path, "rb") as f:
        body = f.read()
    assert np.array_equal(np.asarray(open_image(io.BytesIO(body))), np.asarray(open_image(path)))
    for mode in ("mnist", "book"):
        assert np.array_equal(preprocess(io.BytesIO(body), mode, name="upload"),
                              preprocess(path, mode))
    blank = io.BytesIO()
    Image.new("L", (50, 50), 255).save(blank, "PNG")
    for body, message in [(b"", "upload is empty (0 bytes), not an image."),
                          (b"not an image", "upload is not an image Pillow can read"),
                          (body[: len(body) // 2], "upload is damaged or truncated"),
                          (blank.getvalue(), "no digit found in upload (the image is blank).")]:
        for read in (preprocess, load_image, open_image):
            if read is not preprocess and "no digit" in message:
                continue  # only preprocess looks for a digit
            with pytest.raises(ImageError) as err:
                read(io.BytesIO(body), name="upload")
            assert str(err.value).startswith(message)


# --- Anything at all: a digit, or an ImageError ------------------------------------------------


FIXTURE = HealthCheck.function_scoped_fixture  # one tmp_path for all examples: each rewrites it
MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM"]  # start like a real image


def assert_digit_or_image_error(path):
    for mode in ("mnist", "book"):
        try:
            x = preprocess(str(path), mode)
        except ImageError:
            continue
        check_result(x, (1, 1, 28, 28))


@settings(max_examples=60, deadline=None, suppress_health_check=[FIXTURE])
@given(grey_arrays, st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "CMYK"]),
       st.sampled_from(["png", "gif", "jpg", "bmp", "tiff", "webp"]))
def test_any_image_file_gives_a_digit_or_image_error(tmp_path, array, mode, ext):
    im = Image.fromarray(array)
    im = im.convert(mode) if mode != "I;16" else Image.fromarray(array.astype(np.uint16) * 257)
    path = tmp_path / f"random.{ext}"
    try:
        im.save(path)
    except (OSError, ValueError, KeyError):
        return  # a mode this format cannot hold: nothing to read
    assert_digit_or_image_error(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[FIXTURE])
@given(st.binary(max_size=2000), st.sampled_from(MAGIC))
def test_any_bytes_give_a_digit_or_image_error(tmp_path, data, magic):
    path = tmp_path / "random.png"
    path.write_bytes(magic + data)
    assert_digit_or_image_error(path)
