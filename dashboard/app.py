"""The dashboard's frame: decides the pages (st.navigation), in sections by audience."""

from __future__ import annotations

import streamlit as st

from dashboard import data

OVERVIEW = "screens/overview.py"


def main(default: str = OVERVIEW) -> None:
    """Draw the frame and run the chosen page inside one read scope.

    `default` is the page an address without a page path opens (the benchmark opens other
    pages through this frame with it, as AppTest cannot navigate by URL).
    """
    st.set_page_config(page_title="档案登记看板", page_icon="📁", layout="wide")
    entries = [
        ("进度", OVERVIEW, "总览", "📊", None),
        ("进度", "screens/risk.py", "截止风险", "⏰", "risk"),
        ("审核", "screens/review.py", "待审核", "📝", "review"),
        ("审核", "screens/reports.py", "核验报告", "🧾", "reports"),
        ("钻取", "screens/college.py", "学院 / 班级", "🏫", "college"),
        ("钻取", "screens/detail.py", "登记详情", "🔍", "detail"),
        ("管理", "screens/audit.py", "审计日志", "🗂️", "audit"),
        ("管理", "screens/users.py", "账号", "👤", "users"),
        ("公共", "screens/verify.py", "核验查询", "✅", "verify"),
    ]
    pages: dict[str, list[st.Page]] = {}
    for section, script, title, icon, url_path in entries:
        page = st.Page(script, title=title, icon=icon, default=script == default,
                       url_path=None if script == default else url_path)
        pages.setdefault(section, []).append(page)
    with data.run_scope():
        st.navigation(pages).run()


if __name__ == "__main__":
    main()
