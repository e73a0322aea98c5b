"""The archive's dispatch (档案转递): statuses, the channel rule, waybill formats and the reasons
archives come back. Pure tables and functions; the store's views and `pipelines.dispatch` use them.

An archive moves 待装袋 → 已装袋 → 已寄出 (a waybill and its date) → 已签收 or 被退回 (a reason),
or waits: 暂缓转递 / 留校保管 with a reason and an end date at most two years away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.rules import checks, text, verification

# Statuses, in the order an archive moves (the funnel's order).
NOT_BAGGED, BAGGED, SENT, RECEIVED, RETURNED, HELD, KEPT = (
    "not_bagged",
    "bagged",
    "sent",
    "received",
    "returned",
    "held",
    "kept",
)
STATUSES = {
    NOT_BAGGED: "待装袋",
    BAGGED: "已装袋",
    SENT: "已寄出",
    RECEIVED: "已签收",
    RETURNED: "被退回",
    HELD: "暂缓转递",
    KEPT: "留校保管",
}
WAITS = {HELD: "暂缓转递", KEPT: "留校保管"}
MAX_WAIT_MONTHS = 24  # 暂缓转递 / 留校保管: two years at the most

# The archive's events on a graduate's timeline (sql/queries/graduates/registration_timeline.sql).
EVENTS = {
    "bagged": "档案袋已齐",
    "unbagged": "档案袋改为未齐",
    "batched": "编入转递批次",
    "taken_out": "移出转递批次",
    "sent_jiyao": "档案以机要寄出",
    "sent_ems": "档案以 EMS 寄出",
    "received": "接收单位确认收到档案",
    "returned": "档案被退回",
    "held": "暂缓转递",
    "kept": "留校保管",
    "released": "取消暂缓",
}

# The channels an archive may travel by: 机要通信 or EMS. Never an ordinary parcel or a courier.
JIYAO, EMS = "jiyao", "ems"
CHANNELS = {JIYAO: "机要", EMS: "EMS"}


@dataclass(frozen=True)
class ChannelRule:
    label: str
    source: str  # where schools say so


# The campaign picks one (campaigns.dispatch_rule); the school's province is a campaign setting.
CHANNEL_RULES: dict[str, ChannelRule] = {
    "ems_in_province": ChannelRule(
        "省内 EMS，省外机要",
        "暨南大学档案馆：省内单位以 EMS 寄送，省外以机要寄送（archives.jnu.edu.cn/2017/0629/c6633a148658/page.htm）",
    ),
    "jiyao": ChannelRule(
        "全部机要",
        "《流动人员人事档案管理暂行规定》：档案须通过机要通信或专人送取，不得由本人自带（多数高校的转递通知）",
    ),
    "ems": ChannelRule(
        "全部 EMS",
        "江南大学档案转递查询：以 EMS 寄出并登记 EMS 号（dangan.jiangnan.edu.cn/info/1002/1053.htm）",
    ),
}
DEFAULT_RULE = "ems_in_province"


def channel_for(rule: str, school_province: str | None, destination_province: str | None) -> str:
    """The channel an archive travels by under the campaign's rule. Unknown provinces (the school
    did not set its own, or the address has none) go by 机要: the safe way for an archive."""
    if rule == "ems":
        return EMS
    if rule == "ems_in_province" and school_province and destination_province == school_province:
        return EMS
    return JIYAO


# --- waybills ---------------------------------------------------------------------------------

# UPU S10: two letters (service), 8 digits, a check digit, two letters (country), e.g. EA123456785CN.
# The check digit: weights 8 6 4 2 3 5 9 7 over the 8 digits, C = 11 - (S mod 11), 10 → 0, 11 → 5.
_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# China Post's domestic EMS numbers: 13 digits (标准快递、电商), e.g. 1151242358360.
_EMS_DOMESTIC = re.compile(r"^\d{13}$")

WAYBILL_FORMATS = {
    EMS: "EMS 单号：13 位数字（国内 EMS），或 UPU S10 格式的 13 位（如 EA123456785CN：2 个字母、8 位数字、1 位校验码、CN）",
    JIYAO: "机要编号：UPU S10 格式的 13 位（2 个字母、8 位数字、1 位校验码、CN），或邮政的 13 位数字编号",
}


def s10_check_digit(serial: str) -> int:
    total = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def clean_waybill(value: str) -> str:
    """A waybill as typed or exported: full-width characters made ASCII, invisible characters,
    spaces and dashes dropped, letters upper-case."""
    return text.compact(value).replace("-", "").upper()


def waybill_problem(channel: str, waybill: str) -> str | None:
    """Why a (cleaned) waybill number cannot be this channel's, or None."""
    expected = WAYBILL_FORMATS.get(channel)
    if expected is None:
        return f"未知的寄送方式：{channel}"
    if _EMS_DOMESTIC.match(waybill):
        return None
    found = _S10.match(waybill)
    if found is None:
        return f"单号“{waybill}”格式不对，应为{expected}"
    service, serial, check, country = found.groups()
    if country != "CN":
        return f"单号“{waybill}”不是中国邮政的单号（末两位应为 CN）"
    if channel == EMS and not service.startswith("E"):
        return f"单号“{waybill}”不是 EMS 单号（S10 格式的 EMS 单号以 E 开头）"
    if int(check) != s10_check_digit(serial):
        return f"单号“{waybill}”的校验码不对（第 11 位应为 {s10_check_digit(serial)}），请核对是否抄错"
    return None


