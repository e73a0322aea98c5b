"""Exports: files people take away. Text cells are written as text, never as formulas."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import polars as pl
import xlsxwriter

from pipelines.filters import Filters
from pipelines.imports import REGISTRATION_COLUMNS
from pipelines.store import Actor, Store

CHASE_COLUMNS = {
    "class_name": "班级", "student_id": "学号", "name": "姓名", "phone_masked": "手机号",
    "missing": "缺少", "level": "风险等级", "days_waiting": "已等待天数", "reminder": "提醒语",
}


def chase_list_xlsx(risks: pl.DataFrame, title: str, today: date) -> bytes:
    """A chase list grouped by advisor (班主任): one block per advisor, most urgent first.

    `risks` is the output of `progress.describe_risks`. Phones stay masked.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    sheet = book.add_worksheet("催办名单")
    bold = book.add_format({"bold": True})
    group = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_string(0, 0, f"{title} 档案信息登记催办名单（截至 {today:%Y-%m-%d}）", bold)
    headers = list(CHASE_COLUMNS.values())
    row = 2
    ordered = risks.with_columns(pl.col("advisor").fill_null("（未填班主任）")).sort(
        ["advisor", "class_name", "student_id"])
    for (advisor,), people in ordered.group_by(["advisor"], maintain_order=True):
        sheet.write_string(row, 0, f"班主任：{advisor}（{people.height} 人）", group)
        row += 1
        for col, header in enumerate(headers):
            sheet.write_string(row, col, header, bold)
        row += 1
        for record in people.select(list(CHASE_COLUMNS)).iter_rows():
            for col, value in enumerate(record):
                if isinstance(value, int):
                    sheet.write_number(row, col, value)
                else:
                    sheet.write_string(row, col, "" if value is None else str(value), wrap if col == 7 else None)
            row += 1
        row += 1
    for col, width in enumerate([14, 14, 8, 14, 26, 8, 10, 70]):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


# --- tables in files -------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def guard_cell(value: str) -> str:
    """A text cell Excel and WPS will show as text: a leading ' before a formula start."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def table_csv(frame: pl.DataFrame) -> bytes:
    """CSV with a BOM (Excel then reads Chinese correctly); text cells guarded against formulas."""
    guarded = frame.with_columns(
        pl.col(c).map_elements(guard_cell, return_dtype=pl.String)
        for c, dtype in frame.schema.items() if dtype == pl.String)
    return "\ufeff".encode() + guarded.write_csv().encode("utf-8")


def table_xlsx(frame: pl.DataFrame, sheet_name: str) -> bytes:
    """One sheet with a frozen bold header; strings are written as strings, never formulas."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet(sheet_name)
    bold = book.add_format({"bold": True})
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, header, bold)
        sheet.set_column(col, col, max(8, min(40, 2 * len(header) + 4)))
    for row, record in enumerate(frame.iter_rows(), start=1):
        for col, value in enumerate(record):
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, "" if value is None else str(value))
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def review_results(results: pl.DataFrame) -> pl.DataFrame:
    """`sql/queries/review_results.sql` rows under the registrations import's own headers."""
    return results.rename({c: REGISTRATION_COLUMNS[c][0] for c in results.columns})


def review_results_file(store: Store, actor: Actor, cohort: int | None, chosen: Filters, fmt: str,
                        file_name: str) -> tuple[bytes, int]:
    """The selected graduates' current registrations with their review outcome, in the
    registrations import layout, as 'csv' or 'xlsx'; the export is recorded (scope, rows,
    sha256). Returns the file and its row count. The CLI and the 待审核 page both use it."""
    with store.reading(actor) as reader:
        results = reader.query("review_results", cohort=cohort, **chosen.params())
    table = review_results(results)
    data = table_csv(table) if fmt == "csv" else table_xlsx(table, "审核结果")
    store.record(actor, "export:review_results", file_name, {
        "cohort": cohort, "filters": chosen.to_query(), "rows": table.height,
        "sha256": hashlib.sha256(data).hexdigest()})
    return data, table.height
