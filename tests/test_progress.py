"""Deadline risk, reminders, projections and the chase-list export."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import polars as pl
import pytest

from pipelines import exports, statistics
from pipelines.rules import progress

DEADLINE, TODAY = date(2024, 6, 17), date(2024, 6, 10)


def test_days_left_and_the_phrase_for_each_side_of_the_deadline() -> None:
    assert progress.days_left(DEADLINE, TODAY) == 7
    assert progress.deadline_phrase(DEADLINE, TODAY) == "距截止还有 7 天"
    assert progress.deadline_phrase(DEADLINE, DEADLINE) == "今天截止"
    assert progress.deadline_phrase(DEADLINE, date(2024, 6, 20)) == "已过截止日期 3 天"


@pytest.mark.parametrize(
    ("reason", "days", "level"),
    [
        ("not_registered", 7, "高"),
        ("returned", 7, "高"),
        ("waiting_review", 7, "中"),
        ("not_confirmed", 7, "中"),
        ("not_verified", 7, "低"),
        ("not_verified", 3, "中"),
        ("waiting_review", 0, "高"),
        ("not_registered", -2, "高"),
    ],
)
def test_risk_levels_rise_in_the_last_three_days(reason: str, days: int, level: str) -> None:
    assert progress.risk_level(reason, days) == level


@pytest.mark.parametrize("reason", [r.code for r in progress.RISK_REASONS])
@pytest.mark.parametrize("today", [TODAY, date(2024, 6, 20)])
def test_reminders_say_what_and_by_when_and_never_mention_diplomas(reason: str, today: date) -> None:
    text = progress.reminder_text("李娟", reason, DEADLINE, today)
    assert text.startswith("李娟同学") and "6月17日" in text
    assert not any(word in text for word in ("毕业证", "学位", "成绩", "档案袋里不"))


NATURAL_REMINDERS = {
    "not_registered": "李娟同学：你还没有提交毕业生档案信息登记。请在6月17日前登录全国高校毕业生毕业去向登记系统，"
    "完成“档案信息登记”并提交，以免影响档案正常转递。如有疑问请联系班主任或学院。",
    "returned": "李娟同学：你的毕业生档案信息登记被退回，还没有重新提交。请在6月17日前按退回意见修改“档案信息登记”后"
    "重新提交，以免影响档案正常转递。如有疑问请联系班主任或学院。",
    "waiting_review": "李娟同学：你的毕业生档案信息登记已提交，等待学院/学校审核已超过 3 天。请留意审核结果，如被退回，"
    "请在6月17日前按退回意见修改后重新提交，以免影响档案正常转递。如有疑问请联系班主任或学院。",
    "not_confirmed": "李娟同学：你的毕业生档案信息登记已审核通过，还没有做去向登记确认。请在6月17日前进入“去向登记确认”，"
    "核对毕业去向、档案和户口信息后确认，以免影响档案正常转递。如有疑问请联系班主任或学院。",
    "not_verified": "李娟同学：你已确认登记去向，还没有生成核验报告。请在6月17日前进入“核验授权”设置有效期，"
    "下载核验报告交给班主任放入档案袋，以免影响档案正常转递。如有疑问请联系班主任或学院。",
}


@pytest.mark.parametrize("reason", [r.code for r in progress.RISK_REASONS])
def test_every_reminder_reads_naturally(reason: str) -> None:
    assert set(NATURAL_REMINDERS) == set(progress.BY_CODE)
    assert progress.reminder_text("李娟", reason, DEADLINE, TODAY) == NATURAL_REMINDERS[reason]
    late = progress.reminder_text("李娟", reason, DEADLINE, date(2024, 6, 20))
    assert late.startswith(
        "李娟同学：" + NATURAL_REMINDERS[reason].split("：", 1)[1].split("。")[0] + "。登记截止日期（6月17日）已过。"
    )
    for text in (progress.reminder_text("李娟", reason, DEADLINE, TODAY), late):
        situation = text.split("：", 1)[1].split("。")[0]
        repeated = [
            situation[i : i + 4] for i in range(len(situation) - 3) if situation.count(situation[i : i + 4]) > 1
        ]
        assert not repeated, f"the first sentence says {repeated[0]} twice: {situation}"
        assert not re.search(r"(\w\w)\1", text), text  # no 登记登记
        assert not re.search(r"请(在6月17日前|尽快)(登记已提交|已)", text), text  # asked to do, not told a state


def test_the_level_rules_name_the_reasons_briefly() -> None:
    assert progress.risk_level_rules() == (
        "风险等级：未提交、被退回为“高”；待审核超时、未确认为“中”；未核验为“低”；截止前 3 天内各升一级。"
    )


def test_projection_at_the_recent_pace() -> None:
    p = progress.project(done=600, total=1000, recent=140, recent_days=7, deadline=DEADLINE, today=TODAY)
    assert (p.daily_pace, p.projected, p.will_miss) == (20.0, 740, True)
    assert p.needed_pace == pytest.approx(400 / 7)
    done = progress.project(done=990, total=1000, recent=70, recent_days=7, deadline=DEADLINE, today=TODAY)
    assert done.projected == 1000 and not done.will_miss


def test_group_projections() -> None:
    groups = pl.DataFrame(
        {"key": ["a", "b"], "graduates": [100, 100], "registered": [50, 95], "registered_recent": [7, 14]}
    )
    out = progress.project_groups(groups, DEADLINE, TODAY)
    assert out["projected"].to_list() == [57, 100] and out["will_miss"].to_list() == [True, False]


def test_chase_list_groups_by_advisor_and_writes_text_not_formulas() -> None:
    risks = pl.DataFrame(
        {
            "student_id": ["0024001", "0024002", "0024003"],
            "name": ['=HYPERLINK("x")', "张伟", "王芳"],
            "college_name": ["商学院"] * 3,
            "major": ["市场营销"] * 3,
            "class_name": ["营销2001班", "营销2002班", "营销2001班"],
            "advisor": ["王老师", "李老师", "王老师"],
            "phone": ["13800001111", "13900002222", None],
            "reason": ["not_registered", "returned", "not_confirmed"],
            "status": [None, "returned", "approved"],
            "return_reason": [None, "缺材料", None],
            "days_waiting": [None, 2, 1],
            "total": [3, 3, 3],
        }
    )
    described = progress.describe_risks(risks, DEADLINE, TODAY)
    book = openpyxl.load_workbook(io.BytesIO(exports.chase_list_xlsx(described, "商学院", TODAY)))
    sheet = book.active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    groups = [row[0] for row in cells if row[0] and str(row[0]).startswith("班主任")]
    assert groups == ["班主任：王老师（2 人）", "班主任：李老师（1 人）"]  # 王老师 has the first 高 by class
    names = [row[2] for row in cells if row[1] in ("0024001", "0024002", "0024003")]
    assert names == ['=HYPERLINK("x")', "王芳", "张伟"]
    formula_cell = next(c for row in sheet.iter_rows() for c in row if c.value == '=HYPERLINK("x")')
    assert formula_cell.data_type == "s", "a name starting with '=' must stay text"
    assert all("****" in (row[3] or "****") for row in cells if row[1] in ("0024001", "0024002"))


def test_the_chase_list_opens_with_the_highest_risk_and_runs_by_level_then_class() -> None:
    people = [  # (advisor, class, 学号, reason)
        ("张老师", "营销2004班", "0024006", "waiting_review"),
        ("李老师", "营销2003班", "0024005", "not_verified"),
        ("王老师", "营销2002班", "0024004", "not_verified"),
        ("王老师", "营销2002班", "0024003", "returned"),
        ("王老师", "营销2001班", "0024002", "not_confirmed"),
        ("王老师", "营销2001班", "0024001", "not_registered"),
    ]
    risks = pl.DataFrame(
        {
            "student_id": [p[2] for p in people],
            "name": [f"学生{p[2][-1]}" for p in people],
            "college_name": ["商学院"] * 6,
            "major": ["市场营销"] * 6,
            "class_name": [p[1] for p in people],
            "advisor": [p[0] for p in people],
            "phone": ["13800001111"] * 6,
            "reason": [p[3] for p in people],
            "status": [None] * 6,
            "return_reason": [None] * 6,
            "days_waiting": [None] * 6,
        }
    )
    described = progress.describe_risks(risks, DEADLINE, TODAY)
    sheet = openpyxl.load_workbook(io.BytesIO(exports.chase_list_xlsx(described, "商学院", TODAY))).active
    cells = list(sheet.iter_rows(values_only=True))
    groups = [row[0] for row in cells if row[0] and str(row[0]).startswith("班主任")]
    assert groups == ["班主任：王老师（4 人）", "班主任：张老师（1 人）", "班主任：李老师（1 人）"]
    listed = [(row[5], row[0], row[1]) for row in cells if row[5] in ("高", "中", "低")]
    assert listed == [
        ("高", "营销2001班", "0024001"),
        ("高", "营销2002班", "0024003"),
        ("中", "营销2001班", "0024002"),
        ("低", "营销2002班", "0024004"),
        ("中", "营销2004班", "0024006"),
        ("低", "营销2003班", "0024005"),
    ]


@pytest.mark.parametrize(
    ("reason", "name"),
    [
        (None, "催办名单_商学院_全部_20240610.xlsx"),
        ("not_registered", "催办名单_商学院_未提交_20240610.xlsx"),
        ("returned", "催办名单_商学院_被退回_20240610.xlsx"),
        ("waiting_review", "催办名单_商学院_待审核超时_20240610.xlsx"),
        ("not_confirmed", "催办名单_商学院_未确认_20240610.xlsx"),
        ("not_verified", "催办名单_商学院_未核验_20240610.xlsx"),
    ],
)
def test_the_chase_list_file_name_says_which_reason_was_chosen(reason: str | None, name: str) -> None:
    assert exports.chase_list_file_name("商学院", reason, TODAY) == name


STAGE_PACE = pl.DataFrame(
    {  # two colleges' rows of sql/queries/pace_by_group.sql
        "key": ["a", "b"],
        "graduates": [100, 100],
        "registered": [90, 60],
        "registered_recent": [7, 28],
        "college_approved": [80, 40],
        "college_approved_recent": [14, 7],
        "approved": [70, 30],
        "approved_recent": [35, 35],
        "confirmed": [50, 20],
        "confirmed_recent": [7, 7],
        "verified": [10, 0],
        "verified_recent": [0, 0],
    }
)


def test_every_stage_is_projected_to_the_deadline_and_never_past_the_stage_before() -> None:
    outlook = progress.stage_outlook(STAGE_PACE, DEADLINE, TODAY)
    assert outlook["stage"].to_list() == ["registered", "college_approved", "approved", "confirmed", "verified"]
    assert outlook["label"].to_list() == ["档案信息登记", "学院审核通过", "学校审核通过", "去向确认", "核验报告"]
    assert outlook["done"].to_list() == [150, 120, 100, 70, 10]
    # 7 days left at the last week's pace: +35, +21, +70 (but no more approvals than registrations), +14, +0
    assert outlook["projected"].to_list() == [185, 141, 141, 84, 10]
    assert outlook["projected_rate"].to_list() == pytest.approx([0.925, 0.705, 0.705, 0.42, 0.05])
    assert outlook["on_track"].to_list() == [False] * 5
    assert outlook["needed_pace"][0] == pytest.approx(50 / 7)
    finished = STAGE_PACE.with_columns(
        pl.col("graduates").alias(c) for c in ("registered", "college_approved", "approved", "confirmed")
    )
    assert progress.stage_outlook(finished, DEADLINE, TODAY)["on_track"].to_list() == [True, True, True, True, False]


def test_the_colleges_projected_to_miss_registration_are_listed_by_their_shortfall() -> None:
    pace = STAGE_PACE.vstack(
        STAGE_PACE.head(1).with_columns(
            pl.lit("c").alias("key"), pl.lit(50, pl.Int64).alias("graduates"), pl.lit(50, pl.Int64).alias("registered")
        )
    )
    missing = progress.colleges_projected_to_miss(pace, DEADLINE, TODAY)
    # a: 90 + 7 = 97 of 100; b: 60 + 28 = 88 of 100; c: all registered
    assert missing.select("key", "projected", "shortfall").rows() == [("b", 88, 12), ("a", 97, 3)]
    assert progress.colleges_projected_to_miss(pace.filter(pl.col("key") == "c"), DEADLINE, TODAY).is_empty()


def test_a_college_too_small_for_an_analyst_shows_no_pace_and_is_not_listed() -> None:
    pace = STAGE_PACE.with_columns(pl.Series("graduates", [100, 4]), pl.Series("registered", [90, 3]))
    hidden = statistics.suppress_small(pace, 5, row_key="key", column_key=None)  # b, and a with it (lonely)
    assert hidden["suppressed"].to_list() == [True, True]
    shown = progress.project_groups(hidden, DEADLINE, TODAY)
    assert shown.select("graduates", "registered_recent", "projected", "will_miss").rows() == [(None,) * 4] * 2
    assert progress.colleges_projected_to_miss(hidden, DEADLINE, TODAY).is_empty()
    three = pace.vstack(
        pace.head(1).with_columns(
            pl.lit("c").alias("key"),
            pl.lit(120, pl.Int64).alias("graduates"),
            pl.lit(110, pl.Int64).alias("registered"),
        )
    )
    missing = progress.colleges_projected_to_miss(
        statistics.suppress_small(three, 5, row_key="key", column_key=None), DEADLINE, TODAY
    )
    assert missing.select("key", "shortfall").rows() == [("c", 3)]  # a goes with b (lonely); c: 110 + 7 of 120
