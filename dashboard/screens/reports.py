"""核验报告: issue verification reports for a class or a college and download them for the
archive bags (one merged PDF in class and advisor order, or a ZIP of single PDFs)."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard import data, widgets
from pipelines import report_pdf, reports, verification
from pipelines.filters import Filters
from pipelines.store import StoreError

campaign, today, user = widgets.page_start("核验报告", "reports")
cohort = campaign["cohort"]
actor = user.actor
if actor.role not in reports.ISSUERS:
    st.warning("只有就业处管理员可以生成核验报告。请在侧栏切换身份。")
    st.stop()

options = data.query("filter_options", cohort=cohort, actor=actor)
with st.container(horizontal=True):
    college = st.selectbox("学院", options["college_name"].unique().sort().to_list(), key="rp_college")
    classes = options.filter(pl.col("college_name") == college)["class_name"].drop_nulls().unique().sort().to_list()
    class_name = st.selectbox("班级", [None, *classes], format_func=lambda v: v or "整个学院", key="rp_class")
    kind = st.selectbox("核验类型", list(reports.KINDS), format_func=lambda k: verification.KIND_LABELS[k], key="rp_kind")
    cap = verification.latest_valid_until(campaign["default_graduation_date"])
    valid_until = st.date_input("有效期至", value=cap, min_value=today, max_value=cap, format="YYYY-MM-DD",
                                help=f"不晚于毕业时间加六个月（{cap:%Y-%m-%d}）", key="rp_until")
chosen = Filters(college=college, class_name=class_name)
people = data.query("report_candidates", cohort=cohort, kind=kind, filters=chosen, actor=actor)
ready = people.filter(pl.col("can_issue"))
cards = st.columns(3)
cards[0].metric("毕业生", f"{people.height:,}", border=True)
cards[1].metric("可生成报告（已确认）", f"{ready.height:,}", border=True)
cards[2].metric("已有生效的档案核验报告", f"{people['is_verified'].sum():,}", border=True)
if people.height > ready.height:
    with st.expander(f"{people.height - ready.height} 人暂不能生成（未确认登记去向" + ("，或户口不在学校/未登记户口" if kind == "hukou" else "")
                     + "）"):
        st.dataframe(people.filter(~pl.col("can_issue")).select(
            pl.col("class_name").alias("班级"), pl.col("student_id").alias("学号"), pl.col("name").alias("姓名")),
            hide_index=True, width="stretch")

fmt = st.radio("下载格式", ["pdf", "zip"], horizontal=True, key="rp_format",
               format_func=lambda f: "合并为一个 PDF（按班级、班主任排序，直接打印）" if f == "pdf" else "ZIP（每人一个 PDF）")
scope = class_name or college
if st.button(f"生成 {widgets.plain(scope)} 的{verification.KIND_LABELS[kind]}报告（{ready.height} 人）", type="primary",
             disabled=ready.height == 0):
    data.release()
    bar = st.progress(0.0, text="生成核验报告……")
    try:
        done, refused = reports.issue_many(
            data.store(), actor, ready["student_id"].to_list(), kind, valid_until if isinstance(valid_until, date) else None,
            lambda i, n: bar.progress(i / n * 0.5, text=f"生成核验报告 {i}/{n}"))
        documents = reports.documents(data.store(), actor, [r.report_id for r in done])
        total = len(documents)

        def step(i: int) -> None:
            bar.progress(0.5 + i / total * 0.5, text=f"排版 PDF {i}/{total}")

        payload = report_pdf.render(documents, step) if fmt == "pdf" else report_pdf.render_zip(documents, step)
    except (StoreError, ValueError) as exc:
        st.error(widgets.plain(str(exc)))
        st.stop()
    bar.empty()
    new = sum(r.is_new for r in done)
    st.session_state["rp_result"] = (f"核验报告_{scope}_{verification.KIND_LABELS[kind]}.{fmt}", payload, fmt,
                                     f"共 {len(done)} 份：新生成 {new} 份，{len(done) - new} 份已有且仍有效（未重复生成）。"
                                     + (f" {len(refused)} 人未生成。" if refused else ""))
if result := st.session_state.get("rp_result"):
    file_name, payload, fmt_done, summary = result
    st.success(widgets.plain(summary))
    st.download_button(f"下载 {widgets.plain(file_name)}", payload, file_name=file_name, icon="⬇️",
                       mime="application/pdf" if fmt_done == "pdf" else "application/zip")

st.subheader("关闭一份报告")
st.caption("关闭后该编号查询为“已关闭”；之后可重新生成（新的核验编号）。")
with st.form("close_report", clear_on_submit=True):
    number = st.text_input("核验编号", max_chars=20)
    if st.form_submit_button("关闭报告"):
        data.release()
        try:
            reports.close(data.store(), actor, number)
            st.success(f"已关闭 {widgets.plain(number.strip().upper())}。")
        except StoreError as exc:
            st.error(widgets.plain(str(exc)))
