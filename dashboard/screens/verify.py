"""核验查询: a receiving unit checks a verification report by name and 核验编号 (no login)."""

from __future__ import annotations

import math
import secrets

import streamlit as st

from dashboard import data, widgets
from pipelines import reports, verification
from pipelines.ratelimit import RateLimit
from pipelines.store import SYSTEM, StoreError

ATTEMPTS, WINDOW_S = 10, 600  # per client: 10 look-ups in 10 minutes


@st.cache_resource
def _limit() -> RateLimit:
    return RateLimit(ATTEMPTS, WINDOW_S)


st.title("核验查询")
st.caption("供档案、户口接收单位查询毕业去向登记是否有效。请输入毕业生姓名，以及报告上的 15 位核验编号"
           "（扫描报告上的二维码会自动填入编号），或档案转递单上的转递编号。")
with st.form("verify"):
    name = st.text_input("毕业生姓名", max_chars=40)
    number = st.text_input("核验编号或转递编号", value=st.query_params.get("number", ""), max_chars=40)
    asked = st.form_submit_button("查询", type="primary")
if asked:
    ip = st.context.ip_address  # per address; a session of its own only when there is none
    client = ip if isinstance(ip, str) and ip else st.session_state.setdefault("client", secrets.token_hex(8))
    allowed, wait = _limit().allow(client)
    if not allowed:
        st.error(f"查询过于频繁，请 {math.ceil(wait / 60)} 分钟后再试。")
        st.stop()
    data.release()  # one read connection at a time (see data.run_scope)
    try:
        with data.store().reading(SYSTEM) as reader:
            verdict = reports.verify_any(reader, name, number)
    except StoreError as exc:
        st.error(str(exc))
        st.stop()
    if not verdict.found:
        st.error("未找到：姓名、核验编号或转递编号不正确。")
    elif verdict.kind == reports.TRANSFER_KIND:
        show = st.success if verdict.valid else st.warning
        show(f"**档案转递（转递编号）：{verdict.label}**")
        st.markdown(f"- 档案转递单位：{widgets.plain(verdict.unit_name or '—')}")
    else:
        kind = verification.KIND_LABELS.get(verdict.kind or "", "核验报告")
        until = f"{verdict.valid_until:%Y-%m-%d} 23:59:59" if verdict.valid_until else "未设置"
        show = st.success if verdict.valid else st.warning
        show(f"**{kind}：{verdict.label}**")
        st.markdown(f"- 档案转递单位：{widgets.plain(verdict.unit_name or '—')}\n- 有效期至：{until}")
        if not verdict.valid:
            st.caption("报告无效时，请联系毕业生重新确认去向登记后再次核验。")
