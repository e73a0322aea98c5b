"""核验授权: after confirmation, the graduate sets each report's validity date (within
graduation + 6 months), sees its 核验编号, downloads the PDF for the archive bag, or closes it."""

from __future__ import annotations

import functools
from datetime import date

import streamlit as st

from dashboard import data, widgets
from pipelines import reports, selfservice
from pipelines.rules import verification

campaign, today, user, g = widgets.graduate_start("核验授权", "authorize")
st.caption("根据实际需要，下载去向登记核验报告，或提供核验报告编号，供档案/户口部门办理业务使用。")
if not g["is_confirmed"]:
    st.warning("须先完成去向登记确认，才能进行核验授权。", icon="⚠️")
    st.page_link("screens/graduate/confirm.py", label="去向登记确认", icon="☑️")
    st.stop()

cap = selfservice.validity_cap(g, campaign)
mine = data.query("reports_of", student_id=g["student_id"])
kinds, current = selfservice.reports_in_force(g, mine.to_dicts())

for kind in kinds:
    report = current.get(kind)
    with st.container(border=True):
        st.markdown(f"#### {verification.KIND_LABELS[kind]}")
        number = report["report_number"] if report and report["report_status"] == "active" else None
        until = report["valid_until"] if report else None
        status = verification.STATUS_LABELS[report["report_status"]] if report else verification.STATUS_LABELS["unset"]
        # a report without its date is generated but has no number to quote yet: say which
        pending = "已生成，设置有效期后显示核验编号" if report else "设置有效期后生成核验报告和编号"
        shown_until = widgets.plain(f"{until:%Y-%m-%d} 23:59:59") if until else "暂无"
        st.markdown(
            f"- 核验编号：{widgets.plain(number) if number else pending}\n"  # text: ours (every value plain)
            f"- 有效期至：{shown_until}\n"
            f"- 核验状态：**{widgets.plain(status)}**"
        )
        if report is None or report["report_status"] == "unset":
            chosen = st.date_input(
                "有效期至",
                value=cap,
                min_value=today,
                max_value=cap,
                format="YYYY-MM-DD",
                key=f"au_until_{kind}",
                help=f"不晚于毕业时间加六个月（{cap:%Y-%m-%d}）",
            )
            if st.button("设置有效期", key=f"au_set_{kind}", type="primary"):
                day = chosen if isinstance(chosen, date) else cap
                widgets.save(
                    functools.partial(reports.issue, data.store(), user.actor, g["student_id"], kind, day),
                    f"{verification.KIND_LABELS[kind]}已生效，有效期至 {day:%Y-%m-%d}。",
                )
            continue
        with st.container(horizontal=True):
            st.download_button(
                "查看下载报告",
                widgets.deferred_file(reports.report_file, user.actor, int(report["report_id"])),
                file_name=f"核验报告_{verification.KIND_LABELS[kind]}_{number}.pdf",
                mime="application/pdf",
                icon="⬇️",
                key=f"au_pdf_{kind}",
            )
            closing = f"au_closing_{kind}"
            if not st.session_state.get(closing) and st.button(
                "关闭", key=f"au_close_{kind}", help="关闭后该编号查询为“已关闭”，可重新设置有效期生成新的编号"
            ):
                st.session_state[closing] = True
                st.rerun()
        if st.session_state.get(closing):
            st.warning(
                f"关闭后核验编号 {widgets.plain(number or '')} 查询为“已关闭”，不能恢复；需要时可重新设置有效期，"  # text: ours (the one value plain)
                "生成新的编号。确定关闭吗？",
                icon="⚠️",
            )
            yes, no = st.columns(2)
            if yes.button("确认关闭", key=f"au_close_yes_{kind}", type="primary"):
                st.session_state.pop(closing)
                widgets.save(
                    functools.partial(reports.close, data.store(), user.actor, number or ""),
                    f"已关闭核验编号 {widgets.plain(number or '')}。",
                )  # shown as Markdown: the value plain
            if no.button("取消", key=f"au_close_no_{kind}"):
                st.session_state.pop(closing)
                st.rerun()

st.caption(
    f"1、查询核验服务时间截止到毕业生的毕业时间加六个月（{cap:%Y-%m-%d}）。  \n"
    "2、下载核验报告，交由班主任放进毕业生档案袋。  \n"
    "3、若你的毕业去向、户口和档案信息发生变更，需要重新确认后再次进行核验。"
)
older = mine.filter(~mine["report_number"].is_in([r["report_number"] for r in current.values()]))
if older.height:
    with st.expander(f"以往的核验报告（{older.height} 份）"):
        for r in older.iter_rows(named=True):
            state = verification.STATUS_LABELS[r["state"]]
            st.markdown(f"- {verification.KIND_LABELS[r['kind']]} {widgets.plain(r['report_number'])} · {state}")
