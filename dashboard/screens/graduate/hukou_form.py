"""户口信息登记: where the hukou moves, for graduates whose hukou moved into the school only."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from pipelines import selfservice
from pipelines.rules import transfer_types

campaign, today, user, g = widgets.graduate_start("户口信息登记", "hukou_form")
st.caption("用于登记户口迁移信息。仅户口迁入学校集体户的毕业生需要登记。")
if g["is_hukou_at_school"] is False:
    st.info("名单显示你的户口未迁入学校，无需登记户口信息；去向登记确认时只确认毕业去向和档案信息。", icon="ℹ️")
    st.stop()
if g["is_hukou_at_school"] is None:
    st.info(
        "学校的名单没有说明你的户口是否迁入学校。户口已迁入学校集体户的，请在此登记户口迁移信息；"
        "户口未迁入学校的，无需填写。",
        icon="ℹ️",
    )
if g["is_confirmed"]:
    st.warning("你已确认登记去向。修改户口信息后须重新确认，原核验报告随之失效。", icon="⚠️")

widgets.fill_once(
    "hf",
    g["hukou_id"],
    {
        "hf_type": g["hukou_migration_type"] or g["transfer_type"],
        "hf_detail": g["hukou_address"] or "",
        **widgets.address_values("hf_address", g["hukou_province"], g["hukou_city"], g["hukou_district"]),
    },
)
if g["hukou_id"] is None:
    st.info("你还没有登记户口信息。", icon="ℹ️")

kinds = transfer_types.BY_KEY
kind = st.selectbox(
    "户口迁移类型",
    list(kinds),
    index=None,
    placeholder="点击选择",
    key="hf_type",
    format_func=lambda k: kinds[k].label,
    help="一般与档案转递类型相同",
)
if kind and g["transfer_type"] and kind != g["transfer_type"]:
    st.caption(f"提示：你的档案转递类型是“{kinds[g['transfer_type']].label}”，与户口迁移类型不同；请确认无误。")
province, city, district = widgets.address_picker("hf_address", "户口迁往")
detail = st.text_input(
    "详细地址",
    max_chars=selfservice.ADDRESS_MAX_CHARS,
    key="hf_detail",
    placeholder="街道、门牌号，或接收单位集体户地址",
)
problems = selfservice.hukou_problems(kind or "", province, city, district, detail)
for problem in problems:
    st.caption(f"⛔ {problem}")
agreed = widgets.change_consent(g, "hf_void_ok")
if st.button("保存", type="primary", disabled=bool(problems)):
    widgets.save(
        lambda: selfservice.record_hukou(
            data.store(),
            user.actor,
            user.student_id or "",
            kind or "",
            province,
            city,
            district,
            detail,
            voiding_ok=agreed,
        ),
        "户口信息已保存。",
        "与当前登记相同，未做改动。",
    )
