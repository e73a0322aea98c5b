"""Deadline risk, reminders, projections and the chase-list export."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import polars as pl
import pytest

from pipelines import exports, progress

DEADLINE, TODAY = date(2024, 6, 17), date(2024, 6, 10)


def test_days_left_and_the_phrase_for_each_side_of_the_deadline() -> None:
    assert progress.days_left(DEADLINE, TODAY) == 7
    assert progress.deadline_phrase(DEADLINE, TODAY) == "距截止还有 7 天"
    assert progress.deadline_phrase(DEADLINE, DEADLINE) == "今天截止"
    assert progress.deadline_phrase(DEADLINE, date(2024, 6, 20)) == "已过截止日期 3 天"


@pytest.mark.parametrize(("reason", "days", "level"), [
    ("not_registered", 7, "高"), ("returned", 7, "高"), ("waiting_review", 7, "中"), ("not_confirmed", 7, "中"),
    ("not_verified", 7, "低"), ("not_verified", 3, "中"), ("waiting_review", 0, "高"), ("not_registered", -2, "高"),
])
def test_risk_levels_rise_in_the_last_three_days(reason: str, days: int, level: str) -> None:
    assert progress.risk_level(reason, days) == level


@pytest.mark.parametrize("reason", [r.code for r in progress.RISK_REASONS])
@pytest.mark.parametrize("today", [TODAY, date(2024, 6, 20)])
def test_reminders_say_what_and_by_when_and_never_mention_diplomas(reason: str, today: date) -> None:
    text = progress.reminder_text("李娟", reason, DEADLINE, today)
    assert text.startswith("李娟同学") and "6月17日" in text and progress.BY_CODE[reason].label in text
    assert not any(word in text for word in ("毕业证", "学位", "成绩", "档案袋里不"))


def test_projection_at_the_recent_pace() -> None:
    p = progress.project(done=600, total=1000, recent=140, recent_days=7, deadline=DEADLINE, today=TODAY)
    assert (p.daily_pace, p.projected, p.will_miss) == (20.0, 740, True)
    assert p.needed_pace == pytest.approx(400 / 7)
    done = progress.project(done=990, total=1000, recent=70, recent_days=7, deadline=DEADLINE, today=TODAY)
    assert done.projected == 1000 and not done.will_miss


def test_group_projections() -> None:
    groups = pl.DataFrame({"key": ["a", "b"], "graduates": [100, 100], "registered": [50, 95], "recent": [7, 14]})
    out = progress.project_groups(groups, DEADLINE, TODAY)
    assert out["projected"].to_list() == [57, 100] and out["will_miss"].to_list() == [True, False]


def test_chase_list_groups_by_advisor_and_writes_text_not_formulas() -> None:
    risks = pl.DataFrame({
        "student_id": ["0024001", "0024002", "0024003"], "name": ["=HYPERLINK(\"x\")", "张伟", "王芳"],
        "college_name": ["商学院"] * 3, "major": ["市场营销"] * 3, "class_name": ["营销2001班", "营销2002班", "营销2001班"],
        "advisor": ["王老师", "李老师", "王老师"], "phone": ["13800001111", "13900002222", None],
        "reason": ["not_registered", "returned", "not_confirmed"], "status": [None, "returned", "approved"],
        "return_reason": [None, "缺材料", None], "days_waiting": [None, 2, 1], "total": [3, 3, 3],
    })
    described = progress.describe_risks(risks, DEADLINE, TODAY)
    book = openpyxl.load_workbook(io.BytesIO(exports.chase_list_xlsx(described, "商学院", TODAY)))
    sheet = book.active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    groups = [row[0] for row in cells if row[0] and str(row[0]).startswith("班主任")]
    assert groups == ["班主任：李老师（1 人）", "班主任：王老师（2 人）"]
    names = [row[2] for row in cells if row[1] in ("0024001", "0024002", "0024003")]
    assert names == ["张伟", "=HYPERLINK(\"x\")", "王芳"]
    formula_cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(\"x\")")
    assert formula_cell.data_type == "s", "a name starting with '=' must stay text"
    assert all("****" in (row[3] or "****") for row in cells if row[1] in ("0024001", "0024002"))
