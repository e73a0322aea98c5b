"""Deadline arithmetic, pace projection and deadline risk: who will not make it, and why.

Risk reasons and levels are rules of the office, written once here; SQL finds the graduates
(`sql/queries/risk_list.sql`) and pages draw them. Reminder texts help graduates meet the
deadline; under the ministry's 四不准 they never tie anything to diplomas, degrees or grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from pipelines.rules import identity, text

# Waiting longer than this for a review puts a graduate at risk (issue #3: "more than N days").
REVIEW_WAIT_DAYS = 3


@dataclass(frozen=True)
class RiskReason:
    code: str
    label: str  # what is missing, for the table
    short: str  # the label in a word or two, for file names and the level rules
    situation: str  # where the graduate stands, told to them: the reminder's first sentence
    request: str  # what they must do; {by} is "在6月17日前" before the deadline, "尽快" after
    owner: str  # who has to act: graduate / reviewer
    weight: int  # higher is more urgent


RISK_REASONS: tuple[RiskReason, ...] = (
    RiskReason(
        "not_registered",
        "未提交档案信息登记",
        "未提交",
        "你还没有提交毕业生档案信息登记",
        "请{by}登录全国高校毕业生毕业去向登记系统，完成“档案信息登记”并提交",
        "graduate",
        3,
    ),
    RiskReason(
        "returned",
        "登记被退回未重新提交",
        "被退回",
        "你的毕业生档案信息登记被退回，还没有重新提交",
        "请{by}按退回意见修改“档案信息登记”后重新提交",
        "graduate",
        3,
    ),
    RiskReason(
        "waiting_review",
        f"待审核超过 {REVIEW_WAIT_DAYS} 天",
        "待审核超时",
        f"你的毕业生档案信息登记已提交，等待学院/学校审核已超过 {REVIEW_WAIT_DAYS} 天",
        "请留意审核结果，如被退回，请{by}按退回意见修改后重新提交",
        "reviewer",
        2,
    ),
    RiskReason(
        "not_confirmed",
        "审核已通过，未做去向登记确认",
        "未确认",
        "你的毕业生档案信息登记已审核通过，还没有做去向登记确认",
        "请{by}进入“去向登记确认”，核对毕业去向、档案和户口信息后确认",
        "graduate",
        2,
    ),
    RiskReason(
        "not_verified",
        "已确认，未生成核验报告",
        "未核验",
        "你已确认登记去向，还没有生成核验报告",
        "请{by}进入“核验授权”设置有效期，下载核验报告交给班主任放入档案袋",
        "graduate",
        1,
    ),
)
BY_CODE = {r.code: r for r in RISK_REASONS}
ALL_REASONS = "全部"  # the short name of no chosen reason (file names)
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


def urgency(reason_code: str, days_to_deadline: int) -> int:
    """3 (高) … 1 (低): the reason's weight, raised one step in the last days (and after)."""
    weight = BY_CODE[reason_code].weight
    if days_to_deadline <= ESCALATION_DAYS:
        weight = min(weight + 1, 3)
    return weight


def risk_level(reason_code: str, days_to_deadline: int) -> str:
    """高/中/低: the reason's urgency, raised one step in the last days (and after)."""
    return LEVELS[urgency(reason_code, days_to_deadline)]


def urgency_params(days_to_deadline: int) -> dict[str, Any]:
    """The parameters by which `sql/queries/risk_list.sql` puts the most urgent first: each
    reason and its urgency at this distance from the deadline."""
    return {
        "reason_codes": [r.code for r in RISK_REASONS],
        "reason_urgency": [urgency(r.code, days_to_deadline) for r in RISK_REASONS],
    }


def reason_short(reason_code: str | None) -> str:
    """A chosen reason in a word or two (None: every reason), for file names."""
    return ALL_REASONS if reason_code is None else BY_CODE[reason_code].short


def risk_level_rules() -> str:
    """The level rules in one Chinese sentence, for the page that shows the levels."""
    parts = [
        "、".join(r.short for r in RISK_REASONS if r.weight == weight) + f"为“{label}”"
        for weight, label in LEVELS.items()
    ]
    return "风险等级：" + "；".join(parts) + f"；截止前 {ESCALATION_DAYS} 天内各升一级。"


