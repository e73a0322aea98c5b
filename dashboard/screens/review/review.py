"""待审核: the college and school review queues, the review pane and decisions (for reviewers)."""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import exports, privacy, reviews
from pipelines.rules import checks, progress, roles, transfer_types, workflow
from pipelines.rules.filters import Filters
from pipelines.store import StoreError

PAGE_SIZE = 50
FIELDS = {
    "transfer_type_label": "档案转递类型",
    "unit_name": "档案转递单位名称",
    "province": "省",
    "city": "市",
    "district": "区",
    "address_detail": "详细地址",
    "postcode": "邮编",
    "contact": "联系人/联系部门",
    "phone": "联系电话",
    "note": "情况说明",
    "proof_count": "证明材料数",
    "transfer_number": "转递编号",
}

campaign, today, user = widgets.page_start("待审核", "review")
cohort = campaign["cohort"]
colleges = data.query("filter_options", cohort=cohort)["college_name"].unique().sort().to_list()
actor = user.actor
levels = [lv for lv in ("college", "school") if lv in reviews.levels_of(actor)]
if not levels:
    st.warning("你的角色不能审核。")
    st.stop()

if flash := st.session_state.pop("review_flash", None):
    kind, message = flash
    (st.success if kind == "ok" else st.error)(widgets.plain(message))

# --- workload -----------------------------------------------------------------------------------
workload = data.query("review_workload", cohort=cohort, long_days=progress.REVIEW_WAIT_DAYS, actor=actor)
with st.expander("工作量", expanded=True, icon="📥"):
    cards = st.columns(5)
    totals = {r["level"]: r for r in workload.filter(pl.col("college_name").is_null()).iter_rows(named=True)}
    for column, level in zip(cards[:2], ("college", "school"), strict=True):
        row = totals.get(level)
        column.metric(f"待{workflow.LEVELS[level]}审核", f"{row['pending'] if row else 0:,}", border=True)
    waiting_long = sum(r["waiting_long"] for r in totals.values())
    cards[2].metric(f"等待超过 {progress.REVIEW_WAIT_DAYS} 天", f"{waiting_long:,}", border=True)
    for column, level in zip(cards[3:], ("college", "school"), strict=True):
        row = totals.get(level)
        median = row["median_days"] if row else None
        column.metric(
            f"{workflow.LEVELS[level]}审核等待中位数", "—" if median is None else f"{median:.1f} 天", border=True
        )
    by_college = workload.filter(pl.col("college_name").is_not_null())
    if by_college.height:
        display.dataframe(
            by_college.pivot(on="level", index="college_name", values=["pending", "waiting_long"])
            .fill_null(0)
            .rename(
                lambda c: {
                    "college_name": "学院",
                    "pending_college": "待院审核",
                    "pending_school": "待校审核",
                    "waiting_long_college": f"院审超{progress.REVIEW_WAIT_DAYS}天",
                    "waiting_long_school": f"校审超{progress.REVIEW_WAIT_DAYS}天",
                }.get(c, c)
            ),
            hide_index=True,
            width="stretch",
        )

# --- the queue ----------------------------------------------------------------------------------
level = (
    levels[0]
    if len(levels) == 1
    else st.segmented_control(
        "审核级别", levels, default=levels[0], format_func=lambda lv: f"{workflow.LEVELS[lv]}审核", key="review_level"
    )
    or levels[0]
)
scope_colleges = list(actor.colleges) if actor.colleges is not None else colleges
flag_labels = {"__none__": "无标记", **{c.code: c.title for c in checks.CHECKS}}
with st.container(horizontal=True):
    college = st.selectbox("学院", [None, *scope_colleges], format_func=lambda v: v or "全部", key="rq_college")
    class_name = st.text_input("班级", key="rq_class").strip() or None
    transfer_type = st.selectbox(
        "转递类型",
        [None, *transfer_types.BY_KEY],
        key="rq_type",
        format_func=lambda v: transfer_types.BY_KEY[v].label if v else "全部",
    )
    flag = st.selectbox(
        "退档风险标记", [None, *flag_labels], format_func=lambda v: flag_labels[v] if v else "全部", key="rq_flag"
    )
    min_days = st.number_input("至少等待天数", min_value=0, value=0, step=1, key="rq_days")
params = {
    "cohort": cohort,
    "level": level,
    "college": college,
    "class": class_name,
    "transfer_type": transfer_type,
    "flag": flag,
    "min_days": int(min_days) or None,
}


unmasked = actor.role in roles.REVEALERS and st.checkbox(
    "导出完整联系电话和详细地址（回传全国系统用；记入审计日志）", key="rq_unmasked"
)


