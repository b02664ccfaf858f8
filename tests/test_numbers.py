"""Reading a number: the ink split into digits (segment.py) on drawings the tests make, and what
infer.py and the page answer for a number (number.py), with the LeNet-5 the tests train."""

import base64
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import infer
from drawings import box_digit, grey_arrays, pen_zero, ring, save, seven, side_by_side
from recognize_digits.images import morphology, sureness
from recognize_digits.images.loading import ImageError
from recognize_digits.inference import Predictor
from recognize_digits.images.number import digit_inputs, prediction, reading
from recognize_digits.run import cli
from recognize_digits.images.preprocess import find_ink_in, preprocess
from recognize_digits.images.segment import split_digits
from recognize_digits.serve.server import DigitReader

INFER_3 = "image/infer_3.png"


def places_in(grey):
    """segment.split_digits on a grey drawing: (places, unplaced)."""
    return split_digits(find_ink_in(grey))


def first_way_boxes(places):
    return [[int(v) for v in ways[0][0].box] for ways in places]


# --- connected components ---------------------------------------------------------------------


def flood_fill_count(mask):
    """The number of 8-connected pieces of a small mask, the slow and obvious way."""
    seen, count = np.zeros_like(mask), 0
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        count, stack = count + 1, [start]
        seen[start] = True
        while stack:
            y, x = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    p = (y + dy, x + dx)
                    if 0 <= p[0] < mask.shape[0] and 0 <= p[1] < mask.shape[1] and mask[p] \
                            and not seen[p]:
                        seen[p] = True
                        stack.append(p)
    return count


def test_connected_components_are_those_a_flood_fill_finds():
    rng = np.random.default_rng(0)
    for _ in range(40):
        mask = rng.random(tuple(rng.integers(1, 25, 2))) < rng.uniform(0.1, 0.6)
        labels = morphology.label(mask)
        assert labels.max() == flood_fill_count(mask)
        assert ((labels > 0) == mask).all()
        assert all(flood_fill_count(labels == n) == 1 for n in range(1, labels.max() + 1))


# --- segmentation ------------------------------------------------------------------------------


def test_digits_apart_are_found_left_to_right():
    digits = [box_digit(d, 60, width=3) for d in (2, 0, 4, 7)]
    places, unplaced = places_in(side_by_side(digits, gap=12))
    assert unplaced == [] and len(places) == 4
    boxes = first_way_boxes(places)
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # left to right
    for left, top, right, bottom in boxes:
        assert 40 <= bottom - top <= 50 and right - left <= 50  # one digit each (46 px tall)


def test_digits_that_touch_are_cut_apart():
    zero = ring(size=(50, 70), box=(2, 2, 47, 67), width=4, paper=255)
    zeros = side_by_side([zero, zero], gap=-4, margin=0)  # the rings overlap
    places, unplaced = places_in(side_by_side([box_digit(7, 70, width=4), zeros], gap=15))
    assert unplaced == [] and len(places) == 2
    ways = places[1]
    assert len(ways[0]) == 1  # one wide digit, or two cut apart: the model chooses
    cuts = [way[0].right - ways[0][0].left for way in ways if len(way) == 2]
    assert any(abs(cut - 46) <= 3 for cut in cuts)  # where the rings meet, 46 px in


