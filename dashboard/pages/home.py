"""首页: the campaign and its completion by college. The full 总览 comes with issue #3."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from pipelines import workflow
from pipelines.store import StoreError

st.title("毕业生档案信息登记看板")

try:
    cohort_row = data.query("latest_cohort")
    cohort = cohort_row["cohort"][0] if cohort_row.height else None
    if cohort is None:
        st.info("库中还没有登记工作。运行 `dangan demo` 生成演示库，或用 `dangan campaign set` 新建一届。")
        st.stop()
    campaign = data.query("campaign", cohort=cohort).row(0, named=True)
    stats = data.query("stats_by", by="college", cohort=cohort)
except StoreError as exc:
    st.error(str(exc))
    st.stop()

st.caption(
    f"{campaign['school_name']} · {cohort} 届 · {campaign['notice_number'] or ''} · "
    f"登记截止 {campaign['registration_deadline']:%Y-%m-%d}"
)
totals = stats.select(list(workflow.COUNT_LABELS)).sum().row(0, named=True)
columns = st.columns(5)
for column, key in zip(columns, ["graduates", "registered", "approved", "confirmed", "verified"], strict=True):
    label = workflow.COUNT_LABELS[key]
    rate = f"{totals[key] / totals['graduates']:.1%}" if totals["graduates"] and key != "graduates" else None
    column.metric(label, f"{totals[key]:,}", rate, delta_color="off")

st.subheader("各学院进度")
st.dataframe(
    stats.rename({"key": "学院", **workflow.COUNT_LABELS}),
    hide_index=True,
    width="stretch",
)
