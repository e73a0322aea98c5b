"""How data looks on a page, in one place: tables that never show "None", charts with Chinese
dates, file uploaders with Chinese instructions, and a page that fails as a Chinese message
with a reference (its traceback goes to the server log). Pages call `dataframe`,
`plotly_chart` and `file_uploader` here instead of Streamlit's (tests/test_display.py checks
that no page calls those directly)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st
from streamlit.runtime.scriptrunner import RerunException, StopException
from streamlit.runtime.uploaded_file_manager import UploadedFile

from pipelines import statistics

MISSING = "—"  # a value the data does not have
DATE_TICKS = "%-m月%-d日"  # plotly (d3) date formats: 6月10日 on the axis, 2024-06-10 on hover
DATE_HOVER = "%Y-%m-%d"
PAGE_FAILED = "页面出错了，请稍后重试；如果再次出现，请把参考编号 {reference} 告诉管理员。"

log = logging.getLogger("dangan.dashboard")
if not log.handlers:  # the server's log (streamlit configures only its own loggers)
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(_handler)


# --- tables ---------------------------------------------------------------------------------

# One header per column on every page: the counts and rates as the statistics name them
# (workflow.COUNT_LABELS, statistics.MEASURES), a graduate's fields as the roster does.
HEADERS: dict[str, str] = {
    **statistics.MEASURES,
    "student_id": "学号",
    "name": "姓名",
    "college_name": "学院",
    "class_name": "班级",
    "major": "专业",
    "advisor": "班主任",
    "cohort": "届别",
    "phone_masked": "手机号",
    "days_left": "剩余天数",
    "days_waiting": "已等待天数",
    "waiting_since": "等待自",
    "return_reason": "退回原因",
    "revision_no": "版本",
    "transfer_type_label": "转递类型",
    "report_number": "核验编号",
    "issued_at": "生成时间",
    "submitted_at": "最近提交",
    "snapshot_day": "快照日",
    "school_name": "学校",
    "registration_deadline": "登记截止",
    "projected": "预计截止时登记",
    "shortfall": "预计缺口",
    # the archive's dispatch
    "waybill": "运单号",
    "sent_on": "寄出日期",
    "unit_name": "接收单位",
    "wait_reason": "暂缓原因",
    "wait_until": "暂缓至",
}
RATE_BAR = st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)


def headed(frame: pl.DataFrame, *columns: str | pl.Expr, **headers: str) -> pl.DataFrame:
    """`frame`'s columns, in this order, under their headers (HEADERS; `headers` gives one
    another header on this page, e.g. a ranking's key 学院 or 班级). An expression, for a
    column the page transforms, carries its own header."""
    return frame.select(
        *(c if isinstance(c, pl.Expr) else pl.col(c).alias(headers.get(c) or HEADERS[c]) for c in columns)
    )


def rate_bars(frame: pl.DataFrame) -> dict[str, Any]:
    """Column settings that draw every rate (a header ending in 率) of `frame` as a bar."""
    return {c: RATE_BAR for c in frame.columns if c.endswith("率")}


def for_display(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every missing text shown as —, and a missing list as an empty one. Missing
    numbers, dates and flags keep their column's type: the dataframe's placeholder shows them."""
    fixes = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Null:
            fixes.append(pl.lit(MISSING, dtype=pl.String).alias(name))
        elif dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
            fixes.append(column.cast(pl.String).fill_null(MISSING))
        elif isinstance(dtype, pl.List):
            if dtype.inner == pl.String:
                column = column.list.eval(pl.element().fill_null(MISSING))
            fixes.append(column.fill_null(pl.lit(pl.Series(name, [[]], dtype=dtype))))
    return frame.with_columns(fixes) if fixes else frame


def dataframe(frame: pl.DataFrame, **options: Any) -> Any:
    """st.dataframe of `frame` as `for_display` shows it, with — for any other missing value.
    `options` are st.dataframe's (column_config, on_select …); returns what it returns."""
    return st.dataframe(for_display(frame), placeholder=MISSING, **options)


# --- charts ---------------------------------------------------------------------------------


