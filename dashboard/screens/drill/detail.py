"""登记详情: one graduate's registration with its full history."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import privacy, reviews
from pipelines.reports import ANSWERS
from pipelines.rules import checks, dispatch, divisions, roles, verification, workflow
from pipelines.rules.filters import Filters
from pipelines.store import StoreError

user = widgets.require("detail")
mine = user.role == "graduate"  # a graduate sees their own record only (the store scopes it too)
campaign, today = widgets.page_head("我的登记" if mine else "登记详情")
cohort = campaign["cohort"]
actor = user.actor

# The search is kept in the address (?q=), and searches the reader's whole scope: a filter left
# in the address by another page does not narrow it (this page shows no filter bar).
query = (
    ""
    if mine
    else (
        st.text_input("按学号或姓名查找（可输入一部分）", key="q", bind="query-params", placeholder="例如 2024 或 李")
        or ""
    ).strip()
)
if query:
    found = data.query("graduate_list", cohort=cohort, filters=Filters(), search=query, limit=20, offset=0)
    if found.height == 0:
        st.info(f"没有找到学号或姓名包含“{widgets.plain(query)}”的毕业生。")
    else:
        total = int(found["total"][0])
        st.caption(f"找到 {total:,} 人" + ("，只显示前 20 人，请输入更多字" if total > 20 else ""))
        for row in found.iter_rows(named=True):
            st.page_link(
                "screens/drill/detail.py",
                label=f"{widgets.plain(row['student_id'])} {widgets.plain(row['name'])} · "
                f"{widgets.plain(row['college_name'])} {widgets.plain(row['class_name'] or '')} · "
                f"{workflow.STAGES[row['stage']]}",
                query_params={"student": row["student_id"]},
            )

student_id = user.student_id if mine else st.query_params.get("student")
if not student_id:
    if not query:
        st.info("输入学号或姓名查找毕业生；也可以从“学院 / 班级”页的名单进入。")
    st.stop()

detail = data.query("graduate_detail", student_id=student_id)
if detail.height == 0:
    st.warning(f"没有学号为 {widgets.plain(student_id)} 的毕业生（或不在你可查看的范围内）。")
    st.stop()
g = detail.row(0, named=True)
shown_g = privacy.masked(g)  # every sensitive field masked by the one rule (pipelines/privacy.py)
st.header(f"{widgets.plain(g['name'])}（{widgets.plain(g['student_id'])}）")
if mine:
    widgets.my_status(g, campaign, today)
else:
    st.markdown(f"**所处环节：{workflow.STAGES[g['stage']]}**")

roster, destination = st.columns(2)
with roster:
    st.subheader("名单信息")
    widgets.text_table(
        {
            "学院": g["college_name"],
            "专业": g["major"] or "",
            "班级": g["class_name"] or "",
            "班主任": g["advisor"] or "",
            "性别": g["gender"] or "",
            "身份证号": shown_g["id_number"] or "",
            "手机号码": shown_g["phone"] or "",
            "生源地": g["origin_name"] or g["origin_code"] or "",
            "户口迁入学校": {True: "是", False: "否"}.get(g["is_hukou_at_school"], "未知（名单未提供）"),
            "毕业时间": str(g["graduation_date"] or ""),
        }
    )
    st.caption("身份证号、手机号已脱敏显示。")
    shown = st.session_state.get("revealed")
    if shown and shown["student_id"] == g["student_id"]:
        labels = {
            "id_number": "身份证号",
            "phone": "手机号",
            "unit_phone": "档案转递联系电话",
            "address_detail": "详细地址",
            "hukou_address": "户口迁往详细地址",
        }
        st.info(
            "完整信息（本次查看已记入审计日志）："
            + " · ".join(  # text: ours (the labels above; values plain)
                f"{label} {widgets.plain(shown.get(key) or '—')}" for key, label in labels.items()
            )
        )
    elif actor.role in roles.REVEALERS and st.button("查看完整身份证号、电话和地址（将记入审计日志）", icon="👁️"):
        try:
            st.session_state["revealed"] = privacy.reveal(data.store(), actor, g["student_id"])
        except StoreError as exc:
            st.error(widgets.plain(str(exc)))
        else:
            st.rerun()
with destination:
    st.subheader("毕业去向")
    if g["destination_code"] is None:
        st.info("尚未填报毕业去向。")
    else:
        widgets.text_table(
            {
                "去向": f"{g['destination_code']} {g['destination_name'] or ''}",
                "单位/学校": g["employer_name"] or "",
                "所在地": g["employer_location"] or "",
            }
        )

st.subheader("当前档案登记")
if g["registration_id"] is None:
    st.warning("尚未提交档案信息登记。")
else:
    status = workflow.STATUS_LABELS[g["status"]]
    st.markdown(
        f"第 {g['revision_no']:d} 版 · {widgets.plain(g['transfer_type_label'])} · **{status}** · "
        f"提交于 {g['submitted_at']:%Y-%m-%d %H:%M}"
    )
    if g["status"] in (workflow.PENDING_COLLEGE, workflow.PENDING_SCHOOL) and roles.may_open(user.role, "review"):
        st.page_link(
            "screens/review/review.py",
            label=f"去审核这一版（{workflow.STATUS_LABELS[g['status']]}）",
            icon="📝",
            query_params={"item": str(g["registration_id"])},
        )
    if g["return_reason"] and g["status"] == workflow.RETURNED:
        st.warning(f"退回原因：{widgets.plain(g['return_reason'])}", icon="↩️")
    widgets.text_table(
        {
            "转递编号": g["transfer_number"] or "（尚无：全国系统导出的转递编号导入后显示）",
            "档案转递单位名称": g["unit_name"],
            "地址": divisions.address_text(g["province"], g["city"], g["district"]),
            "详细地址": shown_g["address_detail"] or "",
            "邮编": g["postcode"],
            "联系人/部门": g["contact"],
            "联系电话": shown_g["unit_phone"] or "",
            "情况说明": g["note"],
            "证明材料": f"{g['proof_count']} 张",
        }
    )
    if g["flags"]:
        st.markdown("**退档风险提示**")
        for code in g["flags"]:
            check = checks.BY_CODE[code]
            st.warning(f"**{check.title}**：{check.explanation}", icon="⚠️")
    else:
        st.success("自动检查未发现退档风险。", icon="✅")

st.subheader("档案转递")
archive_rows = data.query("archive_rows", cohort=None, college=None, ids=[student_id], **{"class": None})
archive = archive_rows.row(0, named=True) if archive_rows.height else None
if archive is None or (
    not archive["is_ready"] and archive["dispatch_status"] == dispatch.NOT_BAGGED and archive["waybill"] is None
):
    st.caption("档案信息登记通过审核并确认后，档案装袋并转递；转递情况将在这里显示。")
else:
    state = archive["dispatch_status"]
    facts: dict[str, str] = {"转递状态": dispatch.STATUSES.get(state, state)}
    if archive["batch_no"] is not None and not archive["is_stale_in_batch"]:
        facts["转递批次"] = f"第 {archive['batch_no']} 批（{dispatch.CHANNELS.get(archive['channel'], '')}）"
    if archive["waybill"] is not None:
        facts["寄送方式"] = dispatch.CHANNELS.get(archive["sent_channel"], archive["sent_channel"] or "")
        facts["运单号"] = archive["waybill"]
        facts["寄出日期"] = f"{archive['sent_on']:%Y-%m-%d}" if archive["sent_on"] else ""
    if state == dispatch.RECEIVED:
        facts["接收单位"] = archive["received_by"] or ""
        facts["签收时间"] = f"{archive['received_at']:%Y-%m-%d}" if archive["received_at"] else ""
    if state == dispatch.RETURNED:
        facts["退档原因"] = dispatch.return_label(archive["return_code"]) + (
            f"；{archive['return_note']}" if archive["return_note"] else ""
        )
    if archive["is_waiting"]:
        facts[dispatch.STATUSES[archive["wait_kind"]] + "至"] = f"{archive['wait_until']:%Y-%m-%d}"
        facts["暂缓原因"] = archive["wait_reason"] or ""
    widgets.text_table(facts)
    if state == dispatch.RETURNED:
        st.warning(
            "档案被接收单位退回，档案信息登记已重新打开："
            + ("请按退回原因修改后重新提交，经审核并确认后重新转递。" if mine else "待毕业生修改后重新审核并确认。"),
            icon="↩️",
        )
    if archive["is_stale_in_batch"]:
        st.warning("登记已变更，将移出批次：新的登记须重新审核并确认。", icon="⚠️")

st.subheader("修改与审核记录")
timeline = data.query("registration_timeline", student_id=student_id)
if timeline.height == 0:
    st.caption("暂无记录。")
else:

    def describe(row: dict) -> str:
        if row["event"] == "submitted":
            flags = "、".join(checks.BY_CODE[c].title for c in (row["flags"] or []))
            return f"提交第 {row['revision_no']} 版" + (f"（提示：{flags}）" if flags else "")
        if row["event"] == "archive":
            return dispatch.EVENTS.get(row["level"], row["level"])
        return f"{workflow.LEVELS[row['level']]}{workflow.DECISIONS[row['decision']]}第 {row['revision_no']} 版"

    display.dataframe(
        pl.DataFrame(
            {
                "时间": timeline["happened_at"],
                "事件": [describe(r) for r in timeline.iter_rows(named=True)],
                "操作人": [reviews.timeline_actor(r, with_account=not mine) for r in timeline.iter_rows(named=True)],
                "原因/说明": [
                    (r["reason"] or "") if r["event"] in ("reviewed", "archive") else ""
                    for r in timeline.iter_rows(named=True)
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )

left, right = st.columns(2)
with left:
    st.subheader("去向登记确认")
    confirmations = data.query("confirmations_of", student_id=student_id)
    if confirmations.height == 0:
        st.caption("尚未确认。")
    for row in confirmations.iter_rows(named=True):
        answer = ANSWERS.get(row["answer"], "")
        state = "有效" if row["is_in_force"] else "已失效（之后信息有变更或有新的确认）"
        st.markdown(f"- {row['confirmed_at']:%Y-%m-%d %H:%M} · {answer} · {state}")  # text: ours (ANSWERS)
with right:
    st.subheader("核验报告")
    reports = data.query("reports_of", student_id=student_id)
    if reports.height == 0:
        st.caption("尚未生成核验报告。")
    for row in reports.iter_rows(named=True):
        until = f"有效期至 {row['valid_until']:%Y-%m-%d}" if row["valid_until"] else "未设置有效期"
        st.markdown(
            f"- {verification.KIND_LABELS[row['kind']]} · {widgets.plain(row['report_number'])} · "
            f"{verification.STATUS_LABELS[row['state']]} · {until}"
        )
