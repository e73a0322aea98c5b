"""统计分析: breakdowns of the stage counts and 毕业去向落实率, daily snapshots (real history),
and cohort comparison. The numbers come from SQL (sql/queries/stats_pivot.sql and the
snapshot queries); this module names, labels and reshapes them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from pipelines import access
from pipelines.rules import codes, roles, transfer_types, workflow
from pipelines.rules.filters import Filters
from pipelines.store import Actor, Reader, Store, Writer, config

DIMENSIONS = {
    "college": "学院",
    "major": "专业",
    "class": "班级",
    "transfer_type": "转递类型",
    "origin_province": "生源省份",
    "education_level": "学历层次",
    "gender": "性别",
    "destination_category": "去向类别",
}
COUNTS = workflow.COUNT_LABELS  # one label table: the stages' counts as every page names them
PLACEMENT = {
    "employed": "单位就业",
    "entrepreneur": "自主创业",
    "freelance": "自由职业",
    "further_study": "升学",
    "not_placed": "未落实",
    "no_destination": "未填报去向",
}
RATES = {
    "registered_rate": "登记率",
    "approved_rate": "审核通过率",
    "confirmed_rate": "确认率",
    "verified_rate": "核验率",
    "placed_rate": "毕业去向落实率",
}
MEASURES = {**COUNTS, "placed": "已落实去向", **PLACEMENT, **RATES}
PLACEMENT_DEFINITION = (
    "毕业去向落实率 = 单位就业率 + 自主创业率 + 自由职业率 + 升学率，分母为本届全部毕业生（含未填报去向者）。"
    "单位就业：去向代码 10、11、12、27、46、50、51 及其子代码；自主创业 75；自由职业 76；升学 80、85 及其子代码；"
    "70、71、72 及其子代码为未落实。"
)
NONE = "none"


def labels(dimension: str) -> dict[str, str]:
    """Raw key -> the label people read, for dimensions stored as codes."""
    if dimension == "transfer_type":
        return dict(transfer_types.LABELS)
    if dimension == "education_level":
        return dict(codes.EDUCATION_LEVELS)
    if dimension == "destination_category":
        return dict(PLACEMENT)
    return {}


def _label(column: str, dimension: str) -> pl.Expr:
    if dimension == NONE:
        return pl.lit("全部").alias(column)
    empty = "未登记" if dimension == "transfer_type" else "（空）"
    return pl.col(column).replace_strict(labels(dimension), default=pl.col(column)).fill_null(empty).alias(column)


def rate(count: str) -> pl.Expr:
    """A count over the graduates, for counts summed here (pivot_table's totals, none when there
    are no graduates). Rows from SQL come with their rates (the `rate` macro, sql/views/07_rate.sql)."""
    return pl.col(count) / pl.when(pl.col("graduates") > 0).then(pl.col("graduates"))


def pivot_rows(reader: Reader, cohort: int, filters: Filters, rows: str, columns: str = NONE) -> pl.DataFrame:
    """Long form: one row per (row_key, column_key) with every count and rate, labelled. For a
    role that sees aggregates only, cells of fewer than `config.min_cell()` graduates are
    suppressed (`suppress_small`)."""
    found = labelled(
        reader.query("stats_pivot", cohort=cohort, rows=rows, columns=columns, **filters.params()), rows, columns
    )
    return suppress_small(found, config.min_cell()) if reader.actor.role in roles.AGGREGATE_ONLY else found


MEASURE_COLUMNS = list(dict.fromkeys([*COUNTS, "placed", *PLACEMENT, *RATES, "approved_rate"]))


def for_viewer(
    long: pl.DataFrame, role: str, row_key: str = "row_key", column_key: str | None = "column_key"
) -> pl.DataFrame:
    """A table of counts as `role` may see it: small cells suppressed for aggregate-only roles."""
    return suppress_small(long, config.min_cell(), row_key, column_key) if role in roles.AGGREGATE_ONLY else long


SUPPRESSION_NOTE = (
    "为保护个人信息，分析员看不到少于 {k} 人的格子：这些格子（以及为防止用合计反推而一并隐藏的格子）显示为空，"
    "合计仍是真实人数（不足 {k} 人的合计同样隐藏）。"
)


def suppress_small(
    long: pl.DataFrame, k: int, row_key: str = "row_key", column_key: str | None = "column_key"
) -> pl.DataFrame:
    """Hide every measure of a cell with fewer than `k` graduates (but some), so that an
    aggregate can no longer single out a person ("山西省: 1 graduate, not placed"); and, where a
    row or a column then has exactly one hidden cell, the next smallest as well, so that a total
    minus the others cannot give it back. The true values stay in `_true_<measure>` columns for
    totals (which stay right); `suppressed` says which cells are hidden."""
    keys = [c for c in (row_key, column_key) if c and c in long.columns]
    hidden = long.with_columns(((pl.col("graduates") > 0) & (pl.col("graduates") < k)).alias("suppressed"))
    for _ in range(10):
        before = int(hidden["suppressed"].sum())
        for key in keys:
            group = next((c for c in keys if c != key), None)
            if group is None:
                lonely = hidden.with_columns(pl.lit(True).alias("_one"))
                lonely = lonely.with_columns((pl.col("suppressed").sum().over("_one") == 1).alias("_lonely")).drop(
                    "_one"
                )
            else:
                lonely = hidden.with_columns((pl.col("suppressed").sum().over(group) == 1).alias("_lonely"))
            rank = pl.when(~pl.col("suppressed") & (pl.col("graduates") > 0)).then(pl.col("graduates"))
            over = group if group is not None else pl.lit(True)
            hidden = lonely.with_columns(
                (pl.col("suppressed") | (pl.col("_lonely") & (rank == rank.min().over(over)))).alias("suppressed")
            ).drop("_lonely")
        if int(hidden["suppressed"].sum()) == before:
            break
    present = [c for c in MEASURE_COLUMNS if c in hidden.columns]
    return hidden.with_columns(pl.col(c).alias(f"_true_{c}") for c in present).with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in present
    )


TOO_SMALL_NOTE = "所选范围不足 {k} 人：为保护个人信息，分析员看不到这样小的范围的统计，请放宽筛选条件。"


def too_small_for(role: str, graduates: int) -> bool:
    """Whether a whole selection is too small for an aggregate-only role to see at all."""
    return role in roles.AGGREGATE_ONLY and 0 < graduates < config.min_cell()


def suppressed_any(frame: pl.DataFrame) -> bool:
    return "suppressed" in frame.columns and bool(frame["suppressed"].any())


def labelled(found: pl.DataFrame, rows: str, columns: str = NONE) -> pl.DataFrame:
    """`stats_pivot` rows (counts, `placed` and the rates) with readable keys."""
    return found.with_columns(_label("row_key", rows), _label("column_key", columns))


TOTAL = "合计"
SEPARATOR = "·"  # between a column key and a measure: 女·登记率


def pivot_table(long: pl.DataFrame, rows: str, columns: str, measure: str) -> pl.DataFrame:
    """The wide table people read: rows × columns of one measure, a 合计 row and, with two
    dimensions, a 合计 column. A rate comes with the counts it is made of beside it (one
    dimension: 毕业生, the count, the rate; two: the count and the rate under each column, and
    毕业生, count and rate under 合计), recomputed from its parts, never summed or averaged.

    Totals are sums of the true counts. For an aggregate-only viewer (a `long` from
    `suppress_small`), hidden cells stay hidden, and so does a total of fewer than
    `config.min_cell()` graduates, with the next smallest total of its row or column when it
    would be the only one hidden (the grand total would give it back)."""
    name = DIMENSIONS.get(rows, "全部")
    is_rate = measure in RATES
    part = measure.removesuffix("_rate") if is_rate else measure
    measures = list(dict.fromkeys(["graduates", part]))
    cells = _cells(long, measures)
    hidden = "suppressed" in long.columns
    parts = [cells]
    if columns != NONE:  # the 合计 column (a total per row), the 合计 row (a total per column)
        parts += [_margin(cells, measures, "row_key", hidden), _margin(cells, measures, "column_key", hidden)]
    parts.append(_margin(cells, measures, None, hidden))
    every = pl.concat(parts, how="diagonal_relaxed").with_columns(rate(part).alias("rate"))
    shown = {"graduates": MEASURES["graduates"], part: MEASURES[part], "rate": MEASURES.get(measure, "")}
    if columns == NONE:
        wanted = ["graduates", part, "rate"] if is_rate else [part]
        return every.select(pl.col("row_key").alias(name), *(pl.col(c).alias(shown[c]) for c in wanted))
    keys = cells["column_key"].unique().sort().to_list()
    row_keys = cells["row_key"].unique(maintain_order=True).to_list() + [TOTAL]
    wide = pl.DataFrame({name: row_keys}, schema={name: pl.String})
    for key in [*keys, TOTAL]:
        wanted = (["graduates", part, "rate"] if key == TOTAL else [part, "rate"]) if is_rate else [part]
        block = every.filter(pl.col("column_key") == key).select(
            pl.col("row_key").alias(name),
            *(pl.col(c).alias(f"{key}{SEPARATOR}{shown[c]}" if is_rate else key) for c in wanted),
        )
        wide = wide.join(block, on=name, how="left", maintain_order="left")
    return wide


def is_rate_column(header: str) -> bool:
    """Whether a column of `pivot_table` holds a rate."""
    return header.rsplit(SEPARATOR, 1)[-1] in RATES.values()


def _cells(long: pl.DataFrame, measures: list[str]) -> pl.DataFrame:
    """One row per (row_key, column_key) with the shown and the true (`_true_`) counts."""

    def true(c: str) -> str:
        return f"_true_{c}" if f"_true_{c}" in long.columns else c

    return long.group_by("row_key", "column_key", maintain_order=True).agg(
        *(pl.col(c).first() for c in measures),  # NULL when hidden
        *(pl.col(true(c)).sum().alias(f"_true_{c}") for c in measures),
    )


def _margin(cells: pl.DataFrame, measures: list[str], by: str | None, hidden: bool) -> pl.DataFrame:
    """The true totals of `cells` per `by` (None: the grand total), the other key set to 合计;
    for a viewer of suppressed tables, suppressed as a one-dimensional table of their own."""
    sums = [pl.col(f"_true_{c}").sum().alias(c) for c in measures]
    found = cells.group_by(by, maintain_order=True).agg(sums) if by else cells.select(sums)
    found = found.with_columns(pl.lit(TOTAL).alias(c) for c in ("row_key", "column_key") if c != by)
    if hidden:
        found = suppress_small(found, config.min_cell(), row_key="row_key", column_key=None)
    return found.select("row_key", "column_key", *measures)


def breakdowns(reader: Reader, cohort: int, filters: Filters) -> dict[str, pl.DataFrame]:
    """Every dimension's breakdown (the stats export's sheets), labelled, with a 合计 row."""
    sheets = {"全校": pivot_rows(reader, cohort, filters, NONE)}
    for dimension in DIMENSIONS:
        sheets[DIMENSIONS[dimension]] = pivot_rows(reader, cohort, filters, dimension)
    return {name: readable(frame) for name, frame in sheets.items()}


def readable(long: pl.DataFrame) -> pl.DataFrame:
    """A breakdown with Chinese headers: key, counts, placement and rates (and, for suppressed
    tables, which rows are hidden)."""
    hidden = [pl.col("suppressed").alias("人数过少已隐藏")] if "suppressed" in long.columns else []
    return long.select(
        pl.col("row_key").alias("分组"),
        *(pl.col(c).alias(label) for c, label in COUNTS.items()),
        pl.col("placed").alias(MEASURES["placed"]),
        *(pl.col(c).alias(label) for c, label in PLACEMENT.items()),
        *(pl.col(c).round(4).alias(label) for c, label in RATES.items()),
        *hidden,
    )


# --- snapshots -----------------------------------------------------------------------------------


def take_snapshot(store: Store, actor: Actor) -> tuple[date, int]:
    """Store today's counts per cohort, college and transfer type, once per day: a second run
    the same day writes nothing. Returns (the day, rows written). Only the office (or the
    system's cron run) takes it, and always over the whole school: a snapshot in a dean's or a
    graduate's scope would stand for the day's school-wide history (trends, workbook, brief)."""
    access.require(store, actor, roles.ADMINS, "snapshot", None, "只有就业处（或系统定时任务）可以保存每日快照")

    def work(writer: Writer) -> int:
        writer.touched_students = []
        writer.audit_target = writer.today.isoformat()
        if writer.rows("snapshot_days", days=[writer.today]):
            writer.audit_detail = {"rows": 0, "outcome": "exists"}
            return 0
        written = _snapshot(writer, writer.today)
        writer.audit_detail = {"rows": written}
        return written

    with store.reading(actor) as reader:
        day = reader.today
    return day, store.transaction(actor, "snapshot", work, day.isoformat())


def _snapshot(writer: Writer, day: date) -> int:
    """Insert `day`'s counts (as the writer's views see them now) per cohort, college and
    transfer type: the same stats_pivot the page and the exports read."""
    written = 0
    with writer.whole_school():
        cohorts = writer.query("graduate_cohorts")["cohort"].to_list()
        found_by_cohort = [
            (
                cohort,
                writer.query(
                    "stats_pivot", cohort=cohort, rows="college", columns="transfer_type", **Filters().params()
                ),
            )
            for cohort in cohorts
        ]
    for cohort, found in found_by_cohort:
        rows = found.select(
            pl.lit(day).alias("snapshot_day"),
            pl.lit(cohort).alias("cohort"),
            pl.col("row_key").alias("college_name"),
            pl.col("column_key").fill_null("").alias("transfer_type"),
            *COUNTS,
            "placed",
            pl.lit(writer.now()).alias("taken_at"),
        )
        written += writer.insert("stage_snapshots", rows)
    return written


def backfill_snapshots(writer: Writer, days: list[date]) -> int:
    """Snapshots of past days, replayed from the history (the demo's past; not for real
    stores, whose history is what `dangan snapshot` recorded on the day)."""
    written = 0
    taken = {r["snapshot_day"] for r in writer.rows("snapshot_days", days=days)}
    for day in days:
        if day in taken:
            continue
        with writer.as_of(day):
            written += _snapshot(writer, day)
    return written


def series(reader: Reader, cohort: int, college: str | None = None, transfer_type: str | None = None) -> pl.DataFrame:
    """Daily snapshot counts with rates (trend charts)."""
    return series_of(reader.query("snapshot_series", cohort=cohort, college=college, transfer_type=transfer_type))


def series_of(found: pl.DataFrame) -> pl.DataFrame:
    """`snapshot_series` rows with their rates."""
    per = pl.when(pl.col("graduates") > 0).then(pl.col("graduates")).otherwise(None)
    return found.with_columns(
        (pl.col(c) / per).alias(f"{c}_rate") for c in ("registered", "approved", "confirmed", "verified", "placed")
    )


def same_point(aligned: pl.DataFrame, cohort: int) -> pl.DataFrame:
    """Each cohort at the same number of days before its deadline as `cohort`'s latest snapshot
    (or its nearest earlier snapshot): the cohort comparison table."""
    current = aligned.filter(pl.col("cohort") == cohort)
    if current.height == 0:
        return aligned.head(0)
    days_left = current.sort("snapshot_day")["days_left"][-1]
    return (
        aligned.filter(pl.col("days_left") >= days_left)
        .sort("days_left")
        .group_by("cohort", maintain_order=True)
        .first()
        .sort("cohort", descending=True)
    )


def week_ago_change(history: pl.DataFrame, today: date) -> dict[str, Any] | None:
    """The snapshot 7 days before `today` (or the nearest earlier one), for "较上周"."""
    earlier = history.filter(pl.col("snapshot_day") <= today - timedelta(days=7))
    return earlier.row(-1, named=True) if earlier.height else None


STAGE_SERIES = {k: v for k, v in COUNTS.items() if k != "graduates"}
