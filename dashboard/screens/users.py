"""账号: the office admin adds accounts, assigns roles and colleges, and resets passwords."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import data, widgets
from pipelines import accounts
from pipelines.store import StoreError

user = widgets.require("users")
actor = user.actor
st.title("账号")
campaign = data.guarded_campaign()
colleges = data.query("filter_options", cohort=campaign["cohort"])["college_name"].unique().sort().to_list()
st.caption("命令行 `dangan user` 做同样的事。新账号和重置密码后的账号首次登录须修改密码。")

if flash := st.session_state.pop("users_flash", None):
    # a refusal lists one problem a line: markdown needs two spaces before each line break
    (st.success if flash[0] == "ok" else st.error)(flash[1].replace("\n", "  \n"))

data.release()  # the account functions open their own connections
try:
    users = accounts.list_users(data.store(), actor)
except StoreError as exc:
    st.error(str(exc))
    st.stop()
if users:
    # colleges: a list even when no account has any (else polars infers Null and .list fails)
    st.dataframe(pl.DataFrame(users, schema_overrides={"colleges": pl.List(pl.String)}).select(
        pl.col("username").alias("用户名"), pl.col("display_name").alias("姓名"),
        pl.col("role").replace_strict(accounts.ROLES, default=pl.col("role")).alias("角色"),
        pl.col("colleges").list.join("、").alias("学院"), pl.col("student_id").alias("学号"),
        pl.col("must_change_password").alias("须改密码"), pl.col("has_oidc").alias("统一身份认证"),
        pl.col("locked_until").alias("锁定至"), pl.col("disabled").alias("已停用"),
    ), hide_index=True, width="stretch")
else:
    st.info("还没有账号。先添加一个就业处管理员。")

left, right = st.columns(2)
with left, st.form("add_user", clear_on_submit=True):
    st.markdown("**添加账号**")
    username = st.text_input("用户名（工号，或毕业生学号）", max_chars=40)
    display_name = st.text_input("姓名", max_chars=40)
    role = st.selectbox("角色", list(accounts.ROLES), format_func=lambda r: accounts.ROLES[r])
    scope = st.multiselect("学院（学院审核员/院长）", colleges)
    student_id = st.text_input("学号（毕业生）", max_chars=20)
    password = st.text_input("初始密码（首次登录须修改）", type="password")
    if st.form_submit_button("添加", type="primary"):
        try:
            accounts.add_user(data.store(), actor, username, role, password, display_name=display_name or None,
                              colleges=scope, student_id=student_id.strip() or None)
            st.session_state["users_flash"] = ("ok", f"已添加 {accounts.ROLES[role]} {username.strip()}")
        except StoreError as exc:
            st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()
with right, st.form("reset_password", clear_on_submit=True):
    st.markdown("**重置密码（并解除锁定）**")
    who = st.selectbox("用户名", [u["username"] for u in users], index=None, placeholder="选择账号")
    new = st.text_input("新密码（下次登录须修改）", type="password")
    if st.form_submit_button("重置"):
        try:
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
    new_role = top[1].selectbox("角色（不改则留空）", list(accounts.ROLES), index=None,
                            format_func=lambda r: accounts.ROLES[r], key="upd_role")
    state = top[2].selectbox("状态", ["不变", "启用", "停用"], key="upd_state")
    bottom = st.columns(2)
    scope = bottom[0].multiselect("学院（学院审核员/院长；不改则留空）", colleges, key="upd_scope")
    subject = bottom[1].text_input("统一身份认证账号（不改则留空；填“-”解除对应）", key="upd_oidc").strip()
    if st.form_submit_button("保存修改"):
        try:
            changed = accounts.update_user(
                data.store(), actor, who or "", role=new_role, colleges=scope or None,
                disabled={"启用": False, "停用": True}.get(state),
                oidc_subject=None if not subject else ("" if subject == "-" else subject))
            st.session_state["users_flash"] = ("ok", f"已保存 {changed.username}：{accounts.ROLES[changed.role]}"
                                               + (f"，{'、'.join(changed.colleges)}" if changed.colleges else ""))
        except StoreError as exc:
            st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()

with st.form("initial_passwords", clear_on_submit=True):
    st.markdown("**按文件设置毕业生初始密码**")
    st.caption("xlsx 或 csv，两列：学号、初始密码（每人一个，至少 8 位且含字母和数字）。没有账号的毕业生开通账号"
               "（用户名为学号），已有账号但从未改过密码的改设为文件中的密码，已自行修改密码的不覆盖；首次登录须修改密码。"
               "任何一行有问题则整个文件不写入。命令行：`dangan user add-graduates --passwords 文件`。")
    upload = st.file_uploader("初始密码文件（xlsx/csv）", type=["xlsx", "csv"], max_upload_size=20)
    if st.form_submit_button("设置初始密码"):
        if upload is None:
            st.session_state["users_flash"] = ("error", "请先选择初始密码文件")
        else:
            try:
                # The reader takes a path; the file (with its passwords) lives only as long as this call.
                with tempfile.TemporaryDirectory(prefix="dangan-passwords-") as folder:
                    name = Path(upload.name).name
                    path = Path(folder) / (name if Path(name).suffix.lower() in (".xlsx", ".csv") else "初始密码文件")
                    path.write_bytes(upload.getvalue())
                    with st.spinner("逐人计算密码哈希（每人约 50 毫秒）……"):
                        done = accounts.initial_passwords(data.store(), actor, path)
                st.session_state["users_flash"] = ("ok", done.summary())
            except StoreError as exc:
                st.session_state["users_flash"] = ("error", str(exc))
        st.rerun()
