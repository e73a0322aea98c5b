"""总览: where the whole campaign stands against the deadline (for office leaders)."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import statistics
from pipelines.rules import dispatch, progress, workflow
from pipelines.store import config

campaign, today, user = widgets.page_start("总览", "overview")
cohort, deadline = campaign["cohort"], campaign["registration_deadline"]
filters = widgets.filter_bar(cohort)

breakdowns = data.query("stats_breakdowns", cohort=cohort, filters=filters)


def breakdown(dimension: str) -> pl.DataFrame:
    found = breakdowns.filter(pl.col("dimension") == dimension).drop("dimension")
    return found if dimension == "school" else statistics.for_viewer(found, user.role, row_key="key", column_key=None)


now = breakdown("school")
if now.height == 0 or now["graduates"][0] == 0:
    st.info("没有符合筛选条件的毕业生。请放宽筛选条件，或点“清除筛选”。")
    st.stop()
if statistics.too_small_for(user.role, int(now["graduates"][0])):
    st.info(statistics.TOO_SMALL_NOTE.format(k=config.min_cell()), icon="🔒")
    st.stop()
if any(statistics.suppressed_any(breakdown(d)) for d in ("college", "transfer_type", "origin_province")):
    st.caption(statistics.SUPPRESSION_NOTE.format(k=config.min_cell()))
before = data.query("stats_breakdowns", cohort=cohort, filters=filters, as_of=widgets.yesterday(today)).filter(
    pl.col("dimension") == "school"
)
totals = now.row(0, named=True)
widgets.kpi_cards(totals, before.row(0, named=True) if before.height else None)


def dispatch_funnel() -> None:
    """After the registration deadline: where the archives stand (档案转递), as a funnel of the
    archives that reached each step, with the returned and waiting ones beside it."""
    found = data.query("dispatch_progress", cohort=cohort)
    if filters.college:
        found = found.filter(pl.col("college_name") == filters.college)
    counts = dict(found.group_by("dispatch_status").agg(pl.col("archives").sum()).iter_rows())
    total = sum(counts.values())
    st.subheader("档案转递")
    if total == 0 or statistics.too_small_for(user.role, total):
        st.caption("登记已截止；还没有可以转递的档案（登记须通过审核并确认）。" if total == 0 else "人数过少，不显示。")
        return
    steps = [dispatch.NOT_BAGGED, dispatch.BAGGED, dispatch.SENT, dispatch.RECEIVED]
    reached = [sum(counts.get(s, 0) for s in steps[i:]) for i in range(len(steps))]
    chart, side = st.columns([3, 2])
    with chart:
        figure = go.Figure(
            go.Funnel(
                y=["应转递（含待装袋）", *(dispatch.STATUSES[s] for s in steps[1:])],
                x=reached,
                textinfo="value+percent initial",
            )
        )
        figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=260)
        display.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
    with side:
        for code in (dispatch.NOT_BAGGED, dispatch.RETURNED, dispatch.HELD, dispatch.KEPT):
            st.metric(dispatch.STATUSES[code], f"{counts.get(code, 0):,}", border=True)
    st.caption("漏斗每一层为到达该环节及以后的档案数（被退回、暂缓的另计）；只计通过审核并确认、可以转递的档案。")


if deadline < today:
    dispatch_funnel()

left, right = st.columns([2, 3])
with left:
    st.subheader("各环节")
    funnel_keys = ["graduates", "registered", "college_approved", "approved", "confirmed", "verified"]
    labels = {**workflow.COUNT_LABELS, "college_approved": "学院已通过"}
    funnel = go.Figure(
        go.Funnel(
            y=[labels[k] for k in funnel_keys], x=[totals[k] for k in funnel_keys], textinfo="value+percent initial"
        )
    )
    funnel.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=320)
    display.plotly_chart(funnel, width="stretch", config={"displayModeBar": False})

with right:
    st.subheader("累计登记与审核通过")
    daily = data.query(
        "daily_progress", cohort=cohort, filters=filters, start=campaign["opens_on"] or deadline - timedelta(days=60)
    )
    projection = progress.project_daily(daily, totals["registered"], totals["graduates"], deadline, today)
    figure = go.Figure()
    figure.add_scatter(x=daily["day"], y=daily["registered"], name="累计登记", mode="lines")
    figure.add_scatter(x=daily["day"], y=daily["approved"], name="累计审核通过", mode="lines")
    if projection.days_left > 0:
        figure.add_scatter(
            x=[today, deadline],
            y=[projection.done, projection.total],
            name="按期完成所需进度",
            mode="lines",
            line={"dash": "dot"},
        )
        figure.add_scatter(
            x=[today, deadline],
            y=[projection.done, projection.projected],
            name=f"按近{progress.RECENT_DAYS}天速度预计",
            mode="lines",
            line={"dash": "dash"},
        )
    figure.add_hline(y=totals["graduates"], line={"color": "gray", "width": 1}, annotation_text="毕业生总数")
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=320, legend={"orientation": "h"})
    display.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
    if projection.days_left > 0:
        verdict = (
            f"预计截止时仍有 {projection.total - projection.projected:,} 人未登记"
            if projection.will_miss
            else "按当前速度可在截止前完成登记"
        )
        st.caption(
            f"近 {progress.RECENT_DAYS} 天平均每天登记 {projection.daily_pace:.1f} 人；按期完成需每天 "
            f"{projection.needed_pace:.1f} 人。{verdict}。"
        )

st.subheader("截止日预测")
st.caption(
    f"以近 {progress.RECENT_DAYS} 天各环节的速度推算到登记截止日（{widgets.plain(f'{deadline:%Y-%m-%d}')}）；"  # text: ours (a constant; the date plain)
    "后一环节的预计人数不超过前一环节。"
)
pace = data.query(
    "pace_by_group",
    by="college",
    cohort=cohort,
    filters=filters,
    recent_days=progress.RECENT_DAYS,
    limit=None,
    offset=0,
)
ON_TRACK = {True: "✅ 可完成", False: "⚠️ 赶不上"}
stages, colleges_missing = st.columns([3, 2])
with stages:
    outlook = progress.stage_outlook(pace, deadline, today)
    display.dataframe(
        outlook.select(
            pl.col("label").alias("环节"),
            pl.col("done").alias("现在"),
            pl.col("recent").alias(f"近{progress.RECENT_DAYS}天"),
            pl.col("projected").alias("预计截止时"),
            pl.col("projected_rate").alias("预计完成率"),
            pl.col("on_track").replace_strict(ON_TRACK).alias("判断"),
        ),
        hide_index=True,
        width="stretch",
        column_config={"预计完成率": display.RATE_BAR},
    )
with colleges_missing:
    missing = progress.colleges_projected_to_miss(
        statistics.for_viewer(pace, user.role, row_key="key", column_key=None), deadline, today
    )
    if missing.height == 0:
        st.success("按当前速度，各学院都能在截止前完成档案信息登记。")
    else:
        st.markdown(f"**预计赶不上登记截止的学院（{missing.height} 个）**")
        display.dataframe(
            display.headed(missing, "key", "graduates", "registered", "projected", "shortfall", key="学院"),
            hide_index=True,
            width="stretch",
        )

st.subheader("各学院完成情况")
by_college = breakdown("college").sort("registered_rate")
bars = go.Figure()
bars.add_bar(y=by_college["key"], x=by_college["registered_rate"], name="登记率", orientation="h")
bars.add_bar(y=by_college["key"], x=by_college["approved_rate"], name="审核通过率", orientation="h")
bars.update_layout(
    barmode="group",
    xaxis={"tickformat": ".0%", "range": [0, 1]},
    height=40 + 44 * by_college.height,
    margin={"l": 10, "r": 10, "t": 10, "b": 10},
    legend={"orientation": "h"},
)
chosen = display.plotly_chart(
    bars,
    width="stretch",
    on_select="rerun",
    selection_mode="points",
    key="college_bars",
    config={"displayModeBar": False},
)
points = chosen.selection.points if chosen and chosen.selection else []
if points:
    st.switch_page("screens/drill/college.py", query_params={"college": points[0]["y"]})
table = display.headed(
    by_college.sort("registered_rate", descending=True),
    "key",
    "graduates",
    "registered",
    "registered_rate",
    "approved",
    "approved_rate",
    "confirmed",
    "verified",
    key="学院",
)
display.dataframe(table, hide_index=True, width="stretch", column_config=display.rate_bars(table))
st.caption("进入学院：")
link_columns = st.columns(4)
for i, name in enumerate(table["学院"].to_list()):
    link_columns[i % 4].page_link(
        "screens/drill/college.py", label=widgets.plain(name), icon="🏫", query_params={"college": name}
    )

st.subheader("分布")
by_type, by_province = st.columns(2)
with by_type:
    types = breakdown("transfer_type").filter(pl.col("key") != "未登记")
    pie = go.Figure(go.Pie(labels=types["key"], values=types["registered"], hole=0.4))
    pie.update_layout(title="按档案转递类型（已登记）", height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    display.plotly_chart(pie, width="stretch", config={"displayModeBar": False})
with by_province:
    provinces = breakdown("origin_province").sort("graduates", descending=True)
    shown = provinces.head(12)
    bar = go.Figure(go.Bar(x=shown["key"], y=shown["graduates"], name="毕业生"))
    bar.add_bar(x=shown["key"], y=shown["registered"], name="已登记")
    bar.update_layout(
        title="按生源省份（前 12）",
        height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        barmode="overlay",
        legend={"orientation": "h"},
    )
    display.plotly_chart(bar, width="stretch", config={"displayModeBar": False})
