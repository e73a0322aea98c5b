"""核验查询: a receiving unit checks a verification report by name and 核验编号 (no login)."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data, widgets
from pipelines import lookups, reports
from pipelines.rules import verification
from pipelines.store import StoreError

st.title("核验查询")
st.caption(
    "供档案、户口接收单位查询毕业去向登记是否有效。请输入毕业生姓名，以及报告上的 15 位核验编号"
    "（扫描报告上的二维码会自动填入编号），或档案转递单上的转递编号。"
)
with st.form("verify"):
    name = st.text_input("毕业生姓名", max_chars=40)
    number = st.text_input("核验编号或转递编号", value=st.query_params.get("number", ""), max_chars=40)
    asked = st.form_submit_button("查询", type="primary")
if asked:
    try:
        answer = lookups.look_up(data.store(), name, number, auth.client())
    except (StoreError, ValueError) as exc:
        st.error(widgets.plain(str(exc)))
        st.stop()
    verdict = answer.verdict
    if verdict is None:
        st.error(f"查询过于频繁，请 {answer.wait_minutes:d} 分钟后再试。")
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

st.divider()
st.subheader("接收单位确认收到档案")
st.caption("档案接收单位收到毕业生档案后，请输入毕业生姓名、档案转递单上的转递编号和本单位名称，确认收到。")
with st.form("receipt"):
    receipt_name = st.text_input("档案所属毕业生的姓名", max_chars=40, key="receipt_name")
    receipt_number = st.text_input("转递编号", max_chars=40, key="receipt_number")
    receipt_unit = st.text_input("接收单位名称", max_chars=100, key="receipt_unit")
    confirmed = st.form_submit_button("确认收到档案", type="primary")
if confirmed and not receipt_unit.strip():
    st.error("请填写接收单位名称。")
elif confirmed:
    try:
        receipt = lookups.confirm_receipt(data.store(), receipt_name, receipt_number, receipt_unit, auth.client())
    except (StoreError, ValueError) as exc:
        st.error(widgets.plain(str(exc)))
        st.stop()
    if receipt.verdict is None:
        st.error(f"查询过于频繁，请 {receipt.wait_minutes:d} 分钟后再试。")
    elif not receipt.verdict.found:
        st.error("未找到：姓名或转递编号不正确。")
    else:
        st.success(f"**{receipt.verdict.label}**")
        st.markdown(f"- 档案转递单位：{widgets.plain(receipt.verdict.unit_name or '—')}")