def reminder_text(name: str, reason_code: str, deadline: date, today: date) -> str:
    """A reminder ready to paste into a class group: where the graduate stands, what to do and
    by when."""
    reason = BY_CODE[reason_code]
    when = f"{deadline.month}月{deadline.day}日"
    if days_left(deadline, today) >= 0:
        ask = reason.request.format(by=f"在{when}前")
    else:
        ask = f"登记截止日期（{when}）已过。" + reason.request.format(by="尽快")
    return f"{name}同学：{reason.situation}。{ask}，以免影响档案正常转递。如有疑问请联系班主任或学院。"


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
    """Risk rows (from sql/queries/risk_list.sql) with what is missing, the level (and its
    urgency, 3 … 1, to sort by), a masked phone and the reminder text: what pages and chase
    lists show."""
    left = days_left(deadline, today)
    return frame.with_columns(
        pl.col("reason").replace_strict({r.code: r.label for r in RISK_REASONS}).alias("missing"),
        text.mapped(frame["reason"], lambda code: risk_level(code, left), name="level"),
        text.mapped(frame["reason"], lambda code: urgency(code, left), pl.Int64, name="urgency"),
        text.mapped(frame["phone"], identity.mask_phone, name="phone_masked"),
        pl.Series(
            "reminder",
            [
                reminder_text(name, reason, deadline, today)
                for name, reason in zip(frame["name"].to_list(), frame["reason"].to_list(), strict=True)
            ],
            dtype=pl.String,
        ),
        pl.lit(left).alias("days_left"),
    ).drop("phone")


RECENT_DAYS = 7  # the pace a projection assumes is the average of the last week


def project_daily(daily: pl.DataFrame, done: int, total: int, deadline: date, today: date) -> Projection:
    """Project from `sql/queries/daily_progress.sql` rows: the last RECENT_DAYS days set the pace."""
    recent = int(daily.tail(RECENT_DAYS)["registered_that_day"].sum()) if daily.height else 0
    return project(done, total, recent, RECENT_DAYS, deadline, today)


def project_groups(groups: pl.DataFrame, deadline: date, today: date) -> pl.DataFrame:
    """Rows of `sql/queries/pace_by_group.sql` with the registrations projected to the deadline
    (`projected`) and whether they fall short (`will_miss`). Rows hidden from an aggregate-only
    viewer (`suppressed`, by `statistics.for_viewer`) are projected from their true counts but
    show neither their pace nor their projection."""

    def true(column: str) -> str:
        return f"_true_{column}" if f"_true_{column}" in groups.columns else column

    projected = [
        project(done, total, recent, RECENT_DAYS, deadline, today).projected
        for done, total, recent in groups.select(true("registered"), true("graduates"), "registered_recent").iter_rows()
    ]
    out = groups.with_columns(pl.Series("projected", projected, dtype=pl.Int64)).with_columns(
        (pl.col("projected") < pl.col(true("graduates"))).alias("will_miss")
    )
    if "suppressed" in out.columns:
        out = out.with_columns(
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("registered_recent", "projected", "will_miss")
        )
    return out


def colleges_projected_to_miss(groups: pl.DataFrame, deadline: date, today: date) -> pl.DataFrame:
    """The groups (colleges) of `pace_by_group` that will not have everyone registered by the
    deadline at their recent pace, the largest shortfall (graduates - projected) first. Rows an
    aggregate-only viewer may not see (`suppressed`, pipelines/statistics.py) are left out."""
    projected = project_groups(groups, deadline, today)
    return (
        projected.filter(pl.col("will_miss").fill_null(False))
        .with_columns((pl.col("graduates") - pl.col("projected")).alias("shortfall"))
        .sort(["shortfall", "key"], descending=[True, False])
    )


# The stages 总览 projects to the deadline, in the order a graduate passes them.
OUTLOOK_STAGES = {
    "registered": "档案信息登记",
    "college_approved": "学院审核通过",
    "approved": "学校审核通过",
    "confirmed": "去向确认",
    "verified": "核验报告",
}


def stage_outlook(groups: pl.DataFrame, deadline: date, today: date) -> pl.DataFrame:
    """Every stage of OUTLOOK_STAGES projected to the deadline over all rows of `pace_by_group`
    (the selection): how many are there now (`done`), reached it in the last RECENT_DAYS days
    (`recent`), will be there at the deadline at that pace (`projected`, never more than the
    stage before: nobody is approved without registering), that as a share of the graduates
    (`projected_rate`), the pace needed (`needed_pace`) and whether everyone gets there
    (`on_track`)."""
    total = int(groups["graduates"].sum())
    rows = []
    ceiling = total
    for stage, label in OUTLOOK_STAGES.items():
        done, recent = int(groups[stage].sum()), int(groups[f"{stage}_recent"].sum())
        p = project(done, total, recent, RECENT_DAYS, deadline, today)
        ceiling = min(ceiling, p.projected)
        rows.append(
            {
                "stage": stage,
                "label": label,
                "graduates": total,
                "done": done,
                "recent": recent,
                "projected": ceiling,
                "projected_rate": ceiling / total if total else None,
                "needed_pace": p.needed_pace,
                "on_track": ceiling >= total,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "stage": pl.String,
            "label": pl.String,
            "graduates": pl.Int64,
            "done": pl.Int64,
            "recent": pl.Int64,
            "projected": pl.Int64,
            "projected_rate": pl.Float64,
            "needed_pace": pl.Float64,
            "on_track": pl.Boolean,
        },
    )