# --- returns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnReason:
    label: str
    checks: tuple[str, ...]  # the checks (pipelines.rules.checks) meant to catch this cause beforehand


# Why archives come back, as schools' notices list them (e.g. fudaoke.com/exam/2260416.html; the
# notices of 暨南大学, 江南大学, 东北石油大学): the code table a return is recorded with.
RETURN_REASONS: dict[str, ReturnReason] = {
    "address": ReturnReason(
        "地址错误或不详细",
        ("address_incomplete", "postcode_malformed", "postcode_province_mismatch", "required_missing"),
    ),
    "no_contact": ReturnReason(
        "无接收人或联系方式", ("phone_malformed", "contact_is_self_or_family", "required_missing")
    ),
    "cannot_keep": ReturnReason(
        "接收单位无档案保管权", ("unit_cannot_keep_archives", "unit_looks_like_person", "type_unit_mismatch")
    ),
    "wrong_channel": ReturnReason("未经机要或 EMS 寄送", ()),
    "materials": ReturnReason("材料不全", ("proof_missing",)),
    "unit_gone": ReturnReason("接收单位已撤销或更名", ()),
    "wrong_place": ReturnReason("应转回生源地或户籍地", ("origin_province_mismatch", "beijing_district_missing")),
}


def return_label(code: str) -> str:
    found = RETURN_REASONS.get(code)
    return found.label if found else code


def wait_problem(kind: str, reason: str, until: date | None, today: date) -> str | None:
    """Why a 暂缓转递 / 留校保管 cannot be recorded, or None."""
    if kind not in WAITS:
        return f"未知的暂缓方式：{kind}"
    if not reason.strip():
        return f"{WAITS[kind]}须写明原因"
    if until is None:
        return f"{WAITS[kind]}须写明截止日期"
    if until < today:
        return "截止日期不能早于今天"
    if until > verification.add_months(today, MAX_WAIT_MONTHS):
        return f"{WAITS[kind]}最长两年（截止日期最晚 {verification.add_months(today, MAX_WAIT_MONTHS):%Y-%m-%d}）"
    return None


# What goes into each archive bag besides the verification report (a campaign setting; these are
# the usual ones in schools' notices).
DEFAULT_BAG_ITEMS = ("毕业生登记表", "学籍表", "成绩单", "党团材料", "体检表")
REPORT_ITEM = "档案信息核验报告"


# --- what the checks learn from the archives that came back ---------------------------------------


def check_learning(sent: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """From every archive sent (`flags` of the revision sent, `received_at`, `return_code`):

    * per check: `returns_flagged` (returned archives it had flagged), `returns_meant`
      (returns whose reason it is meant to catch, RETURN_REASONS) and `caught` of those, so
      `recall` = caught / meant; `received_flagged` (flagged archives that arrived anyway), so
      `precision` = returns_flagged / (returns_flagged + received_flagged);
    * the returns no check caught: per reason, how many came back with none of the checks meant
      for it on the revision (a reason no check is meant for counts whole).
    """
    outcome = sent.with_columns(
        returned=pl.col("return_code").is_not_null(),
        received=pl.col("return_code").is_null() & pl.col("received_at").is_not_null(),
        flags=pl.col("flags").fill_null([]),
    )
    rows = []
    for check in checks.CHECKS:
        meant_for = [code for code, reason in RETURN_REASONS.items() if check.code in reason.checks]
        flagged = pl.col("flags").list.contains(check.code)
        meant = pl.col("returned") & pl.col("return_code").is_in(meant_for)
        counted = outcome.select(
            returns_flagged=(pl.col("returned") & flagged).sum(),
            received_flagged=(pl.col("received") & flagged).sum(),
            returns_meant=meant.sum(),
            caught=(meant & flagged).sum(),
        ).row(0, named=True)
        rows.append({"check": check.code, "title": check.title} | counted)
    per_check = pl.DataFrame(rows).with_columns(
        recall=pl.when(pl.col("returns_meant") > 0).then(pl.col("caught") / pl.col("returns_meant")),
        precision=pl.when(pl.col("returns_flagged") + pl.col("received_flagged") > 0).then(
            pl.col("returns_flagged") / (pl.col("returns_flagged") + pl.col("received_flagged"))
        ),
    )
    meant_checks = {code: list(reason.checks) for code, reason in RETURN_REASONS.items()}
    returned = outcome.filter(pl.col("returned"))
    caught = [
        bool(set(flags) & set(meant_checks.get(code, [])))
        for flags, code in zip(returned["flags"].to_list(), returned["return_code"].to_list(), strict=True)
    ]
    uncaught = (
        returned.with_columns(caught=pl.Series(caught, dtype=pl.Boolean))
        .filter(~pl.col("caught"))
        .group_by("return_code")
        .len("returns")
        .with_columns(
            reason=pl.col("return_code").replace_strict(
                {k: r.label for k, r in RETURN_REASONS.items()}, default=pl.col("return_code")
            ),
            no_check_meant=pl.col("return_code").is_in([k for k, r in RETURN_REASONS.items() if not r.checks]),
        )
        .sort("returns", descending=True)
    )
    return per_check, uncaught
