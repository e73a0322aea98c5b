"""截止风险: who will not make the deadline, and why (for deans)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import exports, statistics
from pipelines.rules import dispatch, progress, roles
from pipelines.store import config

PAGE_SIZE = 50
OVERDUE_DAYS = 15  # sent this many days ago and no receipt yet: chase the post or the unit

campaign, today, user = widgets.page_start("截止风险", "risk")
cohort, deadline = campaign["cohort"], campaign["registration_deadline"]
filters = widgets.filter_bar(cohort)


def dispatch_risks() -> None:
    """After the registration deadline: archives not bagged, not sent, or sent long ago and not
    received, per college; and (for those who chase people) the overdue ones by name."""
    st.subheader("档案转递")
    found = data.query("dispatch_risk", cohort=cohort, days=OVERDUE_DAYS)
    if filters.college:
        found = found.filter(pl.col("college_name") == filters.college)
    if found.height == 0:
        st.success("所选范围内的档案都已装袋、寄出，且没有寄出超过 15 天仍未签收的。")
        return
    labels = {
        "not_bagged": "档案袋未齐",
        "not_sent": "已装袋未寄出",
        "overdue": f"寄出超过 {OVERDUE_DAYS} 天未签收",
    }
    for column, (key, label) in zip(st.columns(len(labels)), labels.items(), strict=True):
        column.metric(label, f"{int(found[key].sum()):,}", border=True)  # text: ours (labels above)
    if not roles.may_list_people(user.role):
        st.caption("分析员只查看汇总数据。")
        return
    display.dataframe(
        found.select(pl.col("college_name").alias("学院"), *(pl.col(k).alias(v) for k, v in labels.items())),
        hide_index=True,
        width="stretch",
    )
    overdue = data.query("dispatch_overdue", cohort=cohort, days=OVERDUE_DAYS)
    if filters.college:
        overdue = overdue.filter(pl.col("college_name") == filters.college)
    if overdue.height:
        st.markdown(f"**寄出超过 {OVERDUE_DAYS} 天仍未签收（{overdue.height:,} 份）**：请向邮政查询或联系接收单位。")
        display.dataframe(
            display.headed(
                overdue,
                "student_id",
                "name",
                "college_name",
                "class_name",
                pl.col("sent_channel").replace_strict(dispatch.CHANNELS, default=None).alias("寄送方式"),
                "waybill",
                "sent_on",
                pl.col("days_since_sent").alias("已寄出天数"),
                "unit_name",
            ),
            hide_index=True,
            width="stretch",
        )


if deadline < today:
    dispatch_risks()
risk_params = {"cohort": cohort, "filters": filters, "review_wait_days": progress.REVIEW_WAIT_DAYS}

counts = dict(data.query("risk_counts", **risk_params).iter_rows())
if not counts:
    st.success("所选范围内没有存在截止风险的毕业生。")
    st.stop()
reasons = [r for r in progress.RISK_REASONS if counts.get(r.code)]
cards = st.columns(len(progress.RISK_REASONS))
for column, risk in zip(cards, progress.RISK_REASONS, strict=True):
    column.metric(risk.label, f"{counts.get(risk.code, 0):,}", border=True)

reason = st.segmented_control(
    "风险原因",
    ["all", *[r.code for r in reasons]],
    default="all",
    format_func=lambda c: "全部" if c == "all" else progress.BY_CODE[c].label,
)
chosen_reason = None if reason in (None, "all") else reason
total = sum(counts.values()) if chosen_reason is None else counts.get(chosen_reason, 0)


def risk_list() -> None:
    offset = widgets.pager(total, PAGE_SIZE, key="risk_page")
    page = data.query(
        "risk_list",
        **risk_params,
        reason=chosen_reason,
        limit=PAGE_SIZE,
        offset=offset,
        **progress.urgency_params(progress.days_left(deadline, today)),
    )
    described = progress.describe_risks(page, deadline, today)
    display.dataframe(
        display.headed(
            described,
            pl.col("level").alias("风险"),
            pl.col("missing").alias("缺少"),
            "student_id",
            "name",
            "college_name",
            "class_name",
            "advisor",
            "phone_masked",
            "days_left",
            "days_waiting",
            "return_reason",
            pl.col("reminder").alias("提醒语（可复制到班级群）"),
        ),
        hide_index=True,
        width="stretch",
        column_config={"提醒语（可复制到班级群）": st.column_config.TextColumn(width="large")},
    )


if roles.may_list_people(user.role):
    risk_list()
else:
    st.info("分析员只查看汇总数据：风险名单和催办名单供就业处、学院审核员使用。")
st.caption(progress.risk_level_rules() + "提醒语只说明缺少什么、何时截止，与毕业证、学位证无关（四不准）。")

st.subheader("按当前速度能否按期完成登记")
level = "class" if filters.college else "college"
st.caption(
    ("按班级" if level == "class" else "按学院（选择学院后按班级）")
    + f"，以近 {progress.RECENT_DAYS} 天的登记速度推算到截止日。"
)
pace = data.query(
    "pace_by_group", by=level, cohort=cohort, filters=filters, recent_days=progress.RECENT_DAYS, limit=200, offset=0
)
projected = progress.project_groups(
    statistics.for_viewer(pace, user.role, row_key="key", column_key=None), deadline, today
)
display.dataframe(
    display.headed(
        projected,
        "key",
        "graduates",
        "registered",
        "registered_rate",
        pl.col("registered_recent").alias(f"近{progress.RECENT_DAYS}天登记"),
        "projected",
        pl.col("will_miss").replace_strict({True: "⚠️ 赶不上", False: "✅ 可完成"}, default=None).alias("判断"),
        key="班级" if level == "class" else "学院",
    ),
    hide_index=True,
    width="stretch",
    column_config={"登记率": display.RATE_BAR},
)
if statistics.suppressed_any(projected):
    st.caption(statistics.SUPPRESSION_NOTE.format(k=config.min_cell()))

if not roles.may_export(user.role, "chase_list"):
    st.stop()
st.subheader("催办名单")
scope = filters.class_name or filters.college or ""
if not scope:
    st.info("在上方“筛选”中选择学院或班级后，可导出该学院或班级按班主任分组的催办名单（xlsx）。")
else:
    file_name = exports.chase_list_file_name(scope, chosen_reason, today)
    chase_list = widgets.deferred_file(
        exports.chase_list_file, user.actor, cohort, filters, chosen_reason, deadline, file_name
    )
    st.download_button(
        f"下载 {widgets.plain(scope)} 催办名单（{progress.reason_short(chosen_reason)}，{total:,} 人，xlsx）",
        chase_list,
        file_name=file_name,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon="⬇️",
        help="导出将记入审计日志（范围、人数、文件摘要）。",
    )
