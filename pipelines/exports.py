"""Exports: files people take away. Text cells are written as text, never as formulas."""

from __future__ import annotations

import io
from datetime import date, timedelta

import polars as pl
import xlsxwriter

from pipelines import columns, statistics
from pipelines.access import require, require_export
from pipelines.privacy import masked_frame, record_export, search_audit
from pipelines.rules import progress, roles, text
from pipelines.rules.filters import Filters
from pipelines.store import Actor, Reader, Store, StoreError

CHASE_COLUMNS = {
    "class_name": "班级",
    "student_id": "学号",
    "name": "姓名",
    "phone_masked": "手机号",
    "missing": "缺少",
    "level": "风险等级",
    "days_waiting": "已等待天数",
    "reminder": "提醒语",
}


def chase_list_file_name(scope: str, reason: str | None, today: date) -> str:
    """The chase list's file name: its scope, the chosen reason (全部: every reason) and the day."""
    return f"催办名单_{scope}_{progress.reason_short(reason)}_{today:%Y%m%d}.xlsx"


def chase_list_xlsx(risks: pl.DataFrame, title: str, today: date, reason: str | None = None) -> bytes:
    """A chase list grouped by advisor (班主任): in each advisor's block the highest risk level
    first, then by class and 学号; the advisor with the most urgent graduate (by the same order)
    comes first, so the file opens with the highest risk.

    `risks` is the output of `progress.describe_risks` (for `reason`, None: every reason).
    Phones stay masked.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("催办名单")
    bold = book.add_format({"bold": True})
    group = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_string(
        0, 0, f"{title} 档案信息登记催办名单（{progress.reason_short(reason)}，截至 {today:%Y-%m-%d}）", bold
    )
    headers = list(CHASE_COLUMNS.values())
    row = 2
    ordered = risks.with_columns(pl.col("advisor").fill_null("（未填班主任）")).sort(
        ["urgency", "class_name", "student_id"], descending=[True, False, False]
    )
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

FORMULA_STARTS = text.FORMULA_STARTS


guard_cell = text.guard_formula


def table_csv(frame: pl.DataFrame) -> bytes:
    """CSV with a BOM (Excel then reads Chinese correctly); text cells guarded against formulas."""
    guarded = frame.with_columns(
        text.mapped(frame[c], guard_cell) for c, dtype in frame.schema.items() if dtype == pl.String
    )
    return "\ufeff".encode() + guarded.write_csv().encode("utf-8")


XLSX_MAX_ROWS = 1_048_576


class ExportTooLarge(StoreError):
    pass


def table_xlsx(frame: pl.DataFrame, sheet_name: str) -> bytes:
    """One sheet with a frozen bold header; strings are written as strings, never formulas."""
    return workbook_xlsx({sheet_name: frame})


def workbook_xlsx(sheets: dict[str, pl.DataFrame], titles: dict[str, str] | None = None) -> bytes:
    """One formatted sheet per frame: an optional title line, a bold frozen header, columns
    fitted to their widest cell (a Chinese character counts two), rates as percentages, and
    text always written as text (never a formula or a number)."""
    for name, frame in sheets.items():
        if frame.height + 3 > XLSX_MAX_ROWS:
            raise ExportTooLarge(
                f"“{name}”有 {frame.height:,} 行，超过 Excel 每张表 {XLSX_MAX_ROWS:,} 行的上限："
                "请改用 csv 或 parquet，或按学院、班级分开导出"
            )
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    percent = book.add_format({"num_format": "0.0%"})
    for name, frame in sheets.items():
        sheet = book.add_worksheet(name[:31])
        top = 0
        if titles and name in titles:
            sheet.write_string(0, 0, titles[name], book.add_format({"bold": True}))
            top = 2
        for col, header in enumerate(frame.columns):
            sheet.write_string(top, col, header, bold)
            sheet.set_column(
                col,
                col,
                min(60, max(_width(header), _column_width(frame[header])) + 2),
                percent if _is_rate(header) else None,
            )
        # One writer per column, chosen once from its type: numbers as numbers (NaN left
        # empty), everything else as a string.
        numeric = [frame.schema[c].is_numeric() for c in frame.columns]
        for row, record in enumerate(frame.iter_rows(), start=top + 1):
            for col, value in enumerate(record):
                if value is None:
                    continue
                if numeric[col]:
                    if value == value:  # not NaN (a rate with no graduates)
                        sheet.write_number(row, col, value)
                else:
                    sheet.write_string(row, col, str(value))
        sheet.freeze_panes(top + 1, 1 if frame.width > 3 else 0)
    book.close()
    return buffer.getvalue()


def _is_rate(header: str) -> bool:
    """Whether a column holds rates (shown as 0.0%): 登记率, placed_rate, or a share 占毕业生 (#16)."""
    return header.endswith("率") or header.endswith("_rate") or header.startswith("占")


def _column_width(column: pl.Series) -> int:
    """The widest cell of a column in character cells (a Chinese character is two)."""
    if column.len() == 0:
        return 0
    if column.dtype.is_numeric():
        return (
            8
            if column.dtype.is_float()
            else max((len(f"{v:,}") for v in (column.min(), column.max()) if isinstance(v, int)), default=0)
        )
    text = column.cast(pl.String).fill_null("")
    # UTF-8: ASCII is 1 byte, CJK 3 bytes; width = chars + (bytes - chars) / 2
    widths = text.str.len_chars() + (text.str.len_bytes() - text.str.len_chars()) // 2
    return max(widths.to_list(), default=0)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def table_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def table_file(frame: pl.DataFrame, fmt: str, sheet_name: str) -> bytes:
    """One table as 'csv' (BOM, formula-guarded), 'xlsx' (formatted) or 'parquet' (typed)."""
    if fmt == "csv":
        return table_csv(frame)
    if fmt == "xlsx":
        return table_xlsx(frame, sheet_name)
    if fmt == "parquet":
        return table_parquet(frame)
    raise ValueError(f"不支持的格式：{fmt}（可用 csv、xlsx、parquet）")


def review_results(results: pl.DataFrame, *, unmasked: bool = False) -> pl.DataFrame:
    """`sql/queries/review_results.sql` rows under the registrations import's own headers, the
    contact phone and detailed address masked unless `unmasked`."""
    if not unmasked:
        results = masked_frame(results)
    return results.rename({c: columns.REGISTRATIONS.by_key[c].label for c in results.columns})


def review_results_file(
    store: Store, actor: Actor, cohort: int | None, chosen: Filters, fmt: str, file_name: str, *, unmasked: bool = False
) -> tuple[bytes, int]:
    """The selected graduates' current registrations with their review outcome, in the
    registrations import layout, as 'csv' or 'xlsx'; the export is recorded (scope, rows,
    sha256, whether unmasked). Masked by default; `unmasked` (for carrying the file back to the
    national system, or re-importing it) needs a role that may reveal personal data. Returns
    the file and its row count. The CLI and the 待审核 page both use it."""
    require_export(store, actor, "review_results", file_name)
    if unmasked:
        require(
            store,
            actor,
            roles.REVEALERS,
            "export:review_results",
            file_name,
            "你的角色不能导出未脱敏的联系电话和详细地址",
        )
    with store.reading(actor) as reader:
        results = reader.query("review_results", cohort=cohort, **chosen.params())
    table = review_results(results, unmasked=unmasked)
    data = table_csv(table) if fmt == "csv" else table_xlsx(table, "审核结果")
    record_export(
        store,
        actor,
        "export:review_results",
        file_name,
        data,
        table.height,
        {"cohort": cohort, "filters": chosen.to_query(), "unmasked": unmasked},
    )
    return data, table.height


def chase_list_file(
    store: Store,
    actor: Actor,
    cohort: int,
    chosen: Filters,
    reason: str | None,
    deadline: date,
    file_name: str,
    fmt: str = "xlsx",
) -> tuple[bytes, int]:
    """The chase list of the graduates at risk in `chosen`, within the actor's scope: xlsx
    grouped by advisor (班主任), or one plain table as csv or parquet. Phones stay masked.
    Recorded like every export. Returns the file and its row count."""
    require_export(store, actor, "chase_list", file_name)
    with store.reading(actor) as reader:
        today = reader.today
        everyone = reader.query(
            "risk_list",
            cohort=cohort,
            **chosen.params(),
            review_wait_days=progress.REVIEW_WAIT_DAYS,
            reason=reason,
            limit=None,
            offset=0,
            **progress.urgency_params(progress.days_left(deadline, today)),
        )
    scope = chosen.class_name or chosen.college or "全校"
    risks = progress.describe_risks(everyone, deadline, today)
    if fmt == "xlsx":
        data = chase_list_xlsx(risks, scope, today, reason)
    else:
        plain = risks.select(
            pl.col("advisor").alias("班主任"), *(pl.col(c).alias(label) for c, label in CHASE_COLUMNS.items())
        )
        data = table_file(plain, fmt, "催办名单")
    record_export(
        store,
        actor,
        "export:chase_list",
        file_name,
        data,
        everyone.height,
        {"cohort": cohort, "filters": chosen.to_query(), "reason": reason, "format": fmt},
    )
    return data, everyone.height


def stats_file(store: Store, actor: Actor, cohort: int, chosen: Filters, fmt: str, file_name: str) -> tuple[bytes, int]:
    """Every breakdown of the stage counts and 毕业去向落实 (统计分析), within the actor's scope:
    xlsx with one formatted sheet per breakdown, or csv/parquet as one long table with a
    维度 column. Recorded. Returns the file and its row count."""
    require_export(store, actor, "stats", file_name)
    with store.reading(actor) as reader:
        sheets = statistics.breakdowns(reader, cohort, chosen)
    if fmt == "xlsx":
        data = workbook_xlsx(sheets, {name: f"{cohort} 届 · 按{name}" for name in sheets})
    else:
        data = table_file(
            pl.concat([frame.select(pl.lit(name).alias("维度"), pl.all()) for name, frame in sheets.items()]),
            fmt,
            "统计",
        )
    rows = sum(frame.height for frame in sheets.values())
    record_export(
        store,
        actor,
        "export:stats",
        file_name,
        data,
        rows,
        {"cohort": cohort, "filters": chosen.to_query(), "format": fmt},
    )
    return data, rows


def registrations_file(
    store: Store, actor: Actor, cohort: int, chosen: Filters, fmt: str, file_name: str
) -> tuple[bytes, int]:
    """One row per selected graduate with a registration: the registrations import layout
    with the review outcome, masked, as csv, xlsx or parquet. Recorded."""
    require_export(store, actor, "registrations", file_name)
    with store.reading(actor) as reader:
        table = review_results(reader.query("review_results", cohort=cohort, **chosen.params()))
    data = table_file(table, fmt, "档案登记")
    record_export(
        store,
        actor,
        "export:registrations",
        file_name,
        data,
        table.height,
        {"cohort": cohort, "filters": chosen.to_query(), "format": fmt},
    )
    return data, table.height


def weekly_workbook(store: Store, actor: Actor, cohort: int, file_name: str) -> tuple[bytes, int]:
    """The weekly progress workbook an office sends to school leadership (see weekly_sheets)."""
    require_export(store, actor, "weekly", file_name)
    with store.reading(actor) as reader:
        sheets, titles = weekly_sheets(reader, cohort)
    data = workbook_xlsx(sheets, titles)
    rows = sum(frame.height for frame in sheets.values())
    record_export(store, actor, "export:weekly", file_name, data, rows, {"cohort": cohort})
    return data, rows


def weekly_sheets(reader: Reader, cohort: int) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """总体进度 (with the change since the snapshot a week ago), 各学院进度 (ranked by
    registration rate), 转递类型, 毕业去向落实, 截止风险 (per college and reason) and 近两周
    (daily snapshots)."""
    campaign = reader.one("campaign", cohort=cohort) or {}
    today = reader.today
    deadline = campaign.get("registration_deadline")
    everyone = Filters()
    school = statistics.pivot_rows(reader, cohort, everyone, statistics.NONE).row(0, named=True)
    history = statistics.series(reader, cohort)
    week = statistics.week_ago_change(history, today)
    overall = pl.DataFrame(
        [
            {
                "指标": label,
                "人数": int(school[key]),
                "占毕业生": None
                if key == "graduates" or not school["graduates"]
                else school[key] / school["graduates"],
                "较上周": None
                if week is None or key == "placed" and "placed" not in week
                else int(school[key] - week[key]),
            }
            for key, label in [*statistics.COUNTS.items(), ("placed", "毕业去向已落实")]
        ],
        schema={"指标": pl.String, "人数": pl.Int64, "占毕业生": pl.Float64, "较上周": pl.Int64},
    )
    by_college = statistics.pivot_rows(reader, cohort, everyone, "college").sort("registered_rate", descending=True)
    colleges = statistics.readable(by_college).with_columns(pl.int_range(1, by_college.height + 1).alias("登记率排名"))
    types = statistics.readable(statistics.pivot_rows(reader, cohort, everyone, "transfer_type"))
    placement = by_college.sort("placed_rate", descending=True).select(
        pl.col("row_key").alias("学院"),
        pl.col("graduates").alias("毕业生"),
        *(pl.col(c).alias(label) for c, label in statistics.PLACEMENT.items()),
        pl.col("placed").alias("已落实"),
        pl.col("placed_rate").alias("毕业去向落实率"),
    )
    risks = reader.query("risk_counts_by_college", cohort=cohort, review_wait_days=progress.REVIEW_WAIT_DAYS)
    risk_table = (
        risks.pivot(on="reason", index="college_name", values="people", aggregate_function="sum").fill_null(0)
        if risks.height
        else pl.DataFrame({"college_name": []}, schema={"college_name": pl.String})
    )
    for risk in progress.RISK_REASONS:
        if risk.code not in risk_table.columns:
            risk_table = risk_table.with_columns(pl.lit(0).alias(risk.code))
    risk_table = risk_table.select(
        pl.col("college_name").alias("学院"), *(pl.col(r.code).alias(r.label) for r in progress.RISK_REASONS)
    ).sort("学院")
    recent = history.filter(pl.col("snapshot_day") > today - timedelta(days=14)).select(
        pl.col("snapshot_day").cast(pl.String).alias("日期"),
        *(pl.col(c).alias(label) for c, label in statistics.COUNTS.items() if c != "graduates"),
        pl.col("placed").alias("已落实去向"),
    )
    left = (deadline - today).days if deadline else None
    head = f"{campaign.get('school_name', '')} {cohort} 届毕业生档案信息登记进度（截至 {today:%Y-%m-%d}" + (
        f"，登记截止 {deadline:%Y-%m-%d}，还剩 {left} 天）" if deadline else "）"
    )
    sheets = {
        "总体进度": overall,
        "各学院进度": colleges,
        "转递类型": types,
        "毕业去向落实": placement,
        "截止风险": risk_table,
        "近两周": recent,
    }
    titles = {
        "总体进度": head + ("；较上周为与 7 天前快照之差" if week else "；尚无 7 天前的快照"),
        "各学院进度": "按登记率排名",
        "转递类型": "按档案转递类型",
        "毕业去向落实": statistics.PLACEMENT_DEFINITION,
        "截止风险": "各学院存在截止风险的人数（按原因）",
        "近两周": "每日快照（dangan snapshot）",
    }
    return sheets, titles


AUDIT_HEADERS = {
    "audit_id": "编号",
    "logged_at": "时间",
    "actor": "操作人",
    "role": "角色",
    "action": "操作",
    "target": "对象",
    "detail": "详情",
}


def audit_log_file(store: Store, actor: Actor, filters: dict[str, object], file_name: str) -> tuple[bytes, int]:
    """The audit records matching `filters` as CSV; the export is recorded in the log it exports."""
    require_export(store, actor, "audit_log", file_name)
    everything = search_audit(store, actor, **filters, limit=None, offset=0)
    data = table_csv(everything.drop("total").with_columns(pl.col("logged_at").cast(pl.String)).rename(AUDIT_HEADERS))
    record_export(
        store,
        actor,
        "export:audit",
        file_name,
        data,
        everything.height,
        {"filters": {k: str(v) for k, v in filters.items() if v}},
    )
    return data, everything.height


def import_refusals_file(
    store: Store, actor: Actor, refusals: pl.DataFrame, source_name: str, file_name: str
) -> tuple[bytes, int]:
    """The refusals of an import (行号、列、值、原因) as xlsx for the office to work through:
    values as the file had them, text never a formula; recorded like every export."""
    require_export(store, actor, "import_refusals", file_name)
    data = table_xlsx(refusals, "拒绝原因")
    record_export(store, actor, "export:import_refusals", file_name, data, refusals.height, {"source": source_name})
    return data, refusals.height
