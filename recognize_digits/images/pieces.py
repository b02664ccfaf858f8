"""Pieces of ink: the connected components of an image, each with its box (segment.py makes
digits of them). Only numpy."""

from dataclasses import dataclass

import numpy as np

from recognize_digits.images import morphology


@dataclass
class Piece:
    """Some of the ink: where its box is in the image, and which pixels of the box it holds."""

    top: int
    left: int
    mask: np.ndarray  # boolean, the box's size

    @property
    def bottom(self):  # exclusive, as in a slice
        return self.top + self.mask.shape[0]

    @property
    def right(self):
        return self.left + self.mask.shape[1]

    @property
    def height(self):
        return self.mask.shape[0]

    @property
    def width(self):
        return self.mask.shape[1]

    @property
    def box(self):
        """(left, top, right, bottom) in pixels, right and bottom exclusive."""
        return self.left, self.top, self.right, self.bottom

    def ink_in(self, ink):
        """`ink` (the whole image) with only this piece's ink left."""
        out = np.zeros_like(ink)
        window = (slice(self.top, self.bottom), slice(self.left, self.right))
        out[window] = np.where(self.mask, ink[window], 0)
        return out


class TooManyPieces(ValueError):
    """More pieces of ink than a number has (a page of text, a pattern): `count` of them."""

    def __init__(self, count):
        super().__init__(f"{count} pieces of ink")
        self.count = count


def components(mask, negligible, most):
    """The connected pieces of a boolean image, left to right, but for the dust: pieces with
    less than `negligible` of the largest one's pixels are left out. TooManyPieces if more than
    `most` are left."""
    labels = morphology.label(mask)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    kept = np.flatnonzero(sizes >= negligible * sizes.max()) if labels.max() else []
    if len(kept) > most:
        raise TooManyPieces(len(kept))
    pieces = []
    for n in kept:
        rows, cols = np.nonzero(labels == n)
        top, left = rows.min(), cols.min()
        window = labels[top : rows.max() + 1, left : cols.max() + 1]
        pieces.append(Piece(int(top), int(left), window == n))
    return sorted(pieces, key=left_edge)


def piece(mask, top=0, left=0):
    """The Piece of the True pixels of `mask` (there must be some), whose own top left corner
    is at (top, left) in the image."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return Piece(top + int(rows[0]), left + int(cols[0]), crop)


def left_edge(piece):
    return piece.left


def joined(a, b):
    """One Piece of the ink of a and b."""
    top, left = min(a.top, b.top), min(a.left, b.left)
    mask = np.zeros((max(a.bottom, b.bottom) - top, max(a.right, b.right) - left), bool)
    for p in (a, b):
        mask[p.top - top : p.bottom - top, p.left - left : p.right - left] |= p.mask
    return Piece(top, left, mask)
