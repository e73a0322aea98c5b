"""检查与退档: what the automatic checks (rules/checks.py) learn from the archives that came back.
Per check: the returns it had flagged beforehand, the returns it is meant to catch and how many
it caught (recall), and how many flagged archives arrived anyway (precision); and the return
reasons no check caught yet."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, display, widgets
from pipelines import dispatch
from pipelines.store import StoreError

campaign, today, user = widgets.page_start("检查与退档", "check_learning")
cohort = campaign["cohort"]
try:
    per_check, uncaught = dispatch.check_learning(data.store(), user.actor, cohort)
except StoreError as exc:
    st.error(widgets.plain(str(exc)))
    st.stop()

st.caption(
    "召回率：某项检查应捕捉的退档（退档原因对应该检查）中，退档前已被它标记的比例；"
    "精确率：被它标记的已寄出档案中，最终被退回（而非顺利签收）的比例。"
)
sent = data.query("sent_outcomes", cohort=cohort)
if sent.height == 0:
    st.info("还没有寄出的档案：档案寄出并有签收或退档记录后，这里显示各项检查的效果。")
    st.stop()
returned = int(sent["return_code"].is_not_null().sum())
received = int((sent["return_code"].is_null() & sent["received_at"].is_not_null()).sum())
st.markdown(f"已寄出 {sent.height:,} 份：已签收 {received:,} 份，被退回 {returned:,} 份。")
if returned + received == 0:
    st.info("已寄出的档案还没有签收或退档记录：有记录后，这里显示各项检查的效果。")
    st.stop()

table = per_check.sort(["returns_meant", "returns_flagged"], descending=True).select(
    pl.col("title").alias("检查"),
    pl.col("returns_flagged").alias("退档前已标记"),
    pl.col("returns_meant").alias("应捕捉的退档"),
    pl.col("caught").alias("捕捉到"),
    pl.col("recall").alias("召回率"),
    pl.col("received_flagged").alias("标记后仍送达"),
    pl.col("precision").alias("精确率"),
)
display.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "召回率": st.column_config.NumberColumn(format="percent"),
        "精确率": st.column_config.NumberColumn(format="percent"),
    },
)

st.subheader("尚无检查捕捉的退档原因")
if uncaught.height == 0:
    st.success("每一份被退回的档案，退档前都已有对应的检查提示。")
else:
    display.dataframe(
        uncaught.select(
            pl.col("reason").alias("退档原因"),
            pl.col("returns").alias("退档份数"),
            pl.col("no_check_meant").replace_strict({True: "尚无对应检查", False: "有检查但未提示"}).alias("说明"),
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption("“尚无对应检查”的原因需要新增检查；“有检查但未提示”的，检查的规则可能需要放宽或补充。")
