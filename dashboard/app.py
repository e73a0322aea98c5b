"""The dashboard's frame: decides the pages (st.navigation) and draws the shared header."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="档案登记看板", page_icon="📁", layout="wide")

pages = {
    "概览": [st.Page("pages/home.py", title="首页", icon="🏠", default=True)],
}
st.navigation(pages).run()
