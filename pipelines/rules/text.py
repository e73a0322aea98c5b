"""Text normalisation for values that come from real files (full-width digits, stray spaces)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import polars as pl

# Characters nobody sees that change what a text is: control characters (NUL…), zero-width
# characters, direction overrides (RLO turns 张三 into a name that looks the same and matches
# nothing), the soft hyphen and the BOM. They are removed, never turned into spaces. One
# definition for Python's `re` and for polars (Rust regex): literal characters in a class.
_INVISIBLE_RANGES = [
    (0x00, 0x08),
    (0x0B, 0x0C),
    (0x0E, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
]
INVISIBLE = "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in _INVISIBLE_RANGES) + "]"
# Whitespace of every width (tab, line breaks, NBSP, the ideographic space U+3000…): one space.
SPACES = r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_INVISIBLE = re.compile(INVISIBLE)
_SPACES = re.compile(SPACES)

INVISIBLE_NAMES = {
    0x00: "NUL 空字符",
    0x200B: "零宽空格",
    0x200C: "零宽不连字",
    0x200D: "零宽连字",
    0x200E: "从左到右标记 LRM",
    0x200F: "从右到左标记 RLM",
    0x202A: "从左到右嵌入",
    0x202B: "从右到左嵌入",
    0x202C: "方向格式结束",
    0x202D: "从左到右覆盖",
    0x202E: "从右到左覆盖 RLO",
    0x2060: "单词连接符",
    0xFEFF: "BOM 字节序标记",
    0xAD: "软连字符",
}


def invisible_name(ch: str) -> str:
    """How the summary names an invisible character: `U+202E 从右到左覆盖 RLO`."""
    code = ord(ch)
    name = INVISIBLE_NAMES.get(code) or ("控制字符" if code < 0x20 or 0x7F <= code <= 0x9F else "格式字符")
    return f"U+{code:04X} {name}"


# Full-width digits, letters and hyphen (`１３８`, `ｘ`, `０７９１－…`) and their ASCII forms. Only
# these: Chinese punctuation (，（）：；) is right in Chinese text and stays, so a file exported by
# dangan and imported again compares equal.
FULL_WIDTH = [chr(c) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B), 0xFF0D]]
ASCII_FORMS = [chr(ord(c) - 0xFEE0) for c in FULL_WIDTH]
_TO_ASCII = str.maketrans(dict(zip(FULL_WIDTH, ASCII_FORMS, strict=True)))


def clean(value: object) -> str:
    """Turn full-width digits and letters into ASCII (every format rule relies on it), remove
    invisible characters and collapse whitespace. Returns '' for None.
    """
    if value is None:
        return ""
    text = str(value).translate(_TO_ASCII)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def compact(value: object) -> str:
    """`clean`, then remove every space: for codes such as 学号, 身份证号, phone, postcode."""
    return clean(value).replace(" ", "")


_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


# The shape exports write and calamine gives a date cell: `2024-06-01`, `2024-06-01 09:05`,
# `2024-06-01 09:05:00`, `2024-06-01 09:05:00.500`. `parse_datetime` reads it with
# `datetime.fromisoformat` (dropping the fraction); the vectorised fast path in `pipelines.rows`
# reads the same shape with these formats. Every other shape goes through `parse_datetime`.
ISO_DATETIME_PATTERN = (
    r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
    r"(?: (?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?)?$"
)
ISO_FORMATS = {10: "%Y-%m-%d", 16: "%Y-%m-%d %H:%M", 19: "%Y-%m-%d %H:%M:%S"}  # by length, the fraction cut off


def parse_datetime(value: str) -> datetime | None:
    """A date or date-time from the texts real exports carry, or None if it is not one.

    Accepts `2024-06-01`, `2024/6/1 9:05`, `2024.6.1`, `2024年6月1日`, `20240601`, and Excel
    serial numbers (`45450`, `45450.5`) that lost their date format on the way.
    """
    text = clean(value)
    if not text:
        return None
    if len(text) >= 10 and text[4] == "-":
        try:  # the common case, fast: 2024-06-01 or 2024-06-01 09:05:00
            return datetime.fromisoformat(text).replace(tzinfo=None, microsecond=0)
        except ValueError:
            pass
    try:
        if m := _DATE.match(text):
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            return datetime(y, mo, d, h, mi, s)
        if m := _COMPACT_DATE.match(text):
            return datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    if _SERIAL.match(text):
        serial = float(text)
        if 20000 <= serial <= 80000:  # 1954..2119: anything else is not a plausible date
            return (_EXCEL_EPOCH + timedelta(days=serial)).replace(microsecond=0)
    return None


_TRUE = {"是", "y", "yes", "true", "1", "已迁入", "迁入", "√"}
_FALSE = {"否", "n", "no", "false", "0", "未迁入", "不迁入", ""}


def parse_bool(value: str) -> bool | None:
    """是/否 and friends; None if the text is neither."""
    text = clean(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def guard_formula(value: str) -> str:
    """A text cell Excel, WPS and LibreOffice show as text: a leading ' before a formula start."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def mapped(
    series: pl.Series,
    rule: Callable[[Any], Any],
    dtype: pl.DataType | type[pl.DataType] = pl.String,
    name: str | None = None,
) -> pl.Series:
    """`rule` applied to every value of `series` but the missing ones (which stay missing), in the
    calling thread.

    Never `map_elements` or `map_batches` for this: polars runs the Python function on its thread
    pool, whose workers then wait for the GIL, while another session's table on its way to the
    page (`DataFrame.to_pandas`) waits for the same pool holding the GIL. The served dashboard
    froze that way, every session at once (tests/test_frames_in_threads.py)."""
    return pl.Series(name or series.name, [None if v is None else rule(v) for v in series.to_list()], dtype=dtype)
