"""Deadline arithmetic, pace projection and deadline risk: who will not make it, and why.

Risk reasons and levels are rules of the office, written once here; SQL finds the graduates
(`sql/queries/risk_list.sql`) and pages draw them. Reminder texts help graduates meet the
deadline; under the ministry's 四不准 they never tie anything to diplomas, degrees or grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines import identity

# Waiting longer than this for a review puts a graduate at risk (issue #3: "more than N days").
REVIEW_WAIT_DAYS = 3


@dataclass(frozen=True)
class RiskReason:
    code: str
    label: str  # what is missing, for the table
    action: str  # what the graduate (or reviewer) must do, for the reminder
    owner: str  # who has to act: graduate / reviewer
    weight: int  # higher is more urgent


RISK_REASONS: tuple[RiskReason, ...] = (
    RiskReason("not_registered", "未提交档案信息登记", "登录全国高校毕业生毕业去向登记系统，完成“档案信息登记”并提交", "graduate", 3),
    RiskReason("returned", "登记被退回未重新提交", "按退回意见修改“档案信息登记”后重新提交", "graduate", 3),
    RiskReason("waiting_review", f"待审核超过 {REVIEW_WAIT_DAYS} 天", "登记已提交，正在等待学院/学校审核，请留意审核结果", "reviewer", 2),
    RiskReason("not_confirmed", "审核已通过，未做去向登记确认", "进入“去向登记确认”，核对毕业去向、档案和户口信息后确认", "graduate", 2),
    RiskReason("not_verified", "已确认，未生成核验报告", "进入“核验授权”设置有效期，下载核验报告交给班主任放入档案袋", "graduate", 1),
)
BY_CODE = {r.code: r for r in RISK_REASONS}
LEVELS = {3: "高", 2: "中", 1: "低"}
ESCALATION_DAYS = 3  # in the last days before the deadline every level rises one step


def days_left(deadline: date, today: date) -> int:
    """Days until the deadline, counting the deadline day itself; negative once it has passed."""
    return (deadline - today).days


def deadline_phrase(deadline: date, today: date) -> str:
    left = days_left(deadline, today)
    if left > 0:
        return f"距截止还有 {left} 天"
    if left == 0:
        return "今天截止"
    return f"已过截止日期 {-left} 天"


def risk_level(reason_code: str, days_to_deadline: int) -> str:
    """高/中/低: the reason's urgency, raised one step in the last days (and after)."""
    weight = BY_CODE[reason_code].weight
    if days_to_deadline <= ESCALATION_DAYS:
        weight = min(weight + 1, 3)
    return LEVELS[weight]


def risk_level_rules() -> str:
    """The level rules in one Chinese sentence, for the page that shows the levels."""
    parts = [
        "、".join(r.label for r in RISK_REASONS if r.weight == weight) + f"为“{label}”"
        for weight, label in LEVELS.items()
    ]
    return "风险等级：" + "；".join(parts) + f"；截止前 {ESCALATION_DAYS} 天内各升一级。"


def reminder_text(name: str, reason_code: str, deadline: date, today: date) -> str:
    """A reminder ready to paste into a class group: what is missing and by when."""
    reason = BY_CODE[reason_code]
    when = f"{deadline.month}月{deadline.day}日"
    if days_left(deadline, today) >= 0:
        by = f"请在{when}前{reason.action}"
    else:
        by = f"登记截止日期（{when}）已过，请尽快{reason.action}，并联系班主任"
    return f"{name}同学：你的毕业生档案信息登记{reason.label}。{by}，以免影响档案正常转递。如有疑问请联系班主任或学院。"


@dataclass(frozen=True)
class Projection:
    done: int
    total: int
    daily_pace: float  # recent average per day
    days_left: int
    projected: int  # done + pace x days left, at most total
    needed_pace: float  # per day, to reach total by the deadline

    @property
    def will_miss(self) -> bool:
        return self.projected < self.total


def project(done: int, total: int, recent: int, recent_days: int, deadline: date, today: date) -> Projection:
    """Where a group will be at the deadline if it keeps its recent pace (`recent` in `recent_days`)."""
    left = max(days_left(deadline, today), 0)
    pace = recent / recent_days if recent_days > 0 else 0.0
    projected = min(total, done + int(pace * left))
    needed = (total - done) / left if left > 0 else float(total - done)
    return Projection(done, total, pace, left, projected, needed)


def describe_risks(frame: pl.DataFrame, deadline: date, today: date) -> pl.DataFrame:
    """Risk rows (from sql/queries/risk_list.sql) with what is missing, the level, a masked
    phone and the reminder text: what pages and chase lists show."""
    left = days_left(deadline, today)
    return frame.with_columns(
        pl.col("reason").replace_strict({r.code: r.label for r in RISK_REASONS}).alias("missing"),
        pl.col("reason").map_elements(lambda code: risk_level(code, left), return_dtype=pl.String).alias("level"),
        pl.col("phone").map_elements(identity.mask_phone, return_dtype=pl.String).alias("phone_masked"),
        pl.struct("name", "reason").map_elements(
            lambda r: reminder_text(r["name"], r["reason"], deadline, today), return_dtype=pl.String
        ).alias("reminder"),
        pl.lit(left).alias("days_left"),
    ).drop("phone")


RECENT_DAYS = 7  # the pace a projection assumes is the average of the last week


def project_daily(daily: pl.DataFrame, done: int, total: int, deadline: date, today: date) -> Projection:
    """Project from `sql/queries/daily_progress.sql` rows: the last RECENT_DAYS days set the pace."""
    recent = int(daily.tail(RECENT_DAYS)["registered_that_day"].sum()) if daily.height else 0
    return project(done, total, recent, RECENT_DAYS, deadline, today)


def project_groups(groups: pl.DataFrame, deadline: date, today: date) -> pl.DataFrame:
    """Rows of `sql/queries/pace_by_group.sql` with the projected count and whether it falls short."""
    projected = [
        project(r["registered"], r["graduates"], r["recent"], RECENT_DAYS, deadline, today).projected
        for r in groups.select("registered", "graduates", "recent").iter_rows(named=True)
    ]
    return groups.with_columns(pl.Series("projected", projected, dtype=pl.Int64)).with_columns(
        (pl.col("projected") < pl.col("graduates")).alias("will_miss"))
