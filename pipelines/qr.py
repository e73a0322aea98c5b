"""The reports' QR codes: segno's code, with its data mask chosen on arrays (#17).

ISO/IEC 18004 (7.8.3) has the encoder try the eight data masks and keep the one with the
lowest penalty. segno does that in pure Python: four fifths of a code's time, and half of a
report page's. `modules` encodes once with mask 0, takes the mask off again, scores the
eight masks as segno's `encoder.mask_scores` does (N1 runs, N2 blocks, N3 finder-like
patterns with segno's way of counting, N4 balance), and puts the best one on, with its format
information, through segno's own functions. The result is exactly `segno.make(content,
error="m").matrix` (tests/test_report_pdf.py compares thousands), in a fifth of the time.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import segno
from segno import consts, encoder

_N3 = bytes((1, 0, 1, 1, 1, 0, 1))


def modules(content: str) -> np.ndarray:
    """The QR code (error level M, raised where it fits) of `content`: 1 is dark, no border."""
    code = segno.make(content, error="m", mask=0)
    version = code.version
    if code.is_micro or not isinstance(version, int) or version >= 7:
        # a Micro QR code (a few characters) or one with version information (over ~120):
        # not a look-up address; segno chooses
        return np.array(segno.make(content, error="m").matrix, dtype=np.uint8)
    region, patterns, base = _layout(version)
    data = (np.array(code.matrix, dtype=np.uint8) ^ patterns[0]) & region  # mask 0 taken off
    candidates = base | (data ^ patterns)  # the symbol under each of the eight masks, as scored
    scores = _penalties(candidates)
    best = scores.index(min(scores))  # the first of equals, as segno
    matrix = tuple(bytearray(row) for row in candidates[best])
    encoder.add_format_info(matrix, version, consts.ERROR_MAPPING[code.error], best)
    return np.array(matrix, dtype=np.uint8)


@cache
def _layout(version: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data region, the eight mask patterns on it, and what segno's matrix holds outside it
    while the masks are scored (function patterns; format areas and the dark module still 0)."""
    size = encoder.calc_matrix_size(version)
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    layout = np.array(function, dtype=np.uint8)
    region = (layout > 1).astype(np.uint8)
    region[-8, 8] = 0  # the dark module
    i, j = np.indices((size, size))
    patterns = np.array([np.asarray(f(i, j), dtype=np.uint8) & region for f in encoder.get_data_mask_functions(False)])
    base = np.where(region == 1, 0, layout).astype(np.uint8)
    base[-8, 8] = 0
    return region, patterns, base


def _penalties(symbols: np.ndarray) -> list[int]:
    """segno's penalty of each symbol (masks × size × size)."""
    count, size, _ = symbols.shape
    total = np.zeros(count)
    for lines in (symbols, symbols.transpose(0, 2, 1)):  # rows, then columns
        # N1: a run of 5 + i modules of one colour costs 3 + i
        edges = np.ones((count, size, size + 1), dtype=bool)
        edges[:, :, 1:-1] = lines[:, :, 1:] != lines[:, :, :-1]
        ends = np.flatnonzero(edges)
        lengths = np.diff(ends)  # across a row's end: 1, which costs nothing
        total += np.bincount(ends[1:] // (size * (size + 1)), np.where(lengths >= 5, lengths - 2, 0), count)
        total += _finder_like(lines.reshape(count * size, size), count)  # N3
    corner = symbols[:, :-1, :-1]  # N2: a 2 × 2 block of one colour costs 3
    total += 3 * (
        (corner == symbols[:, 1:, :-1]) & (corner == symbols[:, :-1, 1:]) & (corner == symbols[:, 1:, 1:])
    ).sum(axis=(1, 2))
    dark = symbols.sum(axis=(1, 2))  # N4: 10 for every 5 % off half dark
    return [int(t) + 10 * int(abs(float(d) / (size**2) * 100 - 50) / 5) for t, d in zip(total, dark, strict=True)]


def _finder_like(lines: np.ndarray, count: int) -> np.ndarray:
    """N3 of each of `count` symbols whose rows `lines` holds in turn, counted as segno's
    `n3_pattern_occurrences` counts: found in the rows laid end to end with a 2 between them,
    which no pattern spans."""
    size = lines.shape[1]
    padded = np.full((lines.shape[0], size + 1), 2, dtype=np.uint8)
    padded[:, :size] = lines
    data = padded.tobytes()
    scores = np.zeros(count)
    at = data.find(_N3)
    while at != -1:
        start = at - at % (size + 1)
        line, col = data[start : start + size], at - start
        end = col + 7
        if col in (0, size - 7) or not any(line[max(col - 4, 0) : col]) or not any(line[end : end + 4]):
            scores[start // ((size + 1) * size)] += 40
        else:
            end = col + 4
        at = data.find(_N3, start + end)
    return scores
