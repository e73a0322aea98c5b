"""Exports: files people take away. Text cells are written as text, never as formulas."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import polars as pl
import xlsxwriter

from pipelines import identity, progress
from pipelines.access import require, require_export
from pipelines.filters import Filters
from pipelines.imports import REGISTRATION_COLUMNS
from pipelines.privacy import REVEALERS, search_audit
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


def review_results(results: pl.DataFrame, *, unmasked: bool = False) -> pl.DataFrame:
    """`sql/queries/review_results.sql` rows under the registrations import's own headers, the
    contact phone and detailed address masked unless `unmasked`."""
    if not unmasked:
        results = results.with_columns(
            pl.col("phone").map_elements(identity.mask_phone, return_dtype=pl.String),
            pl.col("address_detail").map_elements(identity.mask_address, return_dtype=pl.String))
    return results.rename({c: REGISTRATION_COLUMNS[c][0] for c in results.columns})


def review_results_file(store: Store, actor: Actor, cohort: int | None, chosen: Filters, fmt: str,
                        file_name: str, *, unmasked: bool = False) -> tuple[bytes, int]:
    """The selected graduates' current registrations with their review outcome, in the
    registrations import layout, as 'csv' or 'xlsx'; the export is recorded (scope, rows,
    sha256, whether unmasked). Masked by default; `unmasked` (for carrying the file back to the
    national system, or re-importing it) needs a role that may reveal personal data. Returns
    the file and its row count. The CLI and the 待审核 page both use it."""
    require_export(store, actor, "review_results", file_name)
    if unmasked:
        require(store, actor, REVEALERS, "export:review_results", file_name,
                "你的角色不能导出未脱敏的联系电话和详细地址")
    with store.reading(actor) as reader:
        results = reader.query("review_results", cohort=cohort, **chosen.params())
    table = review_results(results, unmasked=unmasked)
    data = table_csv(table) if fmt == "csv" else table_xlsx(table, "审核结果")
    _record(store, actor, "export:review_results", file_name, data, table.height,
            {"cohort": cohort, "filters": chosen.to_query(), "unmasked": unmasked})
    return data, table.height


def chase_list_file(store: Store, actor: Actor, cohort: int, chosen: Filters, reason: str | None,
                    deadline: date, file_name: str) -> tuple[bytes, int]:
    """The chase list (xlsx, by advisor) of the graduates at risk in `chosen`'s college or
    class, within the actor's scope; recorded like every export. Returns the file and its
    row count."""
    require_export(store, actor, "chase_list", file_name)
    with store.reading(actor) as reader:
        everyone = reader.query("risk_list", cohort=cohort, **chosen.params(),
                                review_wait_days=progress.REVIEW_WAIT_DAYS, reason=reason, limit=None, offset=0)
        today = reader.today
    scope = chosen.class_name or chosen.college or "全校"
    data = chase_list_xlsx(progress.describe_risks(everyone, deadline, today), scope, today)
    _record(store, actor, "export:chase_list", file_name, data, everyone.height,
            {"cohort": cohort, "filters": chosen.to_query(), "reason": reason})
    return data, everyone.height


AUDIT_HEADERS = {"audit_id": "编号", "logged_at": "时间", "actor": "操作人", "role": "角色", "action": "操作",
                 "target": "对象", "detail": "详情"}


def audit_log_file(store: Store, actor: Actor, filters: dict[str, object], file_name: str) -> tuple[bytes, int]:
    """The audit records matching `filters` as CSV; the export is recorded in the log it exports."""
    require_export(store, actor, "audit_log", file_name)
    everything = search_audit(store, actor, **filters, limit=None, offset=0)
    data = table_csv(everything.drop("total").with_columns(pl.col("logged_at").cast(pl.String))
                     .rename(AUDIT_HEADERS))
    _record(store, actor, "export:audit", file_name, data, everything.height,
            {"filters": {k: str(v) for k, v in filters.items() if v}})
    return data, everything.height


def _record(store: Store, actor: Actor, action: str, file_name: str, data: bytes, rows: int,
            scope: dict[str, object]) -> None:
    store.record(actor, action, file_name, {**scope, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()})