def _are_dates(values: Any) -> bool:
    if values is None:
        return False
    if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.datetime64):
        return True
    first = next((v for v in values if v is not None), None)
    return isinstance(first, (date, np.datetime64))


def localized(figure: go.Figure) -> go.Figure:
    """`figure` with every date axis labelled in Chinese (6月10日; 2024-06-10 on hover) rather
    than with plotly's English month names."""
    for trace in figure.data:
        for axis in ("x", "y"):
            if axis in trace and _are_dates(trace[axis]):
                ref = trace[f"{axis}axis"] or axis  # "x", "x2" …
                figure.update_layout(
                    {f"{axis}axis{ref[1:]}": {"type": "date", "tickformat": DATE_TICKS, "hoverformat": DATE_HOVER}}
                )
    return figure


def plotly_chart(figure: go.Figure, **options: Any) -> Any:
    """st.plotly_chart of the `localized` figure; `options` are st.plotly_chart's."""
    return st.plotly_chart(localized(figure), **options)


# --- file uploaders -------------------------------------------------------------------------

# Streamlit 1.67's uploader has no parameter for its texts (an "Upload" button, "200MB per file •
# XLSX, CSV", "Drag and drop a file here" while dragging): this style, scoped to one uploader
# by its key, hides them and shows ours. Only our own constant words go into it.
_UPLOADER_STYLE = """<style>
.st-key-{key} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p,
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] span,
.st-key-{key} [data-testid="stFileUploaderDropzone"] > div:not([data-testid]):has(> span:only-child) > span
{{ display: none; }}
.st-key-{key} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after
{{ content: "{button}"; }}
.st-key-{key} [data-testid="stFileUploaderDropzoneInstructions"] > div::after
{{ content: "{instructions}"; }}
.st-key-{key} [data-testid="stFileUploaderDropzone"] > div:not([data-testid]):has(> span:only-child)::after
{{ content: "{dropping}"; }}
</style>"""
UPLOAD_BUTTON = "选择文件"
DROPPING = "松开鼠标即可上传"


def _uploader_style(key: str, types: list[str], max_mb: int, multiple: bool) -> str:
    instructions = (
        f"把文件拖到这里，或点“{UPLOAD_BUTTON}”"
        + ("（可多选）" if multiple else "")
        + f"。每个文件不超过 {max_mb} MB；格式："
        + "、".join(t.upper() for t in types)
    )
    css_key = re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())  # how Streamlit spells a key as a class
    return _UPLOADER_STYLE.format(key=css_key, button=UPLOAD_BUTTON, instructions=instructions, dropping=DROPPING)


def file_uploader(label: str, *, key: str, types: list[str], max_mb: int) -> UploadedFile | None:
    """st.file_uploader for one file of `types` (at most `max_mb` MB), its texts in Chinese."""
    st.html(_uploader_style(key, types, max_mb, multiple=False))
    # the label is the caller's: tests/test_text_safety.py checks every call of display.file_uploader
    return st.file_uploader(label, type=types, key=key, max_upload_size=max_mb)  # text: ours (see above)


def files_uploader(label: str, *, key: str, types: list[str], max_mb: int) -> list[UploadedFile]:
    """st.file_uploader for several files, its texts in Chinese."""
    st.html(_uploader_style(key, types, max_mb, multiple=True))
    return st.file_uploader(
        label,
        type=types,
        key=key,
        max_upload_size=max_mb,  # text: ours (as above)
        accept_multiple_files=True,
    )


# --- a page that fails ----------------------------------------------------------------------


def run_guarded(run: Callable[[], object], page: str = "") -> None:
    """Run a page. An exception is logged with its traceback under a short reference, and the
    user sees only a Chinese message naming that reference; Streamlit's own control flow
    (st.stop, st.rerun, st.switch_page) passes through."""
    try:
        run()
    except (StopException, RerunException):
        raise
    except Exception:
        reference = secrets.token_hex(4)
        log.exception("页面 %s 出错（参考编号 %s）", page or "?", reference)
        st.error(PAGE_FAILED.format(reference=reference), icon="⚠️")