def broken_five(size=60, width=3):
    """A 5 whose flag is a stroke of its own, apart from the body."""
    five = box_digit(5, size, width=width)
    five[: size // 5, size // 3 :] = 255  # lift the flag off...
    im = Image.fromarray(five)
    ImageDraw.Draw(im).line((size // 2, 2, size - 8, 2), fill=0, width=width)  # ...draw it higher
    return np.asarray(im)


def broken_seven(size=60, width=3):
    """A 7 whose bar does not touch its stem."""
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    draw.line((8, 8, size - 10, 8), fill=0, width=width)
    draw.line((size - 12, 14, size // 3, size - 6), fill=0, width=width)
    return np.asarray(im)


def broken_four(size=60, width=3):
    """A 4 in two strokes: an L down and across, and an upright that it stops short of."""
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    draw.line((12, 6, 12, 36, 38, 36), fill=0, width=width, joint="curve")
    draw.line((42, 6, 42, size - 6), fill=0, width=width)
    return np.asarray(im)


def five_broken_across(size=60, width=3):
    """A 5 alone, broken across its belly: the two pieces are further apart than a quarter of
    the taller one's height (as in some of MNIST's 5s), not of the digit's."""
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    draw.line((45, 8, 15, 8, 15, 28, 40, 30), fill=0, width=width, joint="curve")
    draw.line((44, 39, 42, 50, 14, 52), fill=0, width=width, joint="curve")
    return np.asarray(im)


def test_a_lone_digit_broken_across_is_one_digit():
    places, unplaced = places_in(five_broken_across())
    assert unplaced == [] and len(places) == 1
    (left, top, right, bottom), = first_way_boxes(places)
    assert bottom - top >= 40  # both pieces


@pytest.mark.parametrize("broken", [broken_five, broken_seven, broken_four])
def test_a_digit_in_pieces_is_read_as_one(broken):
    drawing = broken()
    assert morphology.label(find_ink_in(drawing) > 0).max() == 2  # it is in two pieces
    places, unplaced = places_in(side_by_side([drawing, box_digit(0, 60, width=3)], gap=14))
    assert unplaced == [] and len(places) == 2
    first, second = first_way_boxes(places)
    assert first[2] < second[0]  # the pieces are the first digit, the 0 the second
    assert first[2] - first[0] >= 25  # the whole digit, both its pieces


def tight(grey, margin=2):
    """A drawing cropped to its ink, `margin` px of paper left round it."""
    rows, cols = np.flatnonzero((grey < 128).any(axis=1)), np.flatnonzero((grey < 128).any(axis=0))
    return grey[max(0, rows[0] - margin) : rows[-1] + 1 + margin,
                max(0, cols[0] - margin) : cols[-1] + 1 + margin]


@pytest.mark.parametrize("tilt", [-20, 0, 20])
@pytest.mark.parametrize("width", [2, 6, 12])
@pytest.mark.parametrize("over", [30, 70])
def test_a_zero_whose_stroke_runs_past_its_start_is_one_digit(tilt, width, over):
    places, unplaced = places_in(pen_zero(width=width, tilt=tilt, over=over))
    assert unplaced == [] and len(places) == 1 and len(places[0]) == 1


@pytest.mark.parametrize("tilt", [-15, 0, 15])
@pytest.mark.parametrize("width", [2, 5, 9])
@pytest.mark.parametrize("skips", [((175, 6), (352, 6)), ((160, 10), (10, 4)), ((200, 4), (340, 8))])
def test_a_zero_broken_into_its_two_sides_is_one_digit(tilt, width, skips):
    # The pen skipped at the bottom and at the top, where it also ran past its start: the two
    # sides are pieces of their own, each as tall as the 0 (a "0" read as "01" or "11").
    drawing = pen_zero(width=width, tilt=tilt, over=40, skips=skips)
    assert morphology.label(find_ink_in(drawing) > 0).max() >= 2
    places, unplaced = places_in(drawing)
    assert unplaced == [] and len(places) == 1
    (whole,), *_ = places[0]  # read first as one digit, both sides (the model chooses)
    assert whole.width >= 0.5 * drawing.shape[1] and whole.height >= 0.7 * drawing.shape[0]


@pytest.mark.parametrize("tilt", [-10, 0, 10])
@pytest.mark.parametrize("width", [3, 8])
def test_a_wide_lone_zero_is_not_cut_across_its_loop(tilt, width):
    # A lone 0 1.7 times as wide as it is tall is wide enough to be two digits that touch: but
    # a cut across its loop (closed, or all but, where the pen ran past its start) cuts no pair.
    places, unplaced = places_in(pen_zero(size=(300, 140), width=width, tilt=tilt, over=40))
    assert unplaced == [] and len(places) == 1
    assert len(places[0]) == 1 and len(places[0][0]) == 1  # one way: one digit

def one(height=66, width=4):
    """A "1": an upright."""
    im = np.full((height, 3 * width), 255, np.uint8)
    im[2:-2, width : 2 * width] = 0
    return im


@pytest.mark.parametrize("number", ["00", "01", "10", "11"])
@pytest.mark.parametrize("gap", [1, 4, 10])
def test_zeros_and_ones_written_apart_are_still_two_digits(number, gap):
    zero = tight(pen_zero(size=(60, 84), width=4, over=40))
    digits = [zero if d == "0" else one(zero.shape[0]) for d in number]
    places, unplaced = places_in(side_by_side(digits, gap=gap))
    assert unplaced == [] and len(places) == 2

def test_a_stray_mark_is_no_digit_and_named(tmp_path):
    sheet = side_by_side([box_digit(d, 60, width=3) for d in (4, 2)], gap=12, margin=40)
    sheet[6:16, 150:160] = 0  # a blot far from both digits (too big to be a speck of dust)
    places, unplaced = places_in(sheet)
    assert len(places) == 2 and len(unplaced) == 1
    path = save(tmp_path, sheet, "stray.png")
    with pytest.raises(ImageError) as err:
        digit_inputs(path)
    message = str(err.value)
    assert message.startswith(f"{path} holds ink that is no digit") and "\n" not in message
    assert "--digits one" in message


def test_a_pattern_of_many_pieces_is_no_number():
    dots = np.full((120, 400), 255, np.uint8)
    dots[10:110:8, 10:390:8] = 0  # a grid of 13 x 48 dots, all alike
    with pytest.raises(ImageError, match=r"holds \d+ pieces of ink, too many for a number"):
        digit_inputs(io.BytesIO(png(dots)), name="dots.png")


def png(grey):
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return buffer.getvalue()


@settings(max_examples=60, deadline=None)
@given(grey_arrays, st.integers(0, 3))
def test_any_image_gives_digits_or_a_one_line_error(array, digits):
    if digits:  # or a row of box digits on the noise
        row = side_by_side([box_digit(d, 30, width=2) for d in (2, 3, 5)[:digits]], gap=4)
        array = np.minimum(np.resize(array, row.shape), row)
    try:
        inputs, places = digit_inputs(io.BytesIO(png(array)), name="random.png")
    except ImageError as err:
        assert "\n" not in str(err) and "random.png" in str(err)
        return
    assert inputs.shape[1:] == (1, 28, 28) and np.isfinite(inputs).all()
    assert len(inputs) == sum(len(way) for ways in places for way in ways)


# --- reading a number: infer.py's output ---------------------------------------------------------


@pytest.fixture(scope="module")
def number_042(mnist_test, tmp_path_factory):
    """042 written with MNIST test digits, dark on light, each 84 px tall: (path, the digits'
    left edges on the sheet)."""
    images, labels = mnist_test
    digits = []
    for d in (0, 4, 2):
        white = ((images[np.flatnonzero(labels == d)[0], 0] + 1) * 127.5).round().astype(np.uint8)
        big = Image.fromarray(255 - white).resize((84, 84), Image.Resampling.BICUBIC)
        digits.append(np.asarray(big))
    path = save(tmp_path_factory.mktemp("number"), side_by_side(digits, gap=10, margin=20),
                "042.png")
    return path, [20, 20 + 94, 20 + 188]


@pytest.fixture(scope="module")
def predictor(model_dir):
    return Predictor(model_dir)


def test_a_number_reads_with_its_digits_and_their_boxes(number_042, predictor):
    path, lefts = number_042
    inputs, places = digit_inputs(path)
    result = reading(path, predictor(inputs), places, top_k=2)
    assert result["number"] == "042" and isinstance(result["number"], str)
    assert result["label"] is None and result["path"] == path
    digits = result["digits"]
    assert [d["label"] for d in digits] == [0, 4, 2]
    assert result["probability"] == pytest.approx(np.prod([d["probability"] for d in digits]),
                                                  abs=1e-5)
    assert result["top_k"][0] == {"number": "042", "probability": result["probability"]}
    assert len(result["top_k"]) == 2 and result["top_k"][1]["probability"] <= result["probability"]
    for digit, left in zip(digits, lefts):
        assert set(digit) == {"label", "probability", "top_k", "box", "sure"}
        assert len(digit["top_k"]) == 2 and digit["top_k"][0]["label"] == digit["label"]
        box_left, top, box_right, bottom = digit["box"]
        assert left - 2 <= box_left < box_right <= left + 86 and 18 <= top < bottom <= 106
    json.dumps(result)  # JSON-ready as it is


def test_one_digit_reads_exactly_as_before(predictor, tmp_path):
    for path in (INFER_3, save(tmp_path, ring())):
        inputs, places = digit_inputs(path)
        np.testing.assert_array_equal(inputs, preprocess(path))
        probabilities = predictor(preprocess(path))
        before = prediction(path, probabilities[0], 3)
        assert reading(path, predictor(inputs), places, 3) == {
            **before, "sure": bool(probabilities[0].max() >= sureness.SURE_P)}


def run_infer(capsys, *args):
    """infer.py in this process: (exit status, stdout lines, stderr lines)."""
    status = cli.run(infer.main, list(args), prog="infer.py")
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def test_infer_prints_a_number_and_keeps_the_single_digit_line(number_042, model_dir, capsys):
    path, _ = number_042
    status, out, err = run_infer(capsys, path, INFER_3, "--model-dir", model_dir)
    assert status == 0 and err == []
    number_line, digit_line = out
    assert number_line.startswith(f"Inference result of {path} is: 042 (0: ")
    assert ", 4: " in number_line and ", 2: " in number_line
    assert number_line.endswith(("%)", "%, not sure)"))
    assert digit_line.startswith(f"Inference result of {INFER_3} is: 3 (")
    assert digit_line.endswith("%)") and "top" not in digit_line  # a sure 3

    status, out, _ = run_infer(capsys, path, "--model-dir", model_dir, "--digits", "one")
    line, = out
    assert status == 0 and line.startswith(f"Inference result of {path} is: ")
    assert len(line.split(" is: ")[1].split(" (")[0]) == 1  # one digit, the old way

    status, out, _ = run_infer(capsys, path, INFER_3, "--model-dir", model_dir, "--json")
    number, digit = map(json.loads, out)
    assert number["number"] == "042" and len(number["digits"]) == 3
    assert set(digit) == {"path", "label", "probability", "top_k", "sure"}
    assert digit["label"] == 3 and digit["sure"] is True
    assert number["sure"] == all(d["sure"] for d in number["digits"])


def test_what_it_cannot_place_it_says_in_one_line(model_dir, tmp_path, capsys):
    blank = save(tmp_path, np.full((60, 90), 230, np.uint8), "blank.png")
    sheet = side_by_side([box_digit(d, 60, width=3) for d in (4, 2)], gap=12, margin=40)
    sheet[6:16, 150:160] = 0
    stray = save(tmp_path, sheet, "stray.png")
    status, out, err = run_infer(capsys, blank, stray, "--model-dir", model_dir)
    assert status == 1 and out == []
    assert err == [f"infer.py: error: no digit found in {blank} (the image is blank).",
                   err[1]]
    assert err[1].startswith(f"infer.py: error: {stray} holds ink that is no digit")


def test_the_page_gets_a_number_and_a_28x28_image_per_digit(number_042, predictor):
    path, _ = number_042
    with open(path, "rb") as f:
        result = DigitReader(predictor, top_k=3)(f.read(), "042.png")
    assert result["number"] == "042" and result["path"] == "042.png"
    assert len(result["input"]) == 3
    for png in result["input"]:
        assert Image.open(io.BytesIO(base64.b64decode(png))).size == (28, 28)


# --- not sure -----------------------------------------------------------------------------------


def _star(size=200, width=6):
    im = Image.new("L", (size, size), 255)
    points = [(size / 2 + (0.4 if i % 2 == 0 else 0.17) * size * np.cos(i * np.pi / 5 - np.pi / 2),
               size / 2 + (0.4 if i % 2 == 0 else 0.17) * size * np.sin(i * np.pi / 5 - np.pi / 2))
              for i in range(10)]
    ImageDraw.Draw(im).line(points + [points[0]], fill=0, width=width)
    return np.asarray(im)


def _grid(size=200, width=3):
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    for at in range(30, size - 29, 35):
        draw.line((at, 30, at, size - 30), fill=0, width=width)
        draw.line((30, at, size - 30, at), fill=0, width=width)
    return np.asarray(im)


def test_mnist_digits_look_like_their_digit_and_shapes_like_none(mnist_test):
    images, labels = mnist_test
    shapes = sureness.digit_shapes()  # made from MNIST's training digits, in Paddle's cache
    assert shapes is not None
    inside = sureness.shape_distances(images[:500], labels[:500], shapes) <= sureness.SURE_DISTANCE
    assert inside.mean() >= 0.96
    for shape in (_star(), _grid(), _star(width=12)):
        x = preprocess(io.BytesIO(png_bytes(shape)))
        assert (sureness.shape_distances(np.repeat(x, 10, axis=0), range(10), shapes)
                > sureness.SURE_DISTANCE).all()


def png_bytes(grey):
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_number_is_sure_only_if_each_of_its_digits_is():
    places = [[[(0, 0, 10, 10)]], [[(10, 0, 20, 10)]]]
    sure, unsure = np.eye(10)[4] * 0.99 + 0.001, np.full(10, 0.1)
    result = reading("n.png", np.stack([sure, unsure]), places)
    assert [d["sure"] for d in result["digits"]] == [True, False] and result["sure"] is False
    assert reading("n.png", np.stack([sure, sure]), places)["sure"] is True


def test_a_shape_with_no_digit_is_answered_not_sure(model_dir, tmp_path, capsys):
    star = save(tmp_path, _star(), "star.png")
    status, out, _ = run_infer(capsys, star, INFER_3, "--model-dir", model_dir)
    star_line, three_line = out
    assert status == 0 and star_line.endswith(", not sure)")  # the best guess, and "not sure"
    assert star_line.split(" is: ")[1][0].isdigit()
    assert not three_line.endswith("not sure)")
    status, out, _ = run_infer(capsys, star, "--model-dir", model_dir, "--json")
    assert json.loads(out[0])["sure"] is False


def test_the_page_gets_sure(predictor):
    with open(INFER_3, "rb") as f:
        assert DigitReader(predictor)(f.read(), "3.png")["sure"] is True
    assert DigitReader(predictor)(png_bytes(_star()), "star.png")["sure"] is False


# --- size: a long strip, a row of many digits ---------------------------------------------------


def test_a_number_in_a_long_strip_is_read_and_a_row_of_many_digits_refused_saying_why(
        predictor, tmp_path):
    # Shrunk by its long side to 512 pixels, a 20000x200 strip was 5 pixels tall: blank.
    digits = [seven((120, 150), width=12), ring((150, 150), width=12), seven((120, 150), width=12)]
    number = side_by_side(digits, gap=30, margin=25)
    strip = np.full((200, 20000), 255, np.uint8)
    strip[:, 9000 : 9000 + number.shape[1]] = number
    path = save(tmp_path, strip, "strip.png")
    inputs, places = digit_inputs(path)
    result = reading(path, predictor(inputs), places, inputs=inputs)
    assert result["number"] == "707"
    assert [d["box"][1] >= 20 and d["box"][3] <= 180 for d in result["digits"]] == [True] * 3

    row = save(tmp_path, np.hstack([box_digit((0, 2, 3, 4, 5, 7)[d % 6], 28, width=2)
                                    for d in range(300)]),
               "row.png")
    with pytest.raises(ImageError, match="too many for a number"):
        digit_inputs(row)
