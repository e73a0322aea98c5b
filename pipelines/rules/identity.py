"""Identity and contact formats: 身份证号 (GB 11643), phones, postcodes, and masking.

Every function takes already-cleaned text (see `pipelines.rules.text`). Each `*_problem` function
returns None when the value is fine, or a Chinese sentence saying what is wrong.
"""

from __future__ import annotations

import re
from datetime import date

# Public, like the patterns below, so that the vectorised fast path in `pipelines.rows` uses the same table.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# What Excel shows after it has turned an 18-digit number into a float: 3.60102E+17.
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+]?\d+$")
# The patterns are public so that the vectorised checks in `pipelines.rules.checks` use the same ones.
MOBILE_PATTERN = r"^1[3-9]\d{9}$"
# Landline with area code: 0 + 2-3 digit area code, 7-8 digit number, optional extension.
LANDLINE_PATTERN = r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$"
POSTCODE_PATTERN = r"^\d{6}$"
# What `normalize_phone` rewrites: a country prefix, and a mobile number written with dashes.
PHONE_PREFIXES = ("+86", "0086")
DASHED_MOBILE_PATTERN = r"1\d{2}-?\d{4}-?\d{4}"
_MOBILE = re.compile(MOBILE_PATTERN)
_LANDLINE = re.compile(LANDLINE_PATTERN)


def id_weighted_residue(first17: str) -> int:
    """The GB 11643 weighted sum of the first 17 digits, mod 11 (linear in the digits)."""
    return sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11


def id_check_char(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    return ID_CHECK_CHARS[id_weighted_residue(first17)]


def id_birth_date(id_number: str) -> date | None:
    """Digits 7-14 of an ID number as a date, or None if they are not a real date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


_EXCEL_NUMBER = "身份证号被 Excel 转成了数字，后几位已丢失，无法恢复；请在原系统中把该列设为文本后重新导出"


def _is_a_double(digits: str) -> bool:
    """True when an 18-digit number is exactly a float64, as Excel stores numbers.

    A double holds only ~16 significant digits; above 2**53 it can hold only multiples of a
    power of two (64 around 3.6e17). A wrong ID that happens to be one came out of a numeric
    cell far more likely than from a typo.
    """
    if not digits.isdigit():
        return False
    value = int(digits)
    return value > 2**53 and int(float(value)) == value


def id_number_problem(id_number: str) -> str | None:
    """Why an ID number is not valid, or None. Expects upper-cased, cleaned text."""
    if _SCIENTIFIC.match(id_number) or (id_number.endswith(".0") and id_number[:-2].isdigit()):
        return _EXCEL_NUMBER
    if not _ID_SHAPE.match(id_number):
        return "身份证号应为 18 位：17 位数字加 1 位数字或 X"
    if id_birth_date(id_number) is None:
        return "身份证号第 7-14 位不是有效的出生日期"
    if id_check_char(id_number[:17]) != id_number[17]:
        if _is_a_double(id_number):
            return _EXCEL_NUMBER
        return "身份证号校验位不正确（可能抄错了一位，或被 Excel 截断了末尾几位）"
    return None


def phone_problem(phone: str) -> str | None:
    """Why a phone number is malformed, or None: mobile 1[3-9]+9 digits, or landline with area code."""
    if _MOBILE.match(phone) or _LANDLINE.match(phone):
        return None
    return "联系电话应为 11 位手机号（1 开头，第二位 3-9）或带区号的座机号"


def normalize_phone(phone: str) -> str:
    """Drop a +86/0086 prefix and the separators people type inside numbers."""
    digits = re.sub(r"[\s()（）]", "", phone)
    for prefix in PHONE_PREFIXES:
        if digits.startswith(prefix):
            digits = digits[len(prefix) :].lstrip("-")
    if re.fullmatch(DASHED_MOBILE_PATTERN, digits):
        digits = digits.replace("-", "")
    return digits


# Every mask dangan writes holds this run of stars: it is what the import's guard recognises
# (`is_masked`), so a masked export can never be carried back over real values.
MASK = "****"


def is_masked(value: str) -> bool:
    """Whether a value looks like one of dangan's masks, or an older export's (`建设路667*`):
    a star has no place in an ID, a phone or an address."""
    return "*" in value


def mask_id_number(id_number: str) -> str:
    """`3601**********123X`: first 4 and last 4 characters shown."""
    if len(id_number) <= 8:
        return MASK if id_number else ""
    return id_number[:4] + "*" * max(len(id_number) - 8, len(MASK)) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """`138****5678`: first 3 and last 4 digits shown (never the whole number)."""
    if len(phone) <= 7:
        return MASK if phone else ""
    return phone[:3] + "*" * max(len(phone) - 7, len(MASK)) + phone[-4:]


def mask_address(address: str) -> str:
    """The detailed address without anything that finds the door: at most the first three
    characters before any digit or space (`建设路****`), never a house, building or room number."""
    if not address:
        return ""
    head = ""
    for ch in address.strip():
        if ch.isdigit() or ch.isspace() or len(head) == 3:
            break
        head += ch
    return head + MASK
