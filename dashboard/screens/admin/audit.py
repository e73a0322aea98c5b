"""审计日志: who did what and when: logins, reveals, exports, imports, decisions, reports and
account changes. Searchable and exportable (the export itself is recorded)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import data, display, widgets
from pipelines import auditlog, exports, privacy

PAGE_SIZE = 50

user = widgets.require("audit")
actor = user.actor
st.title("审计日志")

actions = auditlog.filter_options(r[0] for r in data.query("audit_actions").iter_rows())
with st.container(horizontal=True):
    who = st.text_input("操作人（包含）", key="au_actor").strip() or None
    action = st.selectbox(
        "操作", [None, *actions], format_func=lambda a: auditlog.option_label(a) if a else "全部", key="au_action"
    )
    target = st.text_input("对象（学号、文件名、编号……）", key="au_target").strip() or None
    date_from = st.date_input("从", value=None, format="YYYY-MM-DD", key="au_from")
    date_to = st.date_input("到", value=None, format="YYYY-MM-DD", key="au_to")
filters = {
    "who": who,
    "action": action,
    "target": target,
    "date_from": date_from if isinstance(date_from, date) else None,
    "date_to": date_to if isinstance(date_to, date) else None,
}
first = privacy.search_audit(data.store(), actor, **filters, limit=PAGE_SIZE, offset=0)
total = int(first["total"][0]) if first.height else 0
if total == 0:
    st.info("没有符合条件的记录。")
    st.stop()
offset = widgets.pager(total, PAGE_SIZE, key="au_page")
page = first if offset == 0 else privacy.search_audit(data.store(), actor, **filters, limit=PAGE_SIZE, offset=offset)
st.caption(f"共 {total:,} 条，最新的在前。")
display.dataframe(
    auditlog.readable(page),
    hide_index=True,
    width="stretch",
    column_config={
        "时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "详情": st.column_config.TextColumn(width="large"),
    },
)


# built when clicked; the export is recorded in the log it exports
audit_csv = widgets.deferred_file(exports.audit_log_file, actor, filters, "审计日志.csv")
st.download_button(f"导出这 {total:,} 条（CSV）", audit_csv, file_name="审计日志.csv", mime="text/csv", icon="⬇️")
