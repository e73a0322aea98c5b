"""统计分析: any stage count or rate by any dimension, 毕业去向落实率 with its definition, trends
from the daily snapshots, cohort comparison, and the exports (for analysts and the office)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import brief_pdf, exports, statistics
from pipelines.rules import roles
from pipelines.store.config import min_cell as config_min_cell

NO_BAR = {"displayModeBar": False}

campaign, today, user = widgets.page_start("统计分析", "stats")
cohort = campaign["cohort"]
filters = widgets.filter_bar(cohort)
pivot_tab, placement_tab, trend_tab, cohort_tab, export_tab = st.tabs(
    ["分组透视", "毕业去向落实率", "趋势（每日快照）", "届别对比", "导出"]
)


def breakdown(rows: str, columns: str = statistics.NONE) -> pl.DataFrame:
    found = data.query("stats_pivot", cohort=cohort, rows=rows, columns=columns, filters=filters)
    return statistics.for_viewer(statistics.labelled(found, rows, columns), user.role)


with pivot_tab:
    dims = [statistics.NONE, *statistics.DIMENSIONS]
    names = {statistics.NONE: "不分组", **statistics.DIMENSIONS}
    picks = st.columns(3)
    rows = picks[0].selectbox("行", list(statistics.DIMENSIONS), format_func=names.__getitem__, key="pv_rows")
    columns = picks[1].selectbox("列", dims, format_func=names.__getitem__, key="pv_columns")
    measure = picks[2].selectbox(
        "指标",
        list(statistics.MEASURES),
        index=list(statistics.MEASURES).index("registered_rate"),
        format_func=statistics.MEASURES.__getitem__,
        key="pv_measure",
    )
    if columns == rows:
        st.warning("行和列选了同一个维度，请换一个。")
    else:
        long = breakdown(rows, columns)
        if long.height == 0:
            st.info("没有符合筛选条件的毕业生。")
        else:
            table = statistics.pivot_table(long, rows, columns, measure)
            rate = measure in statistics.RATES
            config = {
                c: st.column_config.NumberColumn(format="percent" if statistics.is_rate_column(c) else "localized")
                for c in table.columns[1:]
            }
            display.dataframe(table, hide_index=True, width="stretch", column_config=config)
            if columns == statistics.NONE:
                groups = table.filter(pl.col(table.columns[0]) != statistics.TOTAL)
                chart = go.Figure(
                    go.Bar(
                        x=groups[table.columns[0]].to_list(),
                        y=groups[statistics.MEASURES[measure]].to_list(),
                        marker_color="#2171b5",
                    )
                )
                chart.update_layout(
                    height=320, margin={"t": 10, "b": 10, "l": 10, "r": 10}, yaxis_tickformat=".0%" if rate else ","
                )
                display.plotly_chart(chart, width="stretch", config=NO_BAR)
            st.caption("比率的分母均为该组全部毕业生；比率（含合计）按组内人数重新计算，不做平均。")
            if statistics.suppressed_any(long):
                st.info(statistics.SUPPRESSION_NOTE.format(k=config_min_cell()), icon="🔒")

with placement_tab:
    whole = breakdown(statistics.NONE)
    school = whole.row(0, named=True) if whole.height else None
    if school is None:
        st.info("没有符合筛选条件的毕业生。")
    elif school.get("suppressed"):
        st.info(statistics.TOO_SMALL_NOTE.format(k=config_min_cell()), icon="🔒")
    else:
        cards = st.columns(6)
        cards[0].metric("毕业去向落实率", f"{school['placed_rate']:.1%}", border=True)
        for card, key in zip(
            cards[1:], ("employed", "entrepreneur", "freelance", "further_study", "not_placed"), strict=True
        ):
            card.metric(statistics.PLACEMENT[key], f"{school[key]:,}", border=True)
        st.caption("口径：" + statistics.PLACEMENT_DEFINITION + f"未填报去向 {school['no_destination']:,} 人计入分母。")
        by = "major" if filters.college else "college"
        parts = breakdown(by).sort("placed_rate", descending=True)
        display.dataframe(
            display.headed(
                parts,
                "row_key",
                "graduates",
                *statistics.PLACEMENT,
                "placed",
                "placed_rate",
                row_key=statistics.DIMENSIONS[by],
            ),
            hide_index=True,
            width="stretch",
            column_config={"毕业去向落实率": display.RATE_BAR},
        )

with trend_tab:
    history = statistics.series_of(
        data.query("snapshot_series", cohort=cohort, college=filters.college, transfer_type=filters.transfer_type)
    )
    if history.height == 0:
        st.info("还没有快照。每天运行一次 `dangan snapshot`（例如用 cron），这里就会画出真实的历史趋势。")
    else:
        chart = go.Figure()
        for key, label in statistics.STAGE_SERIES.items():
            chart.add_trace(
                go.Scatter(x=history["snapshot_day"].to_list(), y=history[key].to_list(), name=label, mode="lines")
            )
        chart.add_trace(
            go.Scatter(
                x=history["snapshot_day"].to_list(),
                y=history["placed"].to_list(),
                name="已落实去向",
                mode="lines",
                line={"dash": "dot"},
            )
        )
        chart.update_layout(
            height=380, margin={"t": 10, "b": 10, "l": 10, "r": 10}, hovermode="x unified", legend={"orientation": "h"}
        )
        display.plotly_chart(chart, width="stretch", config=NO_BAR)
        days = history["snapshot_day"].to_list()
        st.caption(
            f"{history.height} 个快照日（{days[0]:%Y-%m-%d} 至 {days[-1]:%Y-%m-%d}）。快照记录当天的实际人数，不由现在的数据倒推；"
            "只按学院和转递类型筛选。"
        )

with cohort_tab:
    aligned = data.query("cohort_comparison")
    cohorts = aligned["cohort"].unique().sort().to_list() if aligned.height else []
    if len(cohorts) < 2:
        st.info("库中只有一届的快照。导入往届名单并保留其每日快照后，这里按“距截止日天数”对齐比较各届进度。")
    else:
        chart = go.Figure()
        for year in cohorts:
            one = aligned.filter(pl.col("cohort") == year)
            chart.add_trace(
                go.Scatter(
                    x=one["days_left"].to_list(), y=one["registered_rate"].to_list(), name=f"{year} 届", mode="lines"
                )
            )
        chart.update_layout(
            height=360,
            margin={"t": 10, "b": 10, "l": 10, "r": 10},
            yaxis_tickformat=".0%",
            xaxis={"title": "距登记截止日天数", "autorange": "reversed"},
        )
        display.plotly_chart(chart, width="stretch", config=NO_BAR)
        display.dataframe(
            display.headed(
                statistics.same_point(aligned, cohort),
                "cohort",
                "days_left",
                "snapshot_day",
                "graduates",
                "registered_rate",
                "approved_rate",
                "confirmed_rate",
                "placed_rate",
                days_left="距截止天数",
            ),
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="percent")
                for c in ("登记率", "审核通过率", "确认率", "毕业去向落实率")
            },
        )
        st.caption("各届在距截止日相同天数时的进度（本届取最新快照）。")

with export_tab:
    st.caption("导出的数字与本页相同，按你的账号范围；每次导出记入审计日志（范围、行数、文件摘要）。")
    stamp = f"{cohort}届_{today:%Y%m%d}"

    def deferred(build: Callable[..., tuple[bytes, int]], *args: Any) -> Callable[[], bytes]:
        return widgets.deferred_file(build, user.actor, *args)

    row = st.columns(3)
    for column, fmt, mime in zip(
        row,
        ("xlsx", "csv", "parquet"),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "text/csv",
            "application/vnd.apache.parquet",
        ),
        strict=True,
    ):
        name = f"统计_{stamp}.{fmt}"
        column.download_button(
            f"分组统计（{fmt}）",
            deferred(exports.stats_file, cohort, filters, fmt, name),
            file_name=name,
            mime=mime,
            icon="⬇️",
        )  # text: ours (the three formats)
    row = st.columns(3)
    weekly = f"进度周报_{stamp}.xlsx"
    row[0].download_button(
        "进度周报工作簿（xlsx）",
        deferred(exports.weekly_workbook, cohort, weekly),
        file_name=weekly,
        icon="📒",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    brief = f"进度简报_{stamp}.pdf"
    row[1].download_button(
        "一页进度简报（PDF）",
        deferred(brief_pdf.brief_file, cohort, brief),
        file_name=brief,
        mime="application/pdf",
        icon="📄",
    )
    if roles.may_export(user.role, "registrations"):
        listing = f"档案登记_{stamp}.xlsx"
        row[2].download_button(
            "登记名单（脱敏，xlsx）",
            deferred(exports.registrations_file, cohort, filters, "xlsx", listing),
            file_name=listing,
            icon="👥",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
