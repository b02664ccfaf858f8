"""Splitting the ink of a written number into its digits, left to right: `split_digits`.

A number on paper is a row of digits, and each digit is mostly one connected piece of ink, so the
digits start as the connected components of the ink (morphology.label). But not always:

    - a digit may come in several pieces: a 5's flag or a 7's bar written as a stroke of its own,
      the two strokes of a 4, a pencil line that broke. Such a piece is short beside the digits
      of the row (a fragment), and it stands over or under its digit, or close beside it: it is
      joined to that digit;
    - two digits may touch: one piece, wider than a digit of its height would be. It could be
      one wide digit, or several cut apart where the least ink crosses: both ways are kept,
      and the model chooses (number.py: the way whose digits it reads most surely).

What cannot be joined to a digit, and is too small to be one, is a piece the reader cannot place:
`split_digits` returns it apart, and infer.py says so rather than guess. Only numpy.
"""

import numpy as np

from recognize_digits.images import morphology
from recognize_digits.images.pieces import components, joined, left_edge, piece

WHOLE = 0.75  # a piece at least 3/4 as tall as the tallest is a digit; a shorter one, a fragment
OWN_DIGIT = 0.4  # a fragment that joins no digit is a (small) digit if 40% as tall as the tallest
STACKED = 0.5  # pieces whose columns overlap by half the narrower one's width are one digit...
JOIN_GAP = 0.25  # ...and a small fragment joins a digit at most 1/4 of the row's height beside it
NEARLY_TOUCHING = 0.08  # (a taller one, only if this close: the part of a 4 beside its upright)...
DIGIT_WIDTH = 1.5  # ...if the digit it makes is at most 1.5 times as wide as the row is tall
# Digits that touch are cut no narrower than this many times their height: in a row of several,
# where touching is common, 0.45; alone, 0.75 (most images hold one digit, and 3 in 1,000 of
# MNIST's are 1.5 times as wide as tall: a lone piece that wide may still be one digit).
NARROWEST_IN_ROW, NARROWEST_ALONE = 0.45, 0.75
MOST_TOUCHING = 4  # at most 4 digits in one piece of ink
NEGLIGIBLE = 0.05  # a piece with under 5% of the largest one's pixels is dust: left out
MOST_PIECES = 60  # more pieces than this is no number (a page of text, a pattern)
# Two pieces side by side that, bridged across NEARLY_TOUCHING of the row's height, close a loop
# neither has, at least 15% of their box, may be one digit: a 0 whose stroke broke (a pen that
# skips, faint ink), or went round in two strokes. They are read both ways (_join_loops).
LOOP = 0.15


def split_digits(ink):
    """The digits in `ink` (white on black, 0 off the ink), left to right.

    Returns (places, unplaced). Each place is a list of the ways to read it: [piece] as one
    digit, then, if it is wide enough to be digits that touch, [left, right] cut in two, and so
    on. `unplaced` holds the pieces of ink that are no digit and belong to none. TooManyPieces
    if there are more than MOST_PIECES.
    """
    pieces = components(ink > 0, NEGLIGIBLE, MOST_PIECES)
    if not pieces:
        return [], []
    row_height = max(piece.height for piece in pieces)
    pieces = _join_stacked(pieces, row_height)
    digits, unplaced = _join_fragments(pieces, row_height)
    digits, sides = _join_loops(digits, row_height)
    in_row = len(digits) > 1
    return [_ways(digit, in_row) + sides.get(id(digit), []) for digit in digits], unplaced


# --- a digit in several pieces -------------------------------------------------------------------
def _join_stacked(pieces, row_height):
    """Join the pieces that stand over one another (a 5's flag over its body, a 7's bar over its
    stem, a stroke broken across), until none is left.

    Two digits side by side may overlap in columns too (a slanted hand): they are as tall as the
    row, and side by side their rows overlap mostly. Pieces of one digit are shorter, or one
    above the other.
    """
    pieces = list(pieces)
    i = 0
    while i < len(pieces):
        for j in range(len(pieces)):
            a, b = pieces[i], pieces[j]
            if i != j and _stacked(a, b, row_height) and (
                    min(a.height, b.height) < WHOLE * row_height
                    or _rows_overlap(a, b) < STACKED * min(a.height, b.height)):
                pieces[min(i, j)] = joined(a, b)
                del pieces[max(i, j)]
                i = -1  # the joined piece may now stand over another: look at all again
                break
        i += 1
    return pieces


