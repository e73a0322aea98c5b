"""账号: the office admin adds accounts, assigns roles and colleges, and resets passwords."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import accounts, activation
from pipelines.rules import roles
from pipelines.store import StoreError

user = widgets.require("users")
actor = user.actor
st.title("账号")
campaign = data.guarded_campaign()
colleges = data.query("filter_options", cohort=campaign["cohort"])["college_name"].unique().sort().to_list()
st.caption("命令行 `dangan user` 做同样的事。新账号和重置密码后的账号首次登录须修改密码。")

if flash := st.session_state.pop("users_flash", None):
    # a refusal lists one problem a line: markdown needs two spaces before each line break
    (st.success if flash[0] == "ok" else st.error)(widgets.plain(flash[1]))

try:
    users = accounts.list_users(data.store(), actor)
    lockouts = accounts.recent_lockouts(data.store(), actor)
except StoreError as exc:
    st.error(widgets.plain(str(exc)))
    st.stop()
if lockouts:
    # A lock holds for one client only: the owner still logs in from their own; the office is told.
    st.warning(
        f"近 24 小时有 {len(lockouts)} 次账号在某个来源被暂停登录（连续 {accounts.MAX_FAILURES} 次密码错误）。"
        "账号本人在自己的电脑上不受影响；若不是本人所为，请核实并重置其密码。",
        icon="🔒",
    )
    display.dataframe(
        pl.DataFrame(lockouts).select(
            pl.col("logged_at").alias("时间"), pl.col("username").alias("账号"), pl.col("client").alias("来源地址")
        ),
        hide_index=True,
        width="stretch",
    )
if users:
    # colleges: a list even when no account has any (else polars infers Null and .list fails)
    display.dataframe(
        pl.DataFrame(users, schema_overrides={"colleges": pl.List(pl.String)}).select(
            pl.col("username").alias("用户名"),
            pl.col("display_name").alias("姓名"),
            pl.col("role").replace_strict(roles.ROLES, default=pl.col("role")).alias("角色"),
            pl.col("colleges").list.join("、").alias("学院"),
            pl.col("student_id").alias("学号"),
            pl.col("must_change_password").alias("须改密码"),
            pl.col("has_oidc").alias("统一身份认证"),
            pl.col("locked_until").alias("锁定至"),
            pl.col("disabled").alias("已停用"),
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("还没有账号。先添加一个就业处管理员。")

left, right = st.columns(2)
with left, st.form("add_user", clear_on_submit=True):
    st.markdown("**添加账号**")
    username = st.text_input("用户名（工号，或毕业生学号）", max_chars=40)
    display_name = st.text_input("姓名", max_chars=40)
    role = st.selectbox("角色", list(roles.ROLES), format_func=lambda r: roles.ROLES[r])
    scope = st.multiselect("学院（学院审核员/院长）", colleges, placeholder="选择学院…")
    student_id = st.text_input("学号（毕业生）", max_chars=20)
    password = st.text_input("初始密码（首次登录须修改；毕业生不设，改为生成激活码）", type="password")
    if st.form_submit_button("添加", type="primary"):
        try:
            if role == "graduate":
                issued = activation.issue_codes(data.store(), actor, student_id=(student_id or username).strip())
                if not issued:
                    raise accounts.AccountError("该学号已有激活过的账号，或不在名单中")
                st.session_state["users_flash"] = (
                    "ok",
                    f"已开通毕业生账号 {issued[0].student_id}，激活码 "
                    f"{activation.shown(issued[0].code)}（{issued[0].expires_at:%Y-%m-%d} 前有效，请交本人）",
                )
            else:
                accounts.add_user(
                    data.store(),
                    actor,
                    username,
                    role,
                    password,
                    display_name=display_name or None,
                    colleges=scope,
                    student_id=student_id.strip() or None,
                )
                st.session_state["users_flash"] = ("ok", f"已添加 {roles.ROLES[role]} {username.strip()}")
        except StoreError as exc:
            st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()
with right, st.form("reset_password", clear_on_submit=True):
    st.markdown("**重置密码（毕业生：重新生成激活码）**")
    by_role = {u["username"]: u["role"] for u in users}
    who = st.selectbox("用户名", [u["username"] for u in users], index=None, placeholder="选择账号")
    new = st.text_input("新密码（下次登录须修改）", type="password")
    if st.form_submit_button("重置"):
        try:
            if by_role.get(who or "") == "graduate":  # a graduate gets a new code, never an office password
                code = activation.reissue(data.store(), actor, who or "")
                st.session_state["users_flash"] = (
                    "ok",
                    f"已为毕业生 {who} 生成新的激活码 {activation.shown(code.code)}"
                    f"（{code.expires_at:%Y-%m-%d} 前有效；原密码已失效），请交本人",
                )
            else:
                accounts.reset_password(data.store(), actor, who or "", new)
                st.session_state["users_flash"] = ("ok", f"已重置 {who} 的密码")
        except StoreError as exc:
            st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()

with st.form("update_user"):
    st.markdown("**修改账号（角色、学院、统一身份认证、停用）**")
    by_name = {u["username"]: u for u in users}
    top = st.columns(3)
    who = top[0].selectbox("用户名", list(by_name), index=None, placeholder="选择账号", key="upd_who")
    new_role = top[1].selectbox(
        "角色（不改则留空）",
        list(roles.ROLES),
        index=None,
        placeholder="不改",
        format_func=lambda r: roles.ROLES[r],
        key="upd_role",
    )
    state = top[2].selectbox("状态", ["不变", "启用", "停用"], key="upd_state")
    bottom = st.columns(2)
    scope = bottom[0].multiselect("学院（学院审核员/院长；不改则留空）", colleges, key="upd_scope", placeholder="不改")
    subject = bottom[1].text_input("统一身份认证账号（不改则留空；填“-”解除对应）", key="upd_oidc").strip()
    if st.form_submit_button("保存修改"):
        try:
            changed = accounts.update_user(
                data.store(),
                actor,
                who or "",
                role=new_role,
                colleges=scope or None,
                disabled={"启用": False, "停用": True}.get(state),
                oidc_subject=None if not subject else ("" if subject == "-" else subject),
            )
            st.session_state["users_flash"] = (
                "ok",
                f"已保存 {changed.username}：{roles.ROLES[changed.role]}"
                + (f"，{'、'.join(changed.colleges)}" if changed.colleges else ""),
            )
        except StoreError as exc:
            st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()

st.markdown("**毕业生激活码**")
st.caption(
    "毕业生账号不设初始密码：为学院或班级生成一次性激活码（每人一个，12 位，14 天内有效，只能用一次；重新生成则旧码失效），"
    "按班打印交班主任分发。毕业生在登录页“毕业生首次登录：激活账号”用学号、激活码和身份证号后 6 位激活，设置自己的密码。"
    "已激活的毕业生不受影响。命令行：`dangan user add-graduates --out 激活码.pdf`。"
)
with st.form("activation_codes"):
    top = st.columns(3)
    code_college = top[0].selectbox("学院", colleges, index=None, placeholder="全校")
    classes = data.query("filter_options", cohort=campaign["cohort"])
    if code_college:
        classes = classes.filter(pl.col("college_name") == code_college)
    code_class = top[1].selectbox(
        "班级",
        classes["class_name"].drop_nulls().unique().sort().to_list(),
        index=None,
        placeholder="整个学院（或全校）",
    )
    code_format = top[2].radio(
        "格式", ["pdf", "xlsx"], horizontal=True, format_func=lambda f: "PDF（每班一页）" if f == "pdf" else "xlsx"
    )
    if st.form_submit_button("生成激活码"):
        try:
            issued = activation.issue_codes(data.store(), actor, college=code_college, class_name=code_class)
            if issued:
                name = f"激活码_{code_class or code_college or '全校'}.{code_format}"
                payload, _ = activation.codes_file(data.store(), actor, issued, code_format, name)
                st.session_state["users_codes"] = (name, payload, code_format)
                st.session_state["users_flash"] = ("ok", activation.summary(issued) + "；请下载激活码单。")
            else:
                st.session_state["users_flash"] = ("ok", "范围内的毕业生都已激活账号，未生成激活码。")
        except StoreError as exc:
            st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()
if codes := st.session_state.get("users_codes"):
    name, payload, fmt = codes
    st.download_button(
        f"下载 {widgets.plain(name)}（含激活码，分发后请删除）",
        payload,
        file_name=name,
        icon="⬇️",
        mime="application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
