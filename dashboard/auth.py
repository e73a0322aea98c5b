"""Who is using the dashboard: login, logout, the first-login password change, 统一身份认证.

A session holds only the user name (server-side, in st.session_state); every script run reads
the account again, so disabling it, resetting its password or changing its role ends the
session at the next click, and a role change never lingers. A session idle for longer than
`config.idle_minutes()` ends too. A browser reload starts a new Streamlit session and asks for
the password again (built-in accounts keep no cookie); a 统一身份认证 login keeps Streamlit's
signed identity cookie, so it survives reloads until 退出登录.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboard import data
from dashboard.text import plain
from pipelines import accounts, activation, clients
from pipelines.accounts import User
from pipelines.rules import roles
from pipelines.store import StoreError, config

USER_KEY = "username"
STAMP_KEY = "session_stamp"
SEEN_KEY = "seen_at"
VIA_KEY = "login_via"
NOTICE_KEY = "auth_notice"


def current_user() -> User | None:
    """The logged-in user, checked once per script run (app.py's frame and the page both ask);
    None (and the reason kept for the login screen) when there is none or the session has
    ended. Tells `data` who reads."""
    checked, user = data.run_memo("user")
    if checked:
        return user  # type: ignore[no-any-return]
    user = _check_user()
    data.set_run_memo("user", user)
    return user


def _check_user() -> User | None:
    data.set_viewer(None)
    name = st.session_state.get(USER_KEY)
    if name is None and (subject := _oidc_subject()) is not None:
        name = _oidc_login(subject)
    if name is None:
        return None
    now = time.time()
    seen = st.session_state.get(SEEN_KEY)
    if seen is not None and now - seen > config.idle_minutes() * 60:
        _end(f"超过 {config.idle_minutes()} 分钟未操作，已自动退出，请重新登录。")
        return None
    row = data.account(name)
    if row is None or row["disabled"]:
        _end("账号已停用或已删除，请联系就业处。")
        return None
    if st.session_state.setdefault(STAMP_KEY, row["stamp"]) != row["stamp"]:
        _end("账号的密码或权限已变更，请重新登录。")
        return None
    st.session_state[SEEN_KEY] = now
    user = accounts.from_row(row)
    data.set_viewer(user.actor)
    return user


def _end(notice: str) -> None:
    _forget()
    st.session_state[NOTICE_KEY] = notice
    return None


def _forget() -> None:
    for key in (USER_KEY, STAMP_KEY, SEEN_KEY, VIA_KEY, "revealed"):
        st.session_state.pop(key, None)
    data.set_viewer(None)


def client() -> str:
    """This browser's address (through a trusted reverse proxy: pipelines/clients.py)."""
    ip = st.context.ip_address
    headers = st.context.headers
    forwarded = headers.get("X-Forwarded-For") if headers is not None else None
    return clients.client_address(ip if isinstance(ip, str) else "", forwarded)


def _start(user: User, via: str) -> None:
    st.session_state[USER_KEY] = user.username
    st.session_state[VIA_KEY] = via
    st.session_state[SEEN_KEY] = time.time()
    st.session_state.pop(STAMP_KEY, None)
    st.session_state.pop(NOTICE_KEY, None)


# --- 统一身份认证 (OIDC through st.login) ---------------------------------------------------------


def oidc_configured() -> bool:
    """Whether secrets.toml has an [auth] section (see README: 统一身份认证)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _oidc_subject() -> str | None:
    """The configured claim of a 统一身份认证 identity Streamlit holds for this browser."""
    if not oidc_configured() or not st.user.is_logged_in:
        return None
    value = st.user.get(config.oidc_claim())
    return str(value) if value else None


def _oidc_login(subject: str) -> str | None:
    refused = st.session_state.get("oidc_refused")
    if refused == subject:
        return None
    try:
        user = accounts.login_oidc(data.store(), subject, client=client())
    except StoreError as exc:
        st.session_state["oidc_refused"] = subject
        st.session_state[NOTICE_KEY] = str(exc)
        return None
    _start(user, "oidc")
    return user.username


# --- screens -------------------------------------------------------------------------------------


def login_screen() -> None:
    """The login form (and the 统一身份认证 button when configured)."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("登录 · 档案登记看板")
        if notice := st.session_state.get(NOTICE_KEY):
            st.warning(plain(notice))
        if not data.user_count():
            st.info(
                "库中还没有账号。在服务器上运行 `dangan user add --role admin --username 你的工号` 添加第一位"
                "就业处管理员；或运行 `dangan demo` 生成演示库（附带各角色的演示账号，见 README）。"
            )
        with st.form("login"):
            username = st.text_input("用户名（工号；毕业生为学号）", max_chars=40)
            password = st.text_input("密码", type="password", max_chars=128)
            submitted = st.form_submit_button("登录", type="primary", width="stretch")
        if submitted:
            try:
                user = accounts.login(data.store(), username, password, client=client())
            except StoreError as exc:
                st.error(plain(str(exc)))
            else:
                _start(user, "password")
                st.rerun()
        with st.expander("毕业生首次登录：激活账号", icon="🎓"):
            activation_form()
        if oidc_configured():
            st.divider()
            if st.session_state.get("oidc_refused"):
                st.button("退出统一身份认证", on_click=st.logout)
            else:
                st.button("统一身份认证登录", on_click=st.login, icon="🏫", width="stretch")
        st.caption(
            f"在同一台电脑上连续 {accounts.MAX_FAILURES} 次密码错误，该账号在这台电脑上暂停登录 "
            f"{accounts.LOCK_MINUTES} 分钟。忘记密码请联系就业处重置。接收单位查询核验报告无需登录：请扫描报告上的二维码。"
        )


def activation_form() -> None:
    """A graduate opens their account with the one-time code from their class advisor, the
    last six characters of their 身份证号, and a password of their own."""
    st.caption(
        "激活码由班主任分发，只能使用一次。激活后用学号和你设置的密码登录。学校开通了统一身份认证的，"
        "也可以直接用上方的“统一身份认证登录”。"
    )
    with st.form("activate"):
        student_id = st.text_input("学号", max_chars=32)
        code = st.text_input("激活码（12 位，可带或不带短横线）", max_chars=20)
        last6 = st.text_input("身份证号后 6 位", max_chars=6, type="password")
        new = st.text_input(f"设置密码（至少 {accounts.MIN_PASSWORD} 位，含字母和数字）", type="password")
        again = st.text_input("再次输入密码", type="password")
        if st.form_submit_button("激活并登录", type="primary", width="stretch"):
            if new != again:
                st.error("两次输入的密码不一致")
                return
            try:
                user = activation.activate(data.store(), student_id, code, last6, new, client=client())
            except StoreError as exc:
                st.error(plain(str(exc)))
                return
            _start(user, "password")
            st.rerun()


def password_form(user: User, *, forced: bool) -> None:
    with st.form("change_password", clear_on_submit=True):
        old = st.text_input("原密码" + ("（就业处提供的初始密码）" if forced else ""), type="password")
        new = st.text_input(f"新密码（至少 {accounts.MIN_PASSWORD} 位，含字母和数字）", type="password")
        again = st.text_input("再次输入新密码", type="password")
        if st.form_submit_button("修改密码", type="primary"):
            if new != again:
                st.error("两次输入的新密码不一致")
                return
            try:
                accounts.change_password(data.store(), user.username, old, new)
            except StoreError as exc:
                st.error(plain(str(exc)))
                return
            st.session_state.pop(STAMP_KEY, None)  # the new hash is this session's own doing
            st.session_state["password_changed"] = True
            st.rerun()


def change_password_screen(user: User) -> None:
    """The only screen an account with an initial or reset password gets."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("首次登录：请修改密码")
        st.info(f"{plain(user.display_name)}，你的密码是就业处设置的初始密码或重置后的密码，修改后才能继续使用。")
        password_form(user, forced=True)
        st.button("退出登录", on_click=logout)


def logout() -> None:
    via = st.session_state.get(VIA_KEY)
    _forget()
    st.session_state[NOTICE_KEY] = "已退出登录。"
    if via == "oidc":
        st.logout()


def sidebar(user: User) -> None:
    with st.sidebar:
        scope = f" · {'、'.join(user.colleges)}" if user.colleges else ""
        st.markdown(f"**{plain(user.display_name)}**  \n{roles.ROLES.get(user.role, '')}{plain(scope)}")
        if st.session_state.pop("password_changed", False):
            st.success("密码已修改。")
        if st.button("修改密码", icon="🔑"):
            _password_dialog(user)
        st.button("退出登录", on_click=logout, icon="🚪")


@st.dialog("修改密码")
def _password_dialog(user: User) -> None:
    password_form(user, forced=False)