def _stacked(a, b, row_height):
    """Whether a and b stand over one another: their columns overlap by at least half the
    narrower one's width, and they are close (not a mark far above a digit): a quarter of the
    row's height apart at most, or of the height they make together where that is more (a lone
    digit broken across the middle, whose taller piece sets the row's height)."""
    overlap = min(a.right, b.right) - max(a.left, b.left)
    together = max(a.bottom, b.bottom) - min(a.top, b.top)
    return (overlap >= STACKED * min(a.width, b.width)
            and _rows_gap(a, b) <= JOIN_GAP * max(row_height, together))


def _rows_overlap(a, b):
    return min(a.bottom, b.bottom) - max(a.top, b.top)


def _join_fragments(pieces, row_height):
    """(digits, unplaced): each fragment left joins the digit nearest beside it, if it belongs
    to it (_belongs). Otherwise it is a digit of its own if it is tall enough (a small digit in
    the row), or else a piece that cannot be placed."""
    digits = [p for p in pieces if p.height >= WHOLE * row_height]
    fragments = [p for p in pieces if p.height < WHOLE * row_height]
    unplaced = []
    for fragment in sorted(fragments, key=_size, reverse=True):
        gap, i = min(((_gap(fragment, d), i) for i, d in enumerate(digits)), default=(None, None))
        if gap is not None and _belongs(fragment, digits[i], gap, row_height):
            digits[i] = joined(digits[i], fragment)
        elif fragment.height >= OWN_DIGIT * row_height:
            digits.append(fragment)
        else:
            unplaced.append(fragment)
    return digits, unplaced


def _join_loops(digits, row_height):
    """(`digits` left to right, each two neighbours that close a loop together (_closes_loop)
    joined, {id of a joined digit: [[the two as they were]]}): the two sides of a 0 whose stroke
    broke at the top and the bottom are one digit, but two digits written close may close a loop
    too (the arms of a 3 beside another 3): both ways are kept, and the model chooses."""
    digits, sides = sorted(digits, key=left_edge), {}
    i = 0
    while i < len(digits) - 1:
        a, b = digits[i], digits[i + 1]
        if id(a) not in sides and _closes_loop(a, b, row_height):
            digits[i] = joined(a, b)
            sides[id(digits[i])] = [[a, b]]
            del digits[i + 1]
        else:
            i += 1
    return digits, sides


def _closes_loop(a, b, row_height):
    """Whether a and b, each grown by NEARLY_TOUCHING of the row's height, enclose paper that
    neither encloses alone, at least LOOP of the box they make together; and that box is no
    wider than a digit (DIGIT_WIDTH times the row's height)."""
    reach = max(1, round(NEARLY_TOUCHING * row_height))
    both = joined(a, b)
    if _gap(a, b) > 2 * reach or _rows_gap(a, b) > 2 * reach or \
            both.width > DIGIT_WIDTH * row_height:
        return False
    masks = []
    for p in (a, b):
        mask = np.zeros(both.mask.shape, bool)
        mask[p.top - both.top : p.bottom - both.top, p.left - both.left : p.right - both.left] = \
            p.mask
        masks.append(mask)
    new = _enclosed(masks[0] | masks[1], reach) - _enclosed(masks[0], reach) \
        - _enclosed(masks[1], reach)
    return new >= LOOP * both.width * both.height


def _enclosed(mask, reach):
    """The pixels of paper that `mask` encloses once grown by `reach` pixels all round (the
    paper enclosed by the grown mask, grown back by as much: growing a stroke shrinks its hole)."""
    padded = np.pad(mask, reach + 1)
    paper = morphology.label(~morphology.grow_round(padded, reach))
    holes = (paper > 0) & (paper != paper[0, 0])
    return int((morphology.grow_round(holes, reach) & ~padded).sum())


def _belongs(fragment, digit, gap, row_height):
    """Whether `fragment`, `gap` columns beside `digit`, is part of it: it overlaps the digit's
    columns; or it is close, too small to be a digit itself, and the two make one digit's width;
    or it nearly touches the digit (the bar of a 4 that stops short of its upright). A small
    digit at an ordinary distance is no part of its neighbour, nor a mark far above or below."""
    if _rows_gap(fragment, digit) > JOIN_GAP * row_height:
        return False
    if gap == 0:
        return True
    if joined(digit, fragment).width > DIGIT_WIDTH * row_height:
        return False
    small = fragment.height < OWN_DIGIT * row_height
    return gap <= (JOIN_GAP if small else NEARLY_TOUCHING) * row_height


def _size(piece):
    return int(piece.mask.sum())


def _gap(a, b):
    """Columns between a and b (0 when their columns overlap)."""
    return max(0, max(a.left, b.left) - min(a.right, b.right))


