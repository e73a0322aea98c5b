"""去向登记确认: the graduate checks destination, archive and (if at the school) hukou on one
page and answers 信息无误，确认登记去向 or 信息有误，需要更新后确认."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from pipelines import reports, selfservice
from pipelines.rules import divisions, transfer_types, workflow

campaign, today, user, g = widgets.graduate_start("去向登记确认", "confirm")
st.caption(
    "去向登记确认关系你的档案、户口转递，请认真核对，确保信息无误。"
    + ("" if g["is_hukou_at_school"] is not False else "你的户口未转入学校，仅需确认毕业去向及档案信息。")
)
shown = {"姓名": g["name"], "学号": g["student_id"]}
shown["毕业去向"] = f"{g['destination_code']} {g['destination_name'] or ''}" if g["destination_code"] else "（未填报）"
if g["employer_name"]:
    shown["单位/学校"] = f"{g['employer_name']}（{g['employer_location'] or ''}）"
if g["registration_id"] is not None:
    shown |= {
        "转递编号": g["transfer_number"] or "（尚无）",
        "档案转递类型": g["transfer_type_label"],
        "档案转递单位名称": g["unit_name"],
        "档案转递单位所在地": divisions.address_text(g["province"], g["city"], g["district"]),
        "详细地址": g["address_detail"],
        "档案转递单位邮编": g["postcode"],
        "档案转递联系人/联系部门": g["contact"],
        "档案转递联系电话": g["unit_phone"],
        "审核状态": workflow.STATUS_LABELS[g["status"]],
    }
else:
    shown["档案转递"] = "（未登记）"
if g["is_hukou_at_school"] is not False:
    if g["hukou_id"] is not None:
        shown |= {
            "户口迁移类型": transfer_types.BY_KEY[g["hukou_migration_type"]].label,
            "户口迁移所在地": divisions.address_text(g["hukou_province"], g["hukou_city"], g["hukou_district"])
            + (g["hukou_address"] or ""),
        }
    elif g["is_hukou_at_school"]:
        shown["户口迁移"] = "（未登记）"
widgets.text_table(shown)
if g["approved_at"] is not None:
    st.caption(f"以上档案信息于 {g['approved_at']:%Y年%m月%d日} 通过学校审核，请根据实际情况认真核对确认。")

missing = selfservice.confirmation_missing(g)
history = data.query("confirmations_of", student_id=g["student_id"]).to_dicts()
if g["is_confirmed"] and history:
    st.success(
        f"你已于 {history[0]['confirmed_at']:%Y-%m-%d %H:%M} 确认登记去向。下一步：到核验授权设置有效期并下载核验报告。",
        icon="✅",
    )
    st.page_link("screens/graduate/authorize.py", label="去核验授权", icon="🔏")
    st.stop()
if selfservice.latest_answer_needs_update(history):
    st.warning(
        f"你于 {history[0]['confirmed_at']:%Y-%m-%d %H:%M} 选择了“信息有误，需要更新后确认”。"
        "请更新有误的信息（档案信息修改后须重新审核），然后回到本页确认。",
        icon="✏️",
    )
for why, page in missing:
    st.page_link(widgets.page_of(page)[0], label=f"确认前：{widgets.plain(why)}", icon="👉")

answer = st.radio(
    "* 请确认你的去向登记信息", list(reports.ANSWERS), index=None, format_func=reports.ANSWERS.get, key="cf_answer"
)
blocked = answer == "confirmed" and bool(missing)
if blocked:
    st.caption("⛔ 以上事项完成前不能确认登记去向。")
if st.button("提交", type="primary", disabled=answer is None or blocked):
    done = (
        "已确认登记去向。下一步：核验授权。"
        if answer == "confirmed"
        else "已记录“信息有误”。请更新相应信息后再回来确认。"
    )
    widgets.save(lambda: reports.confirm(data.store(), user.actor, user.student_id or "", answer or ""), done)
