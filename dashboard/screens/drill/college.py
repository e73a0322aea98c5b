"""学院 / 班级: a college's classes and majors ranked by completion, down to its graduates."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import access, statistics
from pipelines.rules import roles, workflow
from pipelines.store import config

PAGE_SIZE = 50
RANKING = ("key", "graduates", "registered", "registered_rate", "approved", "approved_rate", "confirmed", "verified")

user = widgets.require("college")
campaign = data.guarded_campaign()
cohort = campaign["cohort"]
today = data.today()
current = widgets.current_filters()
colleges = data.query("filter_options", cohort=cohort)["college_name"].unique().sort().to_list()
college = current.college or access.own_college(user.actor)  # a dean with one college opens it

if college is None or college not in colleges:
    st.title("学院 / 班级")
    widgets.campaign_header(campaign, today)
    if current.college is not None:
        st.warning(f"没有找到学院“{widgets.plain(current.college)}”，请从下面选择。")
    st.write("选择一个学院：")
    columns = st.columns(4)
    for i, name in enumerate(colleges):
        columns[i % 4].page_link(
            "screens/drill/college.py", label=widgets.plain(name), icon="🏫", query_params={"college": name}
        )
    st.stop()

st.title(widgets.plain(current.class_name or college))
widgets.campaign_header(campaign, today, subtitle=college if current.class_name else "")
filters = widgets.filter_bar(cohort, fixed_college=True)
totals = data.query("stats_by", by="school", cohort=cohort, filters=filters)
if totals.height == 0:
    st.info("没有符合筛选条件的毕业生。")
    st.stop()
before = data.query("stats_by", by="school", cohort=cohort, filters=filters, as_of=widgets.yesterday(today))
widgets.kpi_cards(totals.row(0, named=True), before.row(0, named=True) if before.height else None)


def ranking(by: str, label: str) -> None:
    ranked = statistics.for_viewer(
        data.query("stats_by", by=by, cohort=cohort, filters=filters), user.role, row_key="key", column_key=None
    ).sort(["registered_rate", "approved_rate"], descending=True, nulls_last=True)
    if statistics.suppressed_any(ranked):
        st.info(statistics.SUPPRESSION_NOTE.format(k=config.min_cell()), icon="🔒")
    # The selection belongs to the listed rows by their name: a click on a row narrows the page
    # to it (in the address), and the narrowed ranking starts with no row ticked.
    shown = display.headed(ranked, *RANKING, key=label)
    picked = widgets.selected_rows(
        ranked,
        shown,
        id_column="key",
        key=f"rank_{by}",
        hide_index=True,
        width="stretch",
        column_config=display.rate_bars(shown),
    )
    if picked.height:
        widgets.write_url({"major" if by == "major" else "class": str(picked["key"][0])})
        st.rerun()


by_class, by_major = st.tabs(["按班级排名", "按专业排名"], key="tab", bind="query-params")
with by_class:
    ranking("class", "班级")
with by_major:
    ranking("major", "专业")
st.caption("点选一行，下面的名单只显示该班级或专业。")

if not roles.may_list_people(user.role):
    st.info("分析员只查看汇总数据：毕业生名单供就业处、学院审核员使用。")
    st.stop()
st.subheader("毕业生")
search = (
    st.text_input("按学号或姓名查找", placeholder="输入学号或姓名的一部分", key="q", bind="query-params") or ""
).strip() or None
first = data.query("graduate_list", cohort=cohort, filters=filters, search=search, limit=PAGE_SIZE, offset=0)
total = int(first["total"][0]) if first.height else 0
if total == 0:
    st.info("没有符合条件的毕业生。")
    st.stop()
offset = widgets.pager(total, PAGE_SIZE, key="page")
people = (
    first
    if offset == 0
    else data.query("graduate_list", cohort=cohort, filters=filters, search=search, limit=PAGE_SIZE, offset=offset)
)
st.caption("点选一行打开该毕业生的登记详情。")
student = widgets.selected_rows(
    people,
    display.headed(
        people,
        "student_id",
        "name",
        "class_name",
        "major",
        "advisor",
        pl.col("stage").replace_strict(workflow.STAGES).alias("所处环节"),
        "submitted_at",
    ),
    id_column="student_id",
    key="people",
    hide_index=True,
    width="stretch",
)
if student.height:
    st.switch_page("screens/drill/detail.py", query_params={"student": str(student["student_id"][0])})
