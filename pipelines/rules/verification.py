"""Verification reports (核验报告): the validity cap and status.

The verification service ends at graduation date + 6 months; no validity date may pass it.
"""

from __future__ import annotations

import calendar
from datetime import date

# A report's status and state are derived in SQL (sql/views/04_report_rules.sql): the status
# (unset, active, closed, expired), and the state a page shows, the status or "void" when a
# usable report's confirmation no longer holds (its graduate must confirm again).
STATUS_LABELS = {
    "unset": "未确认",
    "active": "生效中",
    "closed": "已关闭",
    "expired": "已过期",
    "void": "已失效（毕业生信息已变更，需重新确认）",
}
KIND_LABELS = {"archive": "档案信息核验", "hukou": "户口信息核验"}


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's last day (8-31 + 6 → 2-28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_valid_until(graduation_date: date) -> date:
    return add_months(graduation_date, 6)


def valid_until_problem(valid_until: date, graduation_date: date, today: date) -> str | None:
    """Why a validity date is refused, or None."""
    cap = latest_valid_until(graduation_date)
    if valid_until > cap:
        return f"有效期不能晚于毕业时间加六个月，最晚为 {cap:%Y-%m-%d}"
    if valid_until < today:
        return "有效期不能早于今天"
    return None
