"""The dashboard's frame: decides the pages (st.navigation), in sections by audience."""

from __future__ import annotations

import streamlit as st

from dashboard import data

st.set_page_config(page_title="档案登记看板", page_icon="📁", layout="wide")

pages = {
    "进度": [
        st.Page("pages/overview.py", title="总览", icon="📊", default=True),
        st.Page("pages/risk.py", title="截止风险", icon="⏰", url_path="risk"),
    ],
    "钻取": [
        st.Page("pages/college.py", title="学院 / 班级", icon="🏫", url_path="college"),
        st.Page("pages/detail.py", title="登记详情", icon="🔍", url_path="detail"),
    ],
}
with data.run_scope():
    st.navigation(pages).run()
