"""The dashboard's frame: who is logged in, and the pages their role has (st.navigation), in
sections by audience. Each page checks its access again (widgets.page_start)."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data, display
from pipelines.rules import roles

OVERVIEW = "screens/progress/overview.py"
DETAIL = "screens/drill/detail.py"

HUKOU_FORM = "screens/graduate/hukou_form.py"
# (section, script, title, icon, url path, access key)
ENTRIES = [
    ("毕业生去向登记", "screens/graduate/destination_form.py", "毕业去向填报", "🎓", "destination", "destination_form"),
    ("毕业生去向登记", "screens/graduate/registration_form.py", "档案信息登记", "📮", "register", "registration_form"),
    ("毕业生去向登记", HUKOU_FORM, "户口信息登记", "🏠", "hukou", "hukou_form"),
    ("毕业生去向登记", "screens/graduate/confirm.py", "去向登记确认", "☑️", "confirm", "confirm"),
    ("毕业生去向登记", "screens/graduate/authorize.py", "核验授权", "🔏", "authorize", "authorize"),
    ("进度", OVERVIEW, "总览", "📊", "overview", "overview"),
    ("进度", "screens/progress/risk.py", "截止风险", "⏰", "risk", "risk"),
    ("进度", "screens/progress/stats.py", "统计分析", "📈", "stats", "stats"),
    ("审核", "screens/review/review.py", "待审核", "📝", "review", "review"),
    ("审核", "screens/review/reports.py", "核验报告", "🧾", "reports", "reports"),
    ("档案转递", "screens/dispatch/dispatch.py", "档案转递", "📦", "dispatch", "dispatch"),
    ("档案转递", "screens/dispatch/learning.py", "检查与退档", "🔁", "check_learning", "check_learning"),
    ("钻取", "screens/drill/college.py", "学院 / 班级", "🏫", "college", "college"),
    ("钻取", DETAIL, "登记详情", "🔍", "detail", "detail"),
    ("管理", "screens/admin/imports.py", "导入", "📥", "import", "imports"),
    ("管理", "screens/admin/campaign.py", "届别设置", "📅", "campaign", "campaign"),
    ("管理", "screens/admin/audit.py", "审计日志", "🗂️", "audit", "audit"),
    ("管理", "screens/admin/users.py", "账号", "👤", "users", "users"),
    ("公共", "screens/public/verify.py", "核验查询", "✅", "verify", "verify"),
]


def main(default: str = OVERVIEW) -> None:
    """Draw the frame and run the chosen page inside one read scope.

    `default` is the page an address without a page path opens (the benchmark opens other
    pages through this frame with it, as AppTest cannot navigate by URL). A graduate's home is
    their own record.
    """
    st.set_page_config(page_title="档案登记看板", page_icon="📁", layout="wide")
    with data.run_scope():
        user = auth.current_user()
        role = user.role if user else None
        if role == "graduate" and default == OVERVIEW:
            default = DETAIL
        pages: dict[str, list[st.Page]] = {}
        keys: dict[str, str] = {}
        for section, script, title, icon, url_path, key in ENTRIES:
            if role is not None and not roles.may_open(role, key):
                continue
            if role == "graduate" and key == "detail":
                section, title = "毕业生去向登记", "我的登记"
            if role == "graduate" and script == HUKOU_FORM and not data.hukou_at_school(user):
                continue  # only graduates whose hukou moved into the school register it
            page = st.Page(
                script,
                title=title,
                icon=icon,
                default=script == default,
                url_path=None if script == default else url_path,
            )
            listed = pages.setdefault(section, [])
            listed.insert(0 if role == "graduate" and key == "detail" else len(listed), page)  # 我的登记 first
            keys[page.url_path] = key
        # Logged out, every page stays known (hidden) so that a shared link survives the login.
        # Logged in, every page is listed (no "View more" fold: an office account has 18 pages).
        chosen = st.navigation(pages, position="sidebar" if user else "hidden", expanded=True)
        # The page's state lives in its address. A link within the same page (a college, a
        # student in the search results) changes the query on the server only: the browser
        # keeps the old address and sends it back with the next click, which loses the choice.
        # Sending the query back each run keeps the address, a reload and the back button with it.
        st.query_params.update()
        if user is None and keys.get(chosen.url_path) not in roles.PUBLIC_PAGES:
            auth.login_screen()
            return
        if user is not None and user.must_change_password and st.session_state.get(auth.VIA_KEY) != "oidc":
            # a 统一身份认证 login never uses the initial password, so it has none to change
            auth.change_password_screen(user)
            return
        if user is not None:
            auth.sidebar(user)
        display.run_guarded(chosen.run, chosen.title)


if __name__ == "__main__":
    main()
