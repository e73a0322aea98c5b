"""The six archive transfer types (档案转递类型) and the proof each one needs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransferType:
    key: str
    label: str
    meaning: str
    proof: str  # what the reviewer looks at (审核依据)
    needs_proof: bool
    is_study: bool = False
    is_talent_service: bool = False  # the unit must be a public talent/employment service


TRANSFER_TYPES: tuple[TransferType, ...] = (
    TransferType(
        "origin",
        "转回生源地",
        "档案转回生源地的公共就业人才服务机构；户口转回原籍",
        "一般无需材料；若生源地有更改，需提供户口本和身份证照片",
        needs_proof=False,
        is_talent_service=True,
    ),
    TransferType(
        "employer",
        "签约单位接收",
        "档案（户口）转有档案保管接收权限的就业单位",
        "就业（升学）单位调档函、录用材料、就业协议等",
        needs_proof=True,
    ),
    TransferType(
        "custodian",
        "托管单位接收",
        "档案（户口）转非生源地的公共就业人才服务机构",
        "非生源地的公共就业人才服务机构的调档函、接收函",
        needs_proof=True,
        is_talent_service=True,
    ),
    TransferType(
        "supervisor",
        "上级主管单位接收",
        "档案（户口）转就业单位的上级部门",
        "用人单位（或其上级部门）要求档案转上级主管单位的录用材料、接收函、调档函",
        needs_proof=True,
    ),
    TransferType(
        "study_here",
        "升学本校接收",
        "档案（户口）转本校",
        "录取通知书、调档函",
        needs_proof=True,
        is_study=True,
    ),
    TransferType(
        "study_elsewhere",
        "升学外校接收",
        "档案（户口）转外校",
        "录取通知书、调档函",
        needs_proof=True,
        is_study=True,
    ),
)

BY_KEY = {t.key: t for t in TRANSFER_TYPES}
LABELS = {t.key: t.label for t in TRANSFER_TYPES}  # key -> the label people read
BY_LABEL = {t.label: t for t in TRANSFER_TYPES}
# Spellings seen in real exports besides the label and the English key.
_ALIASES = {
    "生源地": "origin",
    "回生源地": "origin",
    "转回原籍": "origin",
    "签约单位": "employer",
    "就业单位接收": "employer",
    "单位接收": "employer",
    "托管": "custodian",
    "人才托管": "custodian",
    "托管单位": "custodian",
    "上级主管单位": "supervisor",
    "主管单位接收": "supervisor",
    "升学本校": "study_here",
    "本校升学": "study_here",
    "升学外校": "study_elsewhere",
    "外校升学": "study_elsewhere",
}


def transfer_type_of(text: str) -> TransferType | None:
    """The transfer type a cell names (label, key or a common alias), or None."""
    key = text.strip()
    if key in BY_KEY:
        return BY_KEY[key]
    if key in BY_LABEL:
        return BY_LABEL[key]
    alias = _ALIASES.get(key)
    return BY_KEY[alias] if alias else None
