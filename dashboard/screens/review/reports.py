"""核验报告: issue verification reports for a class or a college and download them for the
archive bags (one merged PDF in class and advisor order, or a ZIP of single PDFs)."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import report_pdf, reports
from pipelines.rules import roles, verification
from pipelines.rules.filters import Filters
from pipelines.store import StoreError

REPORT_PAGE = 200

campaign, today, user = widgets.page_start("核验报告", "reports")
cohort = campaign["cohort"]
actor = user.actor
if actor.role not in roles.ISSUERS:
    st.warning("只有就业处管理员可以生成核验报告。请在侧栏切换身份。")
    st.stop()

options = data.query("filter_options", cohort=cohort, actor=actor)
with st.container(horizontal=True):
    college = st.selectbox("学院", options["college_name"].unique().sort().to_list(), key="rp_college")
    classes = options.filter(pl.col("college_name") == college)["class_name"].drop_nulls().unique().sort().to_list()
    class_name = st.selectbox("班级", [None, *classes], format_func=lambda v: v or "整个学院", key="rp_class")
    kind = st.selectbox(
        "核验类型", list(reports.KINDS), format_func=lambda k: verification.KIND_LABELS[k], key="rp_kind"
    )
    cap = verification.latest_valid_until(campaign["default_graduation_date"])
    valid_until = st.date_input(
        "有效期至",
        value=cap,
        min_value=today,
        max_value=cap,
        format="YYYY-MM-DD",
        help=f"不晚于毕业时间加六个月（{cap:%Y-%m-%d}）",
        key="rp_until",
    )
chosen = Filters(college=college, class_name=class_name)
people = data.query("report_candidates", cohort=cohort, kind=kind, filters=chosen, actor=actor)
ready = people.filter(pl.col("can_issue"))
# The cards count what the button will do, in the words of its result: a graduate who already
# has a usable report of this kind gets it back (an undated one gets its date), the rest a new one.
existing = int(ready["has_report"].sum())
undated = int(ready["undated"].sum())
cards = st.columns(4)
cards[0].metric("毕业生", f"{people.height:,}", border=True)
cards[1].metric("可生成报告（已确认）", f"{ready.height:,}", border=True)
cards[2].metric(f"已有且仍有效的{verification.KIND_LABELS[kind]}报告", f"{existing:,}", border=True)
cards[3].metric("将新生成", f"{ready.height - existing:,}", border=True)
if undated:
    st.caption(
        f"已有的报告中 {undated} 份尚未设有效期（未确认），生成时设为所选有效期；"
        "“总览”的“已核验”只计设了有效期的档案核验报告。"
    )
if people.height > ready.height:
    with st.expander(
        f"{people.height - ready.height} 人暂不能生成（未确认登记去向"
        + ("，或户口不在学校/未登记户口" if kind == "hukou" else "")
        + "）"
    ):
        display.dataframe(
            display.headed(people.filter(~pl.col("can_issue")), "class_name", "student_id", "name"),
            hide_index=True,
            width="stretch",
        )

fmt = st.radio(
    "下载格式",
    ["pdf", "zip"],
    horizontal=True,
    key="rp_format",
    format_func=lambda f: "合并为一个 PDF（按班级、班主任排序，直接打印）" if f == "pdf" else "ZIP（每人一个 PDF）",
)
scope = class_name or college
if st.button(
    f"生成 {widgets.plain(scope)} 的{verification.KIND_LABELS[kind]}报告（{ready.height} 人）",
    type="primary",
    disabled=ready.height == 0,
):
    bar = st.progress(0.0, text="生成核验报告……")
    try:
        done, refused = reports.issue_many(
            data.store(),
            actor,
            ready["student_id"].to_list(),
            kind,
            valid_until if isinstance(valid_until, date) else None,
            lambda i, n: bar.progress(i / n * 0.5, text=f"生成核验报告 {i}/{n}"),
        )
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
    st.session_state["rp_result"] = (
        f"核验报告_{scope}_{verification.KIND_LABELS[kind]}.{fmt}",
        payload,
        fmt,
        f"共 {len(done)} 份：新生成 {new} 份，{len(done) - new} 份已有且仍有效（未重复生成"
        + (f"，其中 {undated} 份补设了有效期" if undated and isinstance(valid_until, date) else "")
        + "）。"
        + (f" {len(refused)} 人未生成。" if refused else ""),
    )
    st.rerun()  # the cards above now count the reports just issued
if result := st.session_state.get("rp_result"):
    file_name, payload, fmt_done, summary = result
    st.success(widgets.plain(summary))
    st.download_button(
        f"下载 {widgets.plain(file_name)}",
        payload,
        file_name=file_name,
        icon="⬇️",
        mime="application/pdf" if fmt_done == "pdf" else "application/zip",
    )

st.subheader("已生成的报告")
status_labels = verification.STATUS_LABELS
with st.container(horizontal=True):
    status = st.selectbox(
        "状态", [None, *status_labels], format_func=lambda v: status_labels[v] if v else "全部", key="rp_status"
    )
    search = st.text_input("核验编号（可输入一部分）", max_chars=20, key="rp_number").strip() or None
listed = data.query(
    "issued_reports",
    cohort=cohort,
    kind=kind,
    filters=chosen,
    status=status,
    number=search,
    limit=REPORT_PAGE,
    offset=0,
    actor=actor,
)
if listed.height == 0:
    st.caption("所选范围内没有符合条件的报告。")
else:
    total = int(listed["total"][0])
    st.caption(
        f"{widgets.plain(scope)}：共 {total:,} 份"
        + (f"，显示最新的 {REPORT_PAGE} 份，请缩小范围" if total > REPORT_PAGE else "")
        + "。选中一份可下载它的 PDF。"
    )
    picked = widgets.selected_rows(
        listed,
        display.headed(
            listed.with_columns(pl.col("class_name").fill_null("")),
            "report_number",
            "class_name",
            "student_id",
            "name",
            pl.col("status").replace_strict(status_labels).alias("状态"),
            pl.col("valid_until").cast(pl.String).fill_null("未设置").alias("有效期至"),
            "issued_at",
        ),
        id_column="report_id",
        key="rp_listed",
        hide_index=True,
        width="stretch",
        column_config={"生成时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    if picked.height:
        one = picked.row(0, named=True)
        st.download_button(
            f"下载 {widgets.plain(one['report_number'])}（{widgets.plain(one['name'])}）的 PDF",
            widgets.deferred_file(reports.report_file, actor, int(one["report_id"])),
            file_name=f"核验报告_{one['report_number']}.pdf",
            mime="application/pdf",
            icon="⬇️",
        )

st.subheader("关闭一份报告")
st.caption("关闭后该编号查询为“已关闭”；之后可重新生成（新的核验编号）。先查找，核对后再确认关闭。")
with st.form("find_report"):
    number = st.text_input("核验编号", max_chars=20, key="rp_close_number")
    if st.form_submit_button("查找"):
        st.session_state["rp_closing"] = number.strip().upper()
if closing := st.session_state.get("rp_closing"):
    found = data.query(
        "issued_reports",
        cohort=cohort,
        kind=None,
        filters=Filters(),
        status=None,
        number=closing,
        limit=2,
        offset=0,
        actor=actor,
    ).filter(pl.col("report_number") == closing)
    if found.height == 0:
        st.error(f"没有核验编号为 {widgets.plain(closing)} 的报告，或不在你的范围内。")
    else:
        one = found.row(0, named=True)
        st.warning(  # text: ours (KIND_LABELS, status_labels; values plain)
            f"将关闭 {widgets.plain(one['report_number'])}：{widgets.plain(one['name'])}（{widgets.plain(one['student_id'])}）· "
            f"{verification.KIND_LABELS[one['kind']]} · {status_labels[one['status']]}。关闭后不能恢复。",
            icon="⚠️",
        )
        yes, no = st.columns(2)
        if yes.button("确认关闭", type="primary"):
            try:
                reports.close(data.store(), actor, closing)
            except StoreError as exc:
                st.error(widgets.plain(str(exc)))
            else:
                st.session_state.pop("rp_closing")
                st.session_state["rp_closed"] = closing
                st.rerun()
        if no.button("取消"):
            st.session_state.pop("rp_closing")
            st.rerun()
if closed := st.session_state.pop("rp_closed", None):
    st.success(f"已关闭 {widgets.plain(closed)}。")
