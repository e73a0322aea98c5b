"""档案信息登记: the graduate's archive transfer form, as in the seed, with the returned-archive
checks shown as hints while they type and the proof their type needs shown before they submit."""

from __future__ import annotations

import streamlit as st

from dashboard import data, display, widgets
from pipelines import submissions
from pipelines.rules import checks, transfer_types, workflow

campaign, today, user, g = widgets.graduate_start("档案信息登记", "registration_form")
st.caption("用于登记档案转递信息。提交后等待学院、学校审核；退回后按原因修改再提交。")
status = g["status"]

if status in (workflow.PENDING_COLLEGE, workflow.PENDING_SCHOOL):
    st.info(
        f"你的第 {g['revision_no']:d} 版登记{workflow.STATUS_LABELS[status]}，审核结束前不能修改。"
        "如需修改，请联系学院退回。",
        icon="⏳",
    )
    st.page_link("screens/drill/detail.py", label="查看我的登记与审核进度", icon="📋")
    st.stop()
if status == workflow.RETURNED:
    st.warning(
        f"第 {g['revision_no']:d} 版已被退回。退回原因：{widgets.plain(g['return_reason'] or '（未填写）')}。"
        "请修改后重新提交。",
        icon="↩️",
    )
elif status == workflow.APPROVED:
    st.info(
        "你的档案信息登记已通过审核。如信息有变更可修改后重新提交，新的一版将重新经学院、学校审核，"
        "之前的去向登记确认和核验报告随之失效。",
        icon="ℹ️",
    )

# The current revision fills the form once (a resubmission edits what was sent).
if g["registration_id"] is not None:
    widgets.fill_once(
        "rf",
        g["registration_id"],
        {
            "rf_type": g["transfer_type"],
            "rf_unit": g["unit_name"],
            "rf_detail": g["address_detail"],
            "rf_postcode": g["postcode"],
            "rf_contact": g["contact"],
            "rf_phone": g["unit_phone"],
            "rf_note": g["note"],
            **widgets.address_values("rf_address", g["province"], g["city"], g["district"]),
        },
    )

kind_key = st.selectbox(
    "档案转递类型",
    list(transfer_types.BY_KEY),
    index=None,
    placeholder="点击选择",
    format_func=lambda k: transfer_types.BY_KEY[k].label,
    key="rf_type",
)
kind = transfer_types.BY_KEY.get(kind_key) if kind_key else None
if kind is not None:
    proof = f"**所需证明材料：** {kind.proof}" if kind.needs_proof else f"**证明材料：** {kind.proof}"
    st.info(f"**{kind.label}**：{kind.meaning}。  \n{proof}", icon="📎")
    if kind.needs_proof:
        st.caption("档案转递类型不为转回生源地时，须上传相应证明材料（调档函、接收函等），否则不能提交。")

st.markdown("**档案转递信息**")
unit = st.text_input("档案转递单位名称", max_chars=100, key="rf_unit", placeholder="接收档案的单位（机构），不能是个人")
province, city, district = widgets.address_picker("rf_address", "档案转递单位地址")
detail = st.text_input("详细地址", max_chars=100, key="rf_detail", placeholder="街道、门牌号、楼栋、室")
left, middle, right = st.columns(3)
postcode = left.text_input("档案转递单位邮编", max_chars=6, key="rf_postcode", placeholder="6 位数字")
contact = middle.text_input(
    "档案转递联系人/联系部门", max_chars=50, key="rf_contact", placeholder="单位的部门或工作人员"
)
phone = right.text_input("档案转递联系电话", max_chars=20, key="rf_phone", placeholder="手机号，或座机 区号-号码")
note = st.text_area("情况说明（必填，200 字以内）", max_chars=checks.NOTE_MAX_CHARS, key="rf_note", height=100)
st.caption(f"已输入 {len(note)} / {checks.NOTE_MAX_CHARS} 字")

previous = data.query("proofs_of", registration_id=g["registration_id"]) if g["registration_id"] is not None else None
uploads = display.files_uploader(
    f"图像材料（最多上传 {checks.MAX_PROOF_IMAGES} 张图片，JPG 或 PNG）",
    types=["jpg", "jpeg", "png"],
    max_mb=submissions.MAX_IMAGE_BYTES // 1024 // 1024,
    key="rf_images",
)
images = [(f.name, f.getvalue()) for f in uploads or []]
if not images and previous is not None and previous.height:
    keep = st.checkbox(f"沿用上一版的 {previous.height} 张证明材料", value=True, key="rf_keep")
    if keep:
        images = [(r["file_name"], r["content"]) for r in previous.iter_rows(named=True)]
if len(images) > checks.MAX_PROOF_IMAGES:
    st.error(f"最多上传 {checks.MAX_PROOF_IMAGES} 张图片，你选了 {len(images)} 张。", icon="⛔")

form = {
    "transfer_type": kind_key or "",
    "unit_name": unit,
    "province": province,
    "city": city,
    "district": district,
    "address_detail": detail,
    "postcode": postcode,
    "contact": contact,
    "phone": phone,
    "note": note,
}

# The checks, as hints while the graduate types: those that refuse the form, then the reviewer's flags.
blocking = submissions.form_problems(form, len(images)) if kind_key else ["请选择档案转递类型"]
hints = submissions.form_hints(form, len(images), g) if kind_key else []
with st.container(border=True):
    st.markdown("**自动检查**（随填写更新）")
    for problem in blocking:
        st.error(problem, icon="⛔")
    for code in hints:
        check = checks.BY_CODE[code]
        st.warning(f"**{check.title}**：{check.explanation}（可以提交，审核时会核对）", icon="⚠️")
    if not blocking and not hints:
        st.success("未发现问题，可以提交。", icon="✅")

if kind_key and g["destination_code"] and (mismatch := checks.destination_mismatch(kind_key, g["destination_code"])):
    st.warning(f"与你的毕业去向不一致：{mismatch}。请核对，必要时同时修改毕业去向。", icon="⚠️")
agreed = widgets.change_consent(g, "rf_void_ok")
if st.button("提交", type="primary", disabled=bool(blocking) or len(images) > checks.MAX_PROOF_IMAGES):
    widgets.save(
        lambda: submissions.submit(data.store(), user.actor, user.student_id or "", form, images, voiding_ok=agreed),
        "已提交，等待学院审核。审核进度见“我的登记”。",
        f"内容与第 {g['revision_no'] or 0} 版相同，未重新提交；登记状态和去向登记确认不变。",
    )
