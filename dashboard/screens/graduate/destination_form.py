"""毕业去向填报: the graduate's destination (毕业去向代码) and their employer or school."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from pipelines import selfservice
from pipelines.rules import checks, codes

campaign, today, user, g = widgets.graduate_start("毕业去向填报", "destination_form")
st.caption("用于登记毕业去向及签约信息。")

current = g["destination_code"]
if current is None:
    st.info("你还没有填报毕业去向。", icon="ℹ️")
else:
    where = "，".join(v for v in (g["employer_name"], g["employer_location"]) if v)
    st.markdown(
        f"当前登记：**{widgets.plain(current)} {widgets.plain(g['destination_name'] or '')}**"
        + (f"（{widgets.plain(where)}）" if where else "")
    )
if g["is_confirmed"]:
    st.warning("你已确认登记去向。修改毕业去向后须重新到“去向登记确认”确认，原核验报告随之失效。", icon="⚠️")

widgets.fill_once(
    "df",
    g["destination_id"],
    {"df_code": current, "df_unit": g["employer_name"] or "", "df_location": g["employer_location"] or ""},
)

code = st.selectbox(
    "毕业去向",
    list(codes.DESTINATIONS),
    index=None,
    placeholder="点击选择",
    key="df_code",
    format_func=lambda c: f"{c} {codes.DESTINATIONS[c][0]}",
)
label = selfservice.unit_label(code) if code else None
unit = location = ""
if label:
    unit = st.text_input(label, max_chars=selfservice.ADDRESS_MAX_CHARS, key="df_unit")
    location = st.text_input(
        "所在地",
        max_chars=selfservice.ADDRESS_MAX_CHARS,
        key="df_location",
        placeholder="省市，如 江西省南昌市；出国出境填国家或地区",
    )
elif code:
    st.caption("该去向无需填写单位。")

if code and (mismatch := checks.destination_mismatch(g["transfer_type"], code)):
    st.warning(f"与你的档案信息登记不一致：{mismatch}。请核对，必要时同时修改档案信息登记。", icon="⚠️")
problems = selfservice.destination_problems(code, unit, location) if code else ["请选择毕业去向"]
for problem in problems:
    st.caption(f"⛔ {problem}")
agreed = widgets.change_consent(g, "df_void_ok")
if st.button("保存", type="primary", disabled=bool(problems)):
    widgets.save(
        lambda: selfservice.record_destination(
            data.store(), user.actor, user.student_id or "", code or "", unit, location, voiding_ok=agreed
        ),
        "毕业去向已保存。",
        "与当前登记相同，未做改动。",
    )