def _rows_gap(a, b):
    """Rows between a and b (0 when their rows overlap)."""
    return max(0, -_rows_overlap(a, b))


# --- digits that touch: the ways to cut them ------------------------------------------------------
def _ways(digit, in_row):
    """The ways to read `digit`: as one digit, then cut into 2, 3... digits, as many as its width
    allows (each at least NARROWEST_IN_ROW or NARROWEST_ALONE times its height wide). Each count
    is cut where the least ink crosses; in a row of digits, where touching is common, also
    straight down at equal widths (two round digits that touch meet along a stretch of ink: the
    least ink may be across one of them instead)."""
    ways = [[digit]]
    narrowest = NARROWEST_IN_ROW if in_row else NARROWEST_ALONE
    most = min(MOST_TOUCHING, int(digit.width / (narrowest * digit.height)))
    for count in range(2, most + 1):
        for along_least_ink in (True, False)[: 2 if in_row else 1]:
            parts = _cut(digit, count, along_least_ink, across_loops=in_row)
            if len(parts) == count and not any(_same(parts, way) for way in ways):
                ways.append(parts)
    return ways


def _same(parts, way):
    return len(parts) == len(way) and all(a.box == b.box for a, b in zip(parts, way))


def _cut(digit, count, along_least_ink, across_loops=True):
    """`digit` cut into `count` digits of about equal width, each cut where the least ink
    crosses (or straight down); fewer if a cut finds no ink on one side, or, unless
    `across_loops`, if it runs across a loop of the ink (a lone 0 that the pen ran past its
    start, as wide as two digits: in a row, where digits touch, their loops may be cut)."""
    parts, rest = [], digit
    reach = max(1, round(NEARLY_TOUCHING * digit.height))
    loops = np.zeros(digit.mask.shape, np.int64) if across_loops else _loops(digit.mask, reach)
    for n in range(count, 1, -1):  # cut off the leftmost of the `n` digits left, n-1 times
        expected = rest.width / n  # in the rest's own columns
        if along_least_ink:
            path = _seam(rest.mask, expected)
        else:
            path = np.full(rest.height, round(expected))
        side = np.arange(rest.width)[None, :] < path[:, None]
        left = rest.mask & side
        if not left.any() or left.sum() == _size(rest):
            break  # no ink on one side: nothing to cut
        window = loops[rest.top - digit.top : rest.bottom - digit.top,
                       rest.left - digit.left : rest.right - digit.left]
        if np.intersect1d(window[side], window[~side]).max(initial=0) > 0:
            break  # across a loop: a 0, or a 0's overshoot, not two digits that touch
        parts.append(piece(left, rest.top, rest.left))
        rest = piece(rest.mask & ~left, rest.top, rest.left)
    return parts + [rest]


def _loops(mask, reach):
    """The paper that `mask`, grown by `reach` pixels all round (a loop nearly closed, as a pen
    leaves it), encloses: labels 1, 2... (one per loop), 0 elsewhere; the mask's shape."""
    padded = np.pad(mask, reach + 1)
    paper = morphology.label(~morphology.grow_round(padded, reach))
    paper[paper == paper[0, 0]] = 0
    return paper[reach + 1 : -(reach + 1), reach + 1 : -(reach + 1)]


def _seam(mask, expected):
    """Where to cut the ink `mask` near column `expected`: for each row, the column that starts
    the right part.

    The cut runs from top to bottom, a pixel per row, moving at most one column from row to row
    (as seam carving does), within a sixth of the width of `expected` (a third of a digit's
    width, for two), and crosses the least ink it can; among equal cuts, the nearest `expected`.
    """
    height, width = mask.shape
    reach = max(1, round(width / 6))
    lo, hi = max(0, round(expected) - reach), min(width, round(expected) + reach)
    cost = mask[:, lo:hi] + 1e-3 * np.abs(np.arange(lo, hi) - expected) / reach
    total = cost.copy()  # total[r, c]: the least cost of a cut from the top down to (r, c)
    for r in range(1, height):
        above = total[r - 1]  # the best of the three columns above: left, same, right
        total[r] += np.minimum(above, np.minimum(np.r_[np.inf, above[:-1]],
                                                 np.r_[above[1:], np.inf]))
    columns = [int(np.argmin(total[-1]))]
    for r in range(height - 2, -1, -1):  # back up, along the best of the three columns above
        c = columns[-1]
        columns.append(max(0, c - 1) + int(np.argmin(total[r, max(0, c - 1) : c + 2])))
    return lo + np.array(columns[::-1])
