"""届别设置: the office creates a cohort's registration campaign (届别、日期、通知文号、默认毕业时间、
院校代码) or changes it. The same function as `dangan campaign set` (pipelines/campaigns.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import campaigns
from pipelines.rules import dispatch
from pipelines.store import StoreError

user = widgets.require("campaign")
actor = user.actor
st.title("届别设置")
st.caption(
    "每一届毕业生一项登记工作：届别、登记起止日期、确认后可修改至、默认毕业时间（名单没有毕业时间时使用，也决定核验"
    "报告最晚有效期：毕业时间加六个月）、通知文号和标题，以及学校的院校代码（5 位，每个核验编号的第 3-7 位）。"
    "命令行：`dangan campaign set`。"
)

if flash := st.session_state.pop("cp_flash", None):
    (st.success if flash[0] == "ok" else st.error)(widgets.plain(flash[1]))

saved = data.query("cohorts")
if saved.height:
    display.dataframe(
        saved.select(
            pl.col("cohort").alias("届别"),
            pl.col("school_name").alias("学校"),
            pl.col("registration_deadline").alias("登记截止"),
        ),
        hide_index=True,
        width="stretch",
    )
NEW = 0
choices = [NEW, *saved["cohort"].to_list()]
if (just_saved := st.session_state.pop("cp_saved", None)) in choices:
    st.session_state["cp_cohort"] = just_saved
chosen = st.selectbox(
    "修改哪一届",
    choices,
    index=1 if saved.height else 0,
    format_func=lambda c: "新建一届" if c == NEW else f"{c} 届",
    key="cp_cohort",
)


def _saved(cohort: int) -> campaigns.Campaign | None:
    rows = data.query("campaign", cohort=cohort)
    return campaigns.from_row(rows.row(0, named=True)) if rows.height else None


current = _saved(chosen) if chosen != NEW else None
latest = _saved(int(saved["cohort"][0])) if saved.height else None
year = current.cohort if current else (latest.cohort + 1 if latest else data.today().year)
base = current or campaigns.default_campaign(year, latest.school_name if latest else "")
if latest and not current:  # a new cohort: the school's own settings carry over
    base = campaigns.Campaign(**{**base.__dict__, "school_code": latest.school_code})

with st.form(f"campaign_{chosen}"):
    top = st.columns(3)
    cohort = top[0].number_input(
        "届别", min_value=2000, max_value=2100, value=base.cohort, step=1, disabled=current is not None
    )
    school_name = top[1].text_input("学校名称", value=base.school_name, max_chars=60)
    school_code = top[2].text_input(
        "院校代码（5 位）",
        value=base.school_code or "",
        max_chars=5,
        help="教育部院校代码，如 10001；核验编号 = 届别后两位 + 院校代码 + 8 位",
    )
    notice = st.columns([1, 2])
    notice_number = notice[0].text_input(
        "通知文号", value=base.notice_number or "", max_chars=60, placeholder="如 江服就发〔2024〕27号"
    )
    notice_title = notice[1].text_input("通知标题", value=base.notice_title or "", max_chars=120)
    days = st.columns(4)
    opens_on = days[0].date_input("登记开始", value=base.opens_on, format="YYYY-MM-DD")
    deadline = days[1].date_input("登记截止", value=base.registration_deadline, format="YYYY-MM-DD")
    change = days[2].date_input("确认后可修改至", value=base.change_deadline, format="YYYY-MM-DD")
    graduation = days[3].date_input("默认毕业时间", value=base.default_graduation_date, format="YYYY-MM-DD")
    st.markdown("**档案转递**")
    send = st.columns([2, 1, 1])
    rule = send[0].selectbox(
        "寄送方式",
        list(dispatch.CHANNEL_RULES),
        index=list(dispatch.CHANNEL_RULES).index(base.dispatch_rule),
        format_func=lambda key: dispatch.CHANNEL_RULES[key].label,
        help="省内 EMS、省外机要：按接收单位地址所在省份与学校所在省份比较",
    )
    province = send[1].text_input(
        "学校所在省份", value=base.school_province or "", max_chars=10, placeholder="如 江西省"
    )
    needs_report = send[2].checkbox("档案袋须装入核验报告", value=base.bag_requires_report)
    items = st.text_input(
        "档案袋其他材料（用顿号分隔）",
        value="、".join(base.bag_items),
        max_chars=300,
        help="核验报告之外，每个档案袋要装的材料；装袋时逐项核对",
    )
    if st.form_submit_button("保存", type="primary"):
        campaign = campaigns.Campaign(
            cohort=int(cohort),
            school_name=school_name,
            school_code=school_code.strip() or None,
            registration_deadline=deadline if isinstance(deadline, date) else base.registration_deadline,
            default_graduation_date=graduation if isinstance(graduation, date) else base.default_graduation_date,
            notice_number=notice_number,
            notice_title=notice_title,
            opens_on=opens_on if isinstance(opens_on, date) else None,
            change_deadline=change if isinstance(change, date) else None,
            dispatch_rule=rule,
            school_province=province.strip() or None,
            bag_requires_report=bool(needs_report),
            bag_items=tuple(i.strip() for i in items.replace(",", "、").replace("，", "、").split("、") if i.strip()),
        )
        try:
            campaigns.save_campaign(data.store(), actor, campaign)
            st.session_state["cp_flash"] = ("ok", f"已保存 {campaign.cohort} 届登记工作。")
            st.session_state["cp_saved"] = campaign.cohort
        except StoreError as exc:
            st.session_state["cp_flash"] = ("error", str(exc))
        st.rerun()
if current is not None and not current.school_code:
    st.warning("这一届还没有填写院校代码：填写之前不能生成新的核验编号。", icon="⚠️")