review_results = widgets.deferred_file(
    partial(exports.review_results_file, unmasked=unmasked),
    actor,
    cohort,
    Filters(college=college),
    "xlsx",
    "审核结果.xlsx",
)
st.download_button(
    "导出审核结果（档案登记导入格式；按所选学院）",
    review_results,
    file_name=f"审核结果_{today:%Y%m%d}.xlsx",
    icon="⬇️",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


first = data.query("review_queue", **params, limit=PAGE_SIZE, offset=0, actor=actor)
total = int(first["total"][0]) if first.height else 0
if total == 0:
    st.success(f"没有符合条件的待{workflow.LEVELS[level]}审核登记。")
    st.stop()
offset = widgets.pager(total, PAGE_SIZE, key="rq_page")
queue = first if offset == 0 else data.query("review_queue", **params, limit=PAGE_SIZE, offset=offset, actor=actor)
st.caption(f"共 {total:,} 条，等待最久的在前。选中一条查看详情并审核；可多选无标记的登记批量通过。")
listing = queue.with_columns(
    pl.col("flags")
    .list.eval(pl.element().replace_strict({c.code: c.title for c in checks.CHECKS}, default=pl.element()))
    .alias("标记")
)
# Rows are chosen by their registration id: after a decision the listing changes, and the
# selection does not slide onto the rows that moved up (widgets.selected_rows).
selection_key = f"rq_table_{level}"
selected = widgets.selected_rows(
    queue,
    display.headed(
        listing,
        "student_id",
        "name",
        "college_name",
        "class_name",
        "transfer_type_label",
        "revision_no",
        "waiting_since",
        "days_waiting",
        pl.col("标记"),
    ),
    id_column="registration_id",
    key=selection_key,
    multi=True,
    hide_index=True,
    width="stretch",
    column_config={
        "标记": st.column_config.ListColumn(width="large"),
        "等待自": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    },
)


def _decided(batch_text: str, ok: bool) -> None:
    widgets.clear_selection(selection_key)
    st.session_state["review_flash"] = ("ok" if ok else "error", batch_text)
    st.rerun()


if selected.height > 1:
    clean = selected.filter(pl.col("flags").list.len() == 0)
    flagged = selected.height - clean.height
    note = f"（{flagged} 条有标记，须逐条审核，不在其中）" if flagged else ""
    # The button says what it will approve: each graduate and the revision shown.
    st.markdown(f"**将{workflow.LEVELS[level]}通过以下 {clean.height} 条：**")
    widgets.text_table(
        display.headed(
            clean.with_columns(pl.col("class_name").fill_null(""), pl.col("revision_no").cast(pl.String)),
            "student_id",
            "name",
            "class_name",
            "revision_no",
        )
    )
    left, right = st.columns(2)
    if left.button(
        f"批量{workflow.LEVELS[level]}通过所选无标记的 {clean.height} 条{note}",
        type="primary",
        disabled=clean.height == 0,
    ):
        try:
            batch = reviews.decide_many(
                data.store(), actor, reviews.as_listed(clean), workflow.Decision(level, "approve")
            )
        except StoreError as exc:
            _decided(str(exc), False)
        text = f"已通过 {len(batch.applied)} 条。" + "".join(f"\n\n未生效：{why}" for _, why in batch.refused)
        _decided(text, not batch.refused)
    if right.button("取消选择"):
        widgets.clear_selection(selection_key)
        st.rerun()
    st.stop()
# --- the review pane ----------------------------------------------------------------------------
# The selected row, or the revision a link names (?item=<登记编号>, e.g. sent to a colleague).
linked = st.query_params.get("item", "")
if selected.height == 1:
    registration_id = int(selected["registration_id"][0])
elif linked.isdigit():
    registration_id = int(linked)
else:
    if linked:
        st.warning(f"链接中的登记编号“{widgets.plain(linked)}”无效，已忽略。")
    st.info("在上表中选中一条登记以查看详情并审核。")
    st.stop()
item_rows = data.query("review_item", registration_id=registration_id, actor=actor)
if item_rows.height == 0:
    st.error("这条登记不在你的审核范围内。")
    st.stop()
item = item_rows.row(0, named=True)
# The pane shows the full address, the unit's phone and the proof images a review needs: each
# opening is recorded once per session (who saw which registration unmasked).
viewed = st.session_state.setdefault("viewed_items", set())
if registration_id not in viewed:
    privacy.record_view(data.store(), actor, registration_id, item["student_id"])
    viewed.add(registration_id)
st.subheader(
    f"{widgets.plain(item['name'])}（{widgets.plain(item['student_id'])}）· {widgets.plain(item['college_name'])} "
    f"{widgets.plain(item['class_name'] or '')} · 第 {item['revision_no']:d} 版"
)
previous = None
if item["revision_no"] > 1:
    before = data.query("revision_of", student_id=item["student_id"], revision_no=item["revision_no"] - 1, actor=actor)
    previous = before.row(0, named=True) if before.height else None
lines = []
for key, label in FIELDS.items():
    value = item[key]
    line = {"字段": label, "内容": "" if value is None else str(value)}
    if previous is not None:
        old = transfer_types.LABELS.get(previous["transfer_type"]) if key == "transfer_type_label" else previous[key]
        changed = str(old) != str(value)
        line |= {
            "上一版（已退回）": ("" if old is None else str(old)) if changed else "",
            "已修改": "✎" if changed else "",
        }
    lines.append(line)
display.dataframe(
    pl.DataFrame(lines),
    hide_index=True,
    width="stretch",
    height=36 * (len(lines) + 1) + 4,
    column_config={
        "字段": st.column_config.TextColumn(width="small"),
        "内容": st.column_config.TextColumn(width="large"),
    },
)
if previous is not None:
    st.caption(
        f"这是重新提交的版本；上一版被退回，原因：{widgets.plain(previous['return_reason'] or '（未填写）')}。✎ 标出改动的字段。"
    )
st.caption(
    f"提交时间 {item['submitted_at']:%Y-%m-%d %H:%M} · 生源地：{widgets.plain(item['origin_name'] or item['origin_code'] or '—')}"
    f" · 班主任：{widgets.plain(item['advisor'] or '—')}"
)
left, right = st.columns(2)
with left:
    st.markdown("**退档风险检查**")
    if item["flags"]:
        for code in item["flags"]:
            check = checks.BY_CODE.get(code)
            st.warning(
                f"**{check.title if check else widgets.plain(code)}**：{check.explanation if check else ''}", icon="⚠️"
            )
    else:
        st.success("自动检查未发现问题。", icon="✅")
with right:
    st.markdown("**毕业去向**")
    if item["destination_code"]:
        where = " · ".join(v for v in (item["employer_name"], item["employer_location"]) if v)
        st.markdown(
            f"{widgets.plain(item['destination_name'] or item['destination_code'])}（{widgets.plain(item['destination_code'])}）"
            + (f" · {widgets.plain(where)}" if where else "")
        )
        if mismatch := checks.destination_mismatch(item["transfer_type"], item["destination_code"]):
            st.warning(f"**去向与转递类型不符**：{mismatch}", icon="⚠️")
        else:
            st.caption("与档案转递类型一致。")
    else:
        st.write("尚未填报毕业去向。")

proofs = data.query("proofs_of", registration_id=registration_id, actor=actor)
st.markdown(f"**证明材料**（{proofs.height} 张，点图片右上角可放大）")
if proofs.height:
    for column, proof in zip(st.columns(3), proofs.iter_rows(named=True), strict=False):
        column.image(proof["content"], caption=proof["file_name"], width="stretch")
elif item["proof_count"]:
    st.caption(f"登记记载 {item['proof_count']:d} 张材料（随导入数据而来，图片在全国系统中）。")
else:
    st.caption("没有上传证明材料。")

if item["registration_id"] != item["current_registration_id"]:
    st.error("这一版已被毕业生重新提交的新版本取代，不能再审核。")
    st.stop()
waiting_for = workflow.PENDING_SCHOOL if level == "school" else workflow.PENDING_COLLEGE
if item["status"] != waiting_for:
    st.info(
        f"这条登记当前为“{workflow.STATUS_LABELS[item['status']]}”，不在{workflow.LEVELS[level]}审核队列中。"
        + (f"退回原因：{widgets.plain(item['return_reason'])}" if item["return_reason"] else "")
    )
    st.stop()
with st.form("decision", clear_on_submit=True):
    st.markdown(f"**{workflow.LEVELS[level]}审核意见**")
    choice = st.radio("结论", ["approve", "return"], format_func=lambda d: workflow.DECISIONS[d], horizontal=True)
    template = st.selectbox(
        "常用退回原因", [None, *reviews.RETURN_TEMPLATES], format_func=lambda v: v or "（不用模板）"
    )
    extra = st.text_area("退回原因（毕业生会看到；可在模板后补充）", max_chars=200)
    if st.form_submit_button("提交审核意见", type="primary"):
        reason = "；".join(part for part in (template, extra.strip()) if part)
        try:
            outcome = reviews.decide(data.store(), actor, registration_id, workflow.Decision(level, choice, reason))
        except (StoreError, workflow.WorkflowError) as exc:
            _decided(str(exc), False)
        _decided(
            f"{outcome.name}（{outcome.student_id}）已{workflow.LEVELS[level]}{workflow.DECISIONS[choice]}，"
            f"当前状态：{workflow.STATUS_LABELS[outcome.status]}。",
            True,
        )
