"""Import pipelines: roster (毕业生名单), destinations (毕业去向) and registrations (档案信息登记).

A file is read (`sources`: every header mapped or named as not imported), every row
validated (`rows`, then the rules that span fields: a code against the name beside it, a 学号
stored as a number), checked against the store, and written in ONE transaction recorded as an
import batch. By default any invalid row refuses the whole file and nothing is written (the
refusal is audited); `skip_invalid` imports the valid rows and writes the refused ones, with
reasons, to a CSV file. `dry_run` does everything but write: the same code runs in a
transaction that is rolled back. Re-importing a file changes no data; a newer export adds new
revisions for what changed. A column the file does not have never empties a stored value.
"""

from __future__ import annotations

import csv
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from pipelines import access, columns, rows, sources, submissions
from pipelines.columns import Layout
from pipelines.rules import codes, divisions, roles, text, workflow
from pipelines.store import Actor, Store, StoreError, Writer

# (stage, done, total): a stage's name as the user reads it, and how far it is (chunks of rows)
Progress = Callable[[str, int, int], None]
IMPORT_REVIEWER = "全国系统导入"
CHUNK_ROWS = 200_000  # rows validated (and reported as progress) at a time
SHOWN_ROWS = 20  # row numbers a summary line names before it says how many more


# --- the three kinds of file -------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    key: str
    layout: Layout
    model: type[BaseModel]

    @property
    def label(self) -> str:
        return self.layout.label


KINDS = {
    "roster": Kind("roster", columns.ROSTER, rows.RosterRow),
    "destinations": Kind("destinations", columns.DESTINATIONS, rows.DestinationRow),
    "registrations": Kind("registrations", columns.REGISTRATIONS, rows.RegistrationRow),
}


def detect_kind(path: str | Path) -> str | None:
    """The kind of file whose header row `path` has (the one naming most of its fields), or
    None. Reads only the first rows of each sheet."""
    from pipelines import sheets

    try:
        book = sheets.read_heads(Path(path), sheets.Limits.from_env())
    except sheets.SheetError:
        return None
    is_csv = len(book) == 1 and book[0].name == "CSV"
    best: tuple[int, str] | None = None
    for key, kind in KINDS.items():
        for sheet in book:
            header = sources.find_header(sheet.head(), kind.layout, is_csv)
            if header is not None:
                score = len(header.fields) + 10 * sum(k in header.fields for k in kind.layout.required)
                if best is None or score > best[0]:
                    best = (score, key)
    return best[1] if best else None


# --- results and errors ------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    file: str
    row: int | None  # as the user sees it in Excel or an editor; None for the whole file
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.file}：{self.reason}"
        value = f"（值：{self.value}）" if self.value else ""
        return f"{self.file} 第 {self.row} 行，“{self.column}”列{value}：{self.reason}"


class ImportRefused(StoreError):
    """Nothing was written; `errors` says why, row by row."""

    def __init__(self, errors: list[RowError], result: ImportResult | None = None):
        self.errors = errors = sorted(errors, key=lambda e: (e.row or 0, e.column))
        self.result = result  # the column mapping and counts, when the file could be read
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ……另有 {len(errors) - 50} 处错误" if len(errors) > 50 else ""
        super().__init__(f"导入被拒绝，未写入任何数据。共 {len(errors)} 处错误：\n{shown}{more}")


@dataclass
class ImportResult:
    kind: str
    file: str
    batch_id: int | None
    rows_read: int
    cohort: int | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    refused_file: Path | None = None
    sheet: str = ""
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (header in the file, field label)
    ignored: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        head = "预览（未写入任何数据）" if self.dry_run else "导入完成"
        line = (
            f"{head} {self.file}：读取 {self.rows_read} 行，新增 {self.inserted}，更新 {self.updated}，"
            f"未变 {self.unchanged}，拒绝 {self.refused}" + ("" if self.dry_run else f"（批次 {self.batch_id}）")
        )
        if self.refused_file:
            line += f"\n被拒绝的行及原因已写入 {self.refused_file}"
        return line

    def column_lines(self) -> list[str]:
        """The column accounting: what each header became, and what was not imported."""
        lines = ["列的对应：" + "；".join(f"{header} → {label}" for header, label in self.mapping)]
        lines.append("未导入的列：" + ("、".join(self.ignored) if self.ignored else "无"))
        return lines


# --- validation --------------------------------------------------------------------------


# A cell `_clean_frame` would change: full-width forms, our formula guard, whitespace to fold.
_NEEDS_CLEANING = (
    "[" + "".join(text.FULL_WIDTH) + r"]|^'[=+\-@]|^\s|\s$|\s\s|" + text.SPACES.replace("\\s", "\\t\\n\\r")
)


def _clean_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`text.clean` for every text column at once: full-width digits and letters, runs of
    whitespace, and the formula guard our CSV exports add; an empty cell becomes null.
    (Invisible characters were removed, and counted, by `sources`.) Only the columns that have
    such a cell are rewritten: one pass to find them costs a fifth of rewriting them all."""
    text_columns = [c for c in frame.columns if c != sources.ROW]
    found = frame.select(
        *[pl.col(c).str.contains(_NEEDS_CLEANING).any().alias(f"dirty:{c}") for c in text_columns],
        *[(pl.col(c) == "").any().alias(f"empty:{c}") for c in text_columns],
    ).row(0, named=True)
    dirty = [c for c in text_columns if found[f"dirty:{c}"]]
    empty = [c for c in text_columns if found[f"empty:{c}"] or found[f"dirty:{c}"]]
    return frame.with_columns(
        pl.col(c)
        .str.replace_many(text.FULL_WIDTH, text.ASCII_FORMS)
        # a spreadsheet guard ('=…, '+…, '-…, '@…) that an export added (text.guard_formula)
        .str.replace(r"^'([=+\-@])", "$1")
        .str.replace_all(text.SPACES, " ")
        .str.strip_chars()
        for c in dirty
    ).with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in empty)


def _combine_address(frame: pl.DataFrame) -> pl.DataFrame:
    """One 省市区 column (档案转递单位地址) fills province/city/district where they are empty,
    and what follows them goes to 详细地址. Nothing of it is dropped: an address that names no
    province is all 详细地址, and a rest that 详细地址 does not already hold is put before it."""
    for name in ("province", "city", "district", "address_detail"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit("").alias(name))
    if "address" not in frame.columns:
        return frame
    addresses = [a for a in frame["address"].unique().to_list() if a]
    parts = pl.DataFrame(
        [dict(zip(("_p", "_c", "_d", "_rest"), divisions.split_address(a), strict=True), address=a) for a in addresses],
        schema={"_p": pl.String, "_c": pl.String, "_d": pl.String, "_rest": pl.String, "address": pl.String},
    )
    joined = frame.join(parts, on="address", how="left", maintain_order="left")
    rest = pl.col("_rest").fill_null("")
    detail = pl.col("address_detail").fill_null("")
    return joined.with_columns(
        pl.when(pl.col("province") == "")
        .then(pl.col("_p").fill_null(""))
        .otherwise(pl.col("province"))
        .alias("province"),
        pl.when(pl.col("city") == "").then(pl.col("_c").fill_null("")).otherwise(pl.col("city")).alias("city"),
        pl.when(pl.col("district") == "")
        .then(pl.col("_d").fill_null(""))
        .otherwise(pl.col("district"))
        .alias("district"),
        pl.when(rest == "")
        .then(detail)
        .when(detail == "")
        .then(rest)
        .when(detail.str.contains(rest, literal=True))
        .then(detail)
        .when(rest.str.contains(detail, literal=True))
        .then(rest)
        .otherwise(rest + " " + detail)
        .alias("address_detail"),
    ).drop("_p", "_c", "_d", "_rest", "address")


@dataclass
class Checked:
    """A file's rows after validation: the valid ones (typed), the errors of the others, and
    what the summary must say."""

    frame: pl.DataFrame
    errors: list[RowError]
    notes: list[str]
    present: set[str]  # the fields the file has a column for


def validate(source: sources.Source, kind: Kind, progress: Progress | None = None) -> Checked:
    """The valid rows as a typed frame (with their row numbers), and the errors of the others."""
    say = progress or (lambda *_: None)
    cleaned = _clean_frame(source.frame)
    chunks = max(1, -(-cleaned.height // CHUNK_ROWS))
    parsed_parts: list[pl.DataFrame] = []
    field_errors: list[rows.FieldError] = []
    for i in range(chunks):
        say("校验", i, chunks)
        part, errs = rows.validate_frame(cleaned.slice(i * CHUNK_ROWS, CHUNK_ROWS), kind.model, sources.ROW)
        parsed_parts.append(part)
        field_errors += errs
    say("校验", chunks, chunks)
    parsed = pl.concat(parsed_parts) if len(parsed_parts) > 1 else parsed_parts[0]
    present = set(source.headers)

    def header(name: str) -> str:
        return source.headers.get(name) or kind.layout.by_key[name].label

    errors = [
        RowError(source.file_name, row, header(name), value, message) for row, name, value, message in field_errors
    ]
    # A cell that could not be read (#N/A, a formula without a result) is named as such, not
    # as "empty": its own message replaces the field's.
    unreadable = {(row, name) for row, name, _, _ in source.problems}
    errors = [e for e in errors if (e.row, _field_of(source, e.column)) not in unreadable]
    errors += [RowError(source.file_name, row, header(name), value, why) for row, name, value, why in source.problems]
    notes: list[str] = []
    parsed, more = _RULES[kind.key](parsed, source, header, notes)
    errors += more
    refused = {e.row for e in errors}
    valid = parsed.filter(~pl.col(sources.ROW).is_in(list(refused)))
    duplicated = valid.filter(pl.col("student_id").is_duplicated()).with_columns(
        pl.col(sources.ROW).min().over("student_id").alias("_first")
    )
    errors += [
        RowError(source.file_name, row, header("student_id"), sid, f"学号与第 {first} 行重复")
        for row, sid, first in duplicated.select(sources.ROW, "student_id", "_first").iter_rows()
        if row != first
    ]
    refused = {e.row for e in errors}
    errors.sort(key=lambda e: (e.row or 0, e.column))
    for key in kind.layout.by_key:
        note = kind.layout.by_key[key].when_absent
        if note and key not in present:
            notes.append(note)
    return Checked(valid.filter(~pl.col(sources.ROW).is_in(list(refused))), errors, notes, present)


def _field_of(source: sources.Source, header: str) -> str | None:
    return next((k for k, h in source.headers.items() if h == header), None)


Rule = Callable[[pl.DataFrame, sources.Source, Callable[[str], str], list[str]], tuple[pl.DataFrame, list[RowError]]]


def _pair(
    frame: pl.DataFrame,
    source: sources.Source,
    header: Callable[[str], str],
    code: str,
    name: str,
    disagree: Callable[[Any, Any], str | None],
) -> list[RowError]:
    """Rows where a code and the name beside it (生源地代码 + 生源地) are not the same thing:
    refused, naming both values."""
    if code not in frame.columns or name not in frame.columns:
        return []
    pairs = frame.select(code, name).unique().drop_nulls()
    bad = {(c, n): why for c, n in pairs.iter_rows() if (why := disagree(c, n))}
    if not bad:
        return []
    hits = frame.filter(pl.struct(code, name).is_in([{code: c, name: n} for c, n in bad]))
    return [
        RowError(
            source.file_name,
            r[sources.ROW],
            f"{header(code)}/{header(name)}",
            f"{r[code]} / {r[name]}",
            f"{header(code)}与{header(name)}不一致：{bad[(r[code], r[name])]}",
        )
        for r in hits.iter_rows(named=True)
    ]


def _roster_rule(
    frame: pl.DataFrame, source: sources.Source, header: Callable[[str], str], notes: list[str]
) -> tuple[pl.DataFrame, list[RowError]]:
    errors = _pair(frame, source, header, "origin_code", "origin_name", divisions.code_name_mismatch)
    errors += _pair(
        frame, source, header, "gender_code", "gender", lambda c, n: None if c == n else f"代码为{c}，名称为{n}"
    )
    errors += _pair(
        frame,
        source,
        header,
        "education_code",
        "education_level",
        lambda c, n: (
            None
            if c == n
            else f"代码为 {c} {codes.EDUCATION_LEVELS.get(c, '')}，名称为 {n} {codes.EDUCATION_LEVELS.get(n, '')}"
        ),
    )
    for value, code in (("gender", "gender_code"), ("education_level", "education_code")):
        if code in frame.columns:
            frame = frame.with_columns(
                (pl.coalesce(value, code) if value in frame.columns else pl.col(code)).alias(value)
            )
            frame = frame.drop(code)
    if "is_hukou_at_school" in frame.columns:
        unknown = frame.filter(pl.col("is_hukou_at_school").is_null()).height
        if unknown:
            notes.append(f"{unknown:,} 行的“{header('is_hukou_at_school')}”为空：户口记为“未知”")
    return frame, errors


def _destination_rule(
    frame: pl.DataFrame, source: sources.Source, header: Callable[[str], str], notes: list[str]
) -> tuple[pl.DataFrame, list[RowError]]:
    errors: list[RowError] = []
    if "destination_name" in frame.columns:
        names = [n for n in frame["destination_name"].unique().to_list() if n]
        by_name = {n: codes.destination_code_of(n) for n in names}
        frame = frame.with_columns(
            pl.col("destination_name").replace_strict(by_name, default=None, return_dtype=pl.String).alias("_name_code")
        )
        if "destination_code" in frame.columns:
            errors += _pair(
                frame,
                source,
                header,
                "destination_code",
                "destination_name",
                lambda c, n: (
                    None
                    if by_name.get(n) is None or codes.same_destination(c, by_name[n] or "")
                    else f"代码 {c} 是“{codes.destination_name(c)}”，名称却是“{n}”"
                    f"（{by_name[n]} {codes.destination_name(by_name[n] or '')}）"
                ),
            )
            unnamed = sorted({n for n, c in by_name.items() if c is None})
            if unnamed:
                notes.append("毕业去向名称未收录，以代码为准：" + "、".join(unnamed[:20]))
            frame = frame.with_columns(pl.coalesce("destination_code", "_name_code").alias("destination_code"))
        else:
            unknown = frame.filter(pl.col("destination_name").is_not_null() & pl.col("_name_code").is_null())
            errors += [
                RowError(
                    source.file_name,
                    r[sources.ROW],
                    header("destination_name"),
                    r["destination_name"],
                    "不是已知的毕业去向名称；请在文件中加上毕业去向代码（如 10、271、512、801）",
                )
                for r in unknown.iter_rows(named=True)
            ]
            frame = frame.with_columns(pl.col("_name_code").alias("destination_code"))
        frame = frame.drop("_name_code")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("destination_name"))
    missing = frame.filter(pl.col("destination_code").is_null() & ~pl.col(sources.ROW).is_in([e.row for e in errors]))
    column = header("destination_code") if "destination_code" in source.headers else header("destination_name")
    errors += [
        RowError(source.file_name, row, column, "", "毕业去向代码和毕业去向不能都为空") for row in missing[sources.ROW]
    ]
    unlisted = sorted(
        {c for c in frame["destination_code"].drop_nulls().unique().to_list() if c not in codes.DESTINATIONS}
    )
    if unlisted:
        notes.append(
            "未收录的毕业去向细类代码按其大类计入落实率："
            + "、".join(
                f"{c} → {codes.destination_class(c)} {codes.destination_name(codes.destination_class(c) or '')}"
                for c in unlisted
            )
        )
    if "destination_name" in frame.columns:  # store the table's own name where the file gave none
        frame = frame.with_columns(
            pl.col("destination_name").fill_null(
                pl.col("destination_code").replace_strict(
                    {c: n for c, (n, _) in codes.DESTINATIONS.items()}, default=None, return_dtype=pl.String
                )
            )
        )
    errors += _pair(frame, source, header, "employer_location_code", "employer_location", divisions.code_name_mismatch)
    if "employer_location_code" in frame.columns:
        named = {
            c: divisions.address_text(*divisions.names_of_code(c))
            for c in frame["employer_location_code"].drop_nulls().unique()
        }
        fill = pl.col("employer_location_code").replace_strict(named, default=None, return_dtype=pl.String)
        frame = frame.with_columns(
            (pl.coalesce("employer_location", fill) if "employer_location" in frame.columns else fill).alias(
                "employer_location"
            )
        ).drop("employer_location_code")
    return frame, errors


def _registration_rule(
    frame: pl.DataFrame, source: sources.Source, header: Callable[[str], str], notes: list[str]
) -> tuple[pl.DataFrame, list[RowError]]:
    return _combine_address(frame), []


_RULES: dict[str, Rule] = {
    "roster": _roster_rule,
    "destinations": _destination_rule,
    "registrations": _registration_rule,
}


# --- applying to the store ---------------------------------------------------------------


@dataclass
class Context:
    """What an apply step needs: the writer, the file and what it has, and the result to fill."""

    writer: Writer
    batch_id: int
    cohort: int | None
    source: sources.Source
    checked: Checked
    result: ImportResult
    say: Progress

    @property
    def file_name(self) -> str:
        return self.source.file_name

    def header(self, name: str) -> str:
        return self.source.headers.get(name) or columns.LAYOUTS[self.result.kind].by_key[name].label


def _cohort(writer: Writer, cohort: int | None) -> dict[str, Any]:
    if cohort is None:
        latest = writer.one("latest_cohort")
        cohort = latest["cohort"] if latest else None
    campaign = writer.one("campaign", cohort=cohort) if cohort is not None else None
    if campaign is None:
        raise StoreError(
            "库中还没有这一届的登记工作。请先在“届别设置”页（或 dangan campaign set --cohort 2024 "
            "--deadline 2024-06-17 …）设置，或用 dangan demo 生成演示库。"
        )
    return campaign


def _numeric_ids(ctx: Context, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[RowError]]:
    """A 学号 cell stored as a number may have lost its leading zeros (0299000001 → 299000001):
    refused when it is shorter than the file's own text 学号, or than the roster's, naming the
    roster's 学号 it could have been. A whole number as long as the others is kept: real
    exports carry numeric 学号 too."""
    numeric_rows = ctx.source.numeric.get("student_id") or set()
    if not numeric_rows or frame.height == 0:
        return frame, []
    ids = frame.select(
        sources.ROW,
        "student_id",
        pl.col("student_id").str.len_chars().alias("_len"),
        pl.col(sources.ROW).is_in(list(numeric_rows)).alias("_numeric"),
    )
    text_width = ids.filter(~pl.col("_numeric"))["_len"].min()
    stored = ctx.writer.one("student_id_widths") or {}
    widths = [int(w) for w in (text_width, stored.get("shortest")) if isinstance(w, int) and w]
    if not widths:
        return frame, []
    width = min(widths)
    short = ids.filter(pl.col("_numeric") & (pl.col("_len") < width))
    if short.height == 0:
        return frame, []
    padded = short.with_columns(pl.col("student_id").str.zfill(width).alias("student_id"))
    known = set(
        ctx.writer.query("import_graduates_for", frames={"incoming": padded.select("student_id")})["student_id"]
    )
    errors = []
    for row, value in short.select(sources.ROW, "student_id").iter_rows():
        guess = value.zfill(width)
        hint = f"名单中有学号 {guess}" if guess in known else f"补足前导 0 应为 {guess}"
        errors.append(
            RowError(
                ctx.file_name,
                row,
                ctx.header("student_id"),
                value,
                f"学号是数值单元格，只有 {len(value)} 位，比其他学号（{width} 位）短，前导 0 可能已被 Excel 去掉"
                f"（{hint}）；请把学号列设为文本后重新导出",
            )
        )
    return frame.filter(~pl.col(sources.ROW).is_in(short[sources.ROW].to_list())), errors


def _roster_matches(ctx: Context, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[RowError]]:
    """Rows whose 学号 and 姓名 match a roster graduate, joined with that graduate."""
    roster = ctx.writer.query("import_roster_matches_for", frames={"incoming": frame.select("student_id")})
    joined = frame.join(
        roster.select(
            "student_id", pl.col("name").alias("graduate_name"), pl.col("phone").alias("graduate_phone"), "origin_code"
        ),
        on="student_id",
        how="left",
    )
    errors = [
        RowError(
            ctx.file_name,
            r[sources.ROW],
            ctx.header("student_id"),
            r["student_id"],
            "名单中没有这个学号，请先导入毕业生名单",
        )
        for r in joined.filter(pl.col("graduate_name").is_null()).iter_rows(named=True)
    ] + [
        RowError(
            ctx.file_name,
            r[sources.ROW],
            ctx.header("name"),
            r["name"],
            f"姓名与名单不符（名单中该学号为 {r['graduate_name']}）",
        )
        for r in joined.filter(
            pl.col("graduate_name").is_not_null() & (pl.col("name") != pl.col("graduate_name"))
        ).iter_rows(named=True)
    ]
    matched = joined.filter(pl.col("graduate_name").is_not_null() & (pl.col("name") == pl.col("graduate_name")))
    return matched, errors


# The roster's fields, in the store's order (graduates table), that a file may carry.
ROSTER_FIELDS = [
    "name",
    "gender",
    "id_number",
    "college_name",
    "major",
    "class_name",
    "advisor",
    "education_level",
    "graduation_date",
    "origin_code",
    "origin_name",
    "is_hukou_at_school",
    "phone",
]
_ROSTER_TYPES = {"graduation_date": pl.Date, "is_hukou_at_school": pl.Boolean}


def _apply_roster(ctx: Context, frame: pl.DataFrame) -> list[RowError]:
    writer, result = ctx.writer, ctx.result
    campaign = _cohort(writer, ctx.cohort)
    result.cohort = campaign["cohort"]
    frame, errors = _numeric_ids(ctx, frame)
    existing = writer.query("import_graduates_for", frames={"incoming": frame.select("student_id")})
    incoming = frame.drop(sources.ROW).with_columns(pl.lit(campaign["cohort"]).cast(pl.Int32).alias("cohort"))
    given = [c for c in ROSTER_FIELDS if c in incoming.columns]
    compared = incoming.join(
        existing.select("student_id", *[pl.col(c).alias(f"{c}__old") for c in [*ROSTER_FIELDS, "cohort"]]),
        on="student_id",
        how="left",
    )
    is_new = pl.col("cohort__old").is_null()
    # A field the file has no column for keeps what the store holds (a graduate already there),
    # or starts empty (a new one; graduation_date from the campaign).
    compared = compared.with_columns(
        pl.col(f"{c}__old").alias(c) for c in ROSTER_FIELDS if c not in given
    ).with_columns(
        pl.when(is_new)
        .then(pl.lit(campaign["default_graduation_date"]))
        .otherwise(pl.col("graduation_date"))
        .alias("graduation_date")
        if "graduation_date" not in given
        else pl.col("graduation_date").fill_null(pl.lit(campaign["default_graduation_date"])),
    )
    fields = [*ROSTER_FIELDS, "cohort"]
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}__old").cast(compared.schema[c])) for c in fields])
    result.inserted = compared.filter(is_new).height
    result.unchanged = compared.filter(~is_new & same).height
    result.updated = compared.height - result.inserted - result.unchanged
    changed = compared.filter(is_new | ~same).select(
        "student_id",
        *[pl.col(c).cast(_ROSTER_TYPES.get(c, pl.String)) if c in _ROSTER_TYPES else pl.col(c) for c in fields],
        pl.lit(ctx.batch_id).alias("batch_id"),
        pl.lit(writer.now()).alias("updated_at"),
    )
    if "is_hukou_at_school" not in given and result.inserted:
        result.warnings.append(f"{result.inserted:,} 名新毕业生的户口记为“未知”（文件没有户口是否迁入学校列）")
    ctx.say("写入", 0, 1)
    writer.execute("insert_new_colleges", frames={"incoming": incoming.select("college_name")})
    if changed.height:
        writer.execute("upsert_graduates", frames={"incoming": changed})
    ctx.say("写入", 1, 1)
    return errors


def _apply_destinations(ctx: Context, frame: pl.DataFrame) -> list[RowError]:
    writer, result = ctx.writer, ctx.result
    frame, errors = _numeric_ids(ctx, frame)
    matched, more = _roster_matches(ctx, frame)
    errors += more
    current = writer.query("import_current_destinations_for", frames={"incoming": matched.select("student_id")})
    fields = ["destination_code", "employer_name", "employer_location"]
    compared = matched.join(
        current.select("student_id", *[pl.col(c).alias(f"{c}__old") for c in [*fields, "destination_name"]]),
        on="student_id",
        how="left",
    )
    # Absent columns keep the current record's values (a file of codes only keeps the units).
    compared = compared.with_columns(pl.col(f"{c}__old").alias(c) for c in fields[1:] if c not in matched.columns)
    if "destination_name" not in ctx.checked.present:
        compared = compared.with_columns(
            pl.coalesce(
                pl.when(pl.col("destination_code") == pl.col("destination_code__old")).then(
                    pl.col("destination_name__old")
                ),
                pl.col("destination_name"),
            ).alias("destination_name")
        )
    is_new = pl.col("destination_code__old").is_null()
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}__old")) for c in fields])
    changed = compared.filter(is_new | ~same)
    result.inserted = compared.filter(is_new).height
    result.updated = changed.height - result.inserted
    result.unchanged = compared.height - changed.height
    ctx.say("写入", 0, 1)
    writer.insert(
        "destinations",
        changed.select(
            pl.Series("destination_id", writer.next_ids("destination_ids", changed.height)),
            "student_id",
            *fields,
            "destination_name",
            pl.lit(writer.now()).alias("recorded_at"),
            pl.lit(ctx.batch_id).alias("batch_id"),
        ),
    )
    ctx.say("写入", 1, 1)
    return errors


# Registration fields a file may lack: a graduate already registered keeps the current
# revision's value; a first registration starts with the default.
_CARRIED = {"note": "", "proof_count": 0, "transfer_number": ""}


def _apply_registrations(ctx: Context, frame: pl.DataFrame) -> list[RowError]:
    writer, result = ctx.writer, ctx.result
    frame, errors = _numeric_ids(ctx, frame)
    matched, more = _roster_matches(ctx, frame)
    errors += more
    has_time = "submitted_at" in ctx.checked.present
    as_of_end = datetime.combine(writer.today + timedelta(days=1), datetime.min.time())
    if has_time:
        future = matched.filter(pl.col("submitted_at") >= as_of_end)
        errors += [
            RowError(
                ctx.file_name,
                r[sources.ROW],
                ctx.header("submitted_at"),
                str(r["submitted_at"]),
                f"提交时间晚于今天（{writer.today:%Y-%m-%d}）",
            )
            for r in future.iter_rows(named=True)
        ]
        matched = matched.filter(pl.col("submitted_at") < as_of_end)
    for name in ("review_status", "return_reason", "is_confirmed", "confirmed_at"):
        if name not in matched.columns:
            matched = matched.with_columns(
                pl.lit(
                    None,
                    dtype=pl.Datetime("us")
                    if name == "confirmed_at"
                    else pl.Boolean
                    if name == "is_confirmed"
                    else pl.String,
                ).alias(name)
            )
    content = submissions.REGISTRATION_CONTENT
    current = writer.query("import_current_registrations_for", frames={"incoming": matched.select("student_id")})
    compared = matched.join(
        current.select(
            "student_id",
            "registration_id",
            "revision_no",
            "status",
            pl.col("submitted_at").alias("submitted_at__old"),
            *[pl.col(c).alias(f"{c}__old") for c in content],
        ),
        on="student_id",
        how="left",
    )
    compared = compared.with_columns(
        pl.coalesce(pl.col(f"{c}__old"), pl.lit(default)).alias(c)
        for c, default in _CARRIED.items()
        if c not in matched.columns
    )
    if not has_time:
        compared = compared.with_columns(pl.lit(writer.now()).alias("submitted_at"))
    is_first = pl.col("registration_id").is_null()
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}__old")) for c in content])
    if has_time:
        newer = pl.col("submitted_at") > pl.col("submitted_at__old")
        is_revision = ~is_first & (newer | (~same & (pl.col("submitted_at") == pl.col("submitted_at__old"))))
    else:  # no times in the file: what differs from the current revision is a new one
        is_revision = ~is_first & ~same
    compared = compared.with_columns(is_first.alias("is_first"), is_revision.alias("is_revision"))

    ctx.say("写入", 0, 2)
    fresh = submissions.add_revisions(
        writer, compared.filter(pl.col("is_first") | pl.col("is_revision")), source="import", batch_id=ctx.batch_id
    )
    ctx.say("写入", 1, 2)
    result.inserted = fresh.filter(pl.col("is_first")).height
    result.updated = fresh.height - result.inserted
    result.unchanged = compared.height - fresh.height
    stale = compared.filter(~pl.col("is_first") & ~pl.col("is_revision") & ~same).height
    if stale:
        result.warnings.append(f"{stale} 行比库中现有登记更旧（提交时间更早且内容不同），已忽略")

    # Review outcomes carried by the export become reviews of the revision they describe.
    target_status = pl.col("review_status").replace(workflow.RETURNED_BY_SCHOOL, workflow.RETURNED)
    targets = pl.concat(
        [
            fresh.select(
                "student_id",
                pl.col("new_registration_id").alias("registration_id"),
                pl.lit(workflow.PENDING_COLLEGE).alias("status"),
                "submitted_at",
                "review_status",
                "return_reason",
                sources.ROW,
            ),
            compared.filter(~pl.col("is_first") & ~pl.col("is_revision")).select(
                "student_id", "registration_id", "status", "submitted_at", "review_status", "return_reason", sources.ROW
            ),
        ]
    ).filter(pl.col("review_status").is_not_null() & (target_status != pl.col("status")))
    steps = _review_steps(targets.select("status", "review_status", "return_reason").unique(), result)
    reviews = targets.join(steps, on=["status", "review_status", "return_reason"], how="inner", nulls_equal=True)
    now = writer.now()
    writer.insert(
        "reviews",
        reviews.select(
            pl.Series("review_id", writer.next_ids("review_ids", reviews.height)),
            "registration_id",
            "level",
            "decision",
            pl.col("reason"),
            pl.lit(IMPORT_REVIEWER).alias("reviewer"),
            pl.max_horizontal(pl.lit(now), pl.col("submitted_at")).alias("decided_at"),
            pl.lit(ctx.batch_id).alias("batch_id"),
        ),
    )
    refused_moves = targets.join(steps, on=["status", "review_status", "return_reason"], how="anti", nulls_equal=True)
    labels = workflow.STATUS_LABELS | {workflow.RETURNED_BY_SCHOOL: "已退回（学校）"}
    # One line per move, not per row: a re-imported export can hold tens of thousands of them.
    moves = (
        refused_moves.group_by("status", "review_status")
        .agg(pl.col(sources.ROW).sort().head(SHOWN_ROWS).alias("rows"), pl.len().alias("count"))
        .sort(pl.col("rows").list.first())
    )
    for status, target, shown, count in moves.select("status", "review_status", "rows", "count").iter_rows():
        beyond = f"等，共 {count:,} 行" if count > len(shown) else ""
        result.warnings.append(
            f"第 {'、'.join(map(str, shown))} 行{beyond}：审核状态不能从“{labels[status]}”变为“{labels[target]}”，"
            "库中状态保持不变"
        )

    # 已确认 in the export becomes a confirmation of what is current, if it is approved: the
    # national system's record, kept as it holds it.
    wants = matched.filter(pl.col("is_confirmed").eq_missing(True))
    if wants.height:
        approved = writer.query("import_approved_for", frames={"incoming": wants.select("student_id")})
        confirm = approved.filter(~pl.col("is_confirmed")).join(
            wants.select("student_id", "confirmed_at"), on="student_id"
        )
        not_approved = wants.height - approved.height
        if not_approved:
            result.warnings.append(f"{not_approved} 行确认状态为已确认，但登记尚未通过学校审核，未记录确认")
        writer.insert(
            "confirmations",
            confirm.select(
                pl.Series("confirmation_id", writer.next_ids("confirmation_ids", confirm.height)),
                "student_id",
                pl.lit("confirmed").alias("answer"),
                pl.col("confirmed_at").fill_null(now).alias("confirmed_at"),
                "registration_id",
                "destination_id",
                "hukou_id",
                pl.lit(ctx.batch_id).alias("batch_id"),
            ),
        )
    ctx.say("写入", 2, 2)
    return errors


def _review_steps(moves: pl.DataFrame, result: ImportResult) -> pl.DataFrame:
    """For each distinct (status, target, reason), the reviews that make that move."""
    steps: list[dict[str, Any]] = []
    for status, target, reason in moves.iter_rows():
        try:
            path = workflow.decisions_to_reach(status, target, reason or "")
        except workflow.WorkflowError:
            continue
        steps += [
            {
                "status": status,
                "review_status": target,
                "return_reason": reason,
                "level": d.level,
                "decision": d.decision,
                "reason": d.reason or None,
            }
            for d in path
        ]
    return pl.DataFrame(
        steps,
        schema={
            "status": pl.String,
            "review_status": pl.String,
            "return_reason": pl.String,
            "level": pl.String,
            "decision": pl.String,
            "reason": pl.String,
        },
    )


_APPLY = {"roster": _apply_roster, "destinations": _apply_destinations, "registrations": _apply_registrations}


# --- refusals in files -------------------------------------------------------------------


def refusal_table(errors: list[RowError]) -> pl.DataFrame:
    """The refusals as a table a person works through: row, column, value, reason."""
    return pl.DataFrame(
        {
            "行号": [e.row for e in errors],
            "列": [e.column for e in errors],
            "值": [e.value for e in errors],
            "原因": [e.reason for e in errors],
        },
        schema={"行号": pl.Int64, "列": pl.String, "值": pl.String, "原因": pl.String},
    )


def _write_refused(path: Path, source: sources.Source, errors: list[RowError]) -> None:
    """The refused rows as they were in the file, with their reasons first; every cell
    guarded so that a spreadsheet shows `=HYPERLINK(…)` as text, never runs it."""
    reasons: dict[int, list[str]] = {}
    for e in errors:
        if e.row is not None:
            reasons.setdefault(e.row, []).append(f"{e.column}：{e.reason}")
    refused = source.frame.filter(pl.col(sources.ROW).is_in(list(reasons)))
    headers = [source.headers[c] for c in refused.columns if c != sources.ROW]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["行号", "拒绝原因", *headers])
        for record in refused.iter_rows():
            out.writerow(
                [
                    record[0],
                    text.guard_formula("；".join(reasons[record[0]])),
                    *(text.guard_formula(v) if v is not None else "" for v in record[1:]),
                ]
            )


# --- the import --------------------------------------------------------------------------

# The 导入 page previews a file, then imports the same upload: the preview's reading and
# validation (all that depends on the file alone) are kept for that import, which then only
# checks against the store and writes. One file at a time, keyed by its sha256, its name (the
# messages name it), its kind and the reading limits, taken by the import that uses it; a file of more rows than this is read
# again instead (its frames would hold too much of a server's memory between the two clicks).
PREVIEW_KEEP_ROWS = 300_000
_PreviewKey = tuple[str, str, str, sources.Limits]
_PREVIEWED: dict[_PreviewKey, tuple[sources.Source, Checked]] = {}
_PREVIEWED_LOCK = threading.Lock()


def _previewed(key: _PreviewKey, *, take: bool) -> tuple[sources.Source, Checked] | None:
    with _PREVIEWED_LOCK:
        return _PREVIEWED.pop(key, None) if take else _PREVIEWED.get(key)


def _keep_preview(key: _PreviewKey, source: sources.Source, checked: Checked) -> None:
    with _PREVIEWED_LOCK:
        _PREVIEWED.clear()
        if source.frame.height <= PREVIEW_KEEP_ROWS:
            _PREVIEWED[key] = (source, checked)


def forget_previews() -> None:
    """Drop the kept preview (the next import reads its file again)."""
    with _PREVIEWED_LOCK:
        _PREVIEWED.clear()


def import_file(
    store: Store,
    actor: Actor,
    kind_key: str,
    path: str | Path,
    *,
    skip_invalid: bool = False,
    cohort: int | None = None,
    refused_path: str | Path | None = None,
    progress: Progress | None = None,
    refresh_stages: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    """Import one file of `kind_key` (roster, destinations, registrations) into the store, or
    with `dry_run` show what importing it would do (column mapping, counts, refusals) and
    write nothing. A refused import is audited (file, sha256, reason) unless it was a dry run."""
    kind = KINDS[kind_key]
    path = Path(path)
    action = f"import:{kind_key}"
    access.require(store, actor, roles.IMPORTERS, action, path.name, "只有就业处管理员可以导入数据")
    say = progress or (lambda *_: None)
    say("读取", 0, 1)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
    except OSError as exc:
        raise ImportRefused([RowError(path.name, None, "", "", f"无法读取文件 {path.name}：{exc.strerror}")]) from None

    def refuse(errors: list[RowError], result: ImportResult | None = None) -> ImportRefused:
        if not dry_run:
            store.record(
                actor,
                action,
                path.name,
                {
                    "outcome": "refused",
                    "sha256": digest,
                    "errors": len(errors),
                    "reasons": [str(e) for e in sorted(errors, key=lambda e: (e.row or 0, e.column))[:20]],
                },
            )
        return ImportRefused(errors, result)

    limits = sources.Limits.from_env()
    key = (digest, path.name, kind_key, limits)
    kept = _previewed(key, take=not dry_run) if digest else None
    if kept is None:
        try:
            source = sources.read_source(path, kind.layout, limits)
        except sources.SourceError as exc:
            raise refuse([RowError(path.name, None, "", "", str(exc))]) from None
        say("读取", 1, 1)
        checked = validate(source, kind, say)
        if dry_run and digest:
            _keep_preview(key, source, checked)
    else:  # the preview of this very file read and validated it a moment ago
        source, checked = kept
        say("读取", 1, 1)
        say("校验", 1, 1)
    base = ImportResult(
        kind_key,
        path.name,
        None,
        rows_read=source.frame.height,
        sheet=source.sheet,
        mapping=[(source.headers[k], kind.layout.by_key[k].label) for k in source.headers],
        ignored=source.ignored,
        dry_run=dry_run,
        warnings=[*source.notes, *checked.notes],
    )

    def work(writer: Writer) -> ImportResult:
        # Even with invalid rows, the store checks still run (in a transaction that is then
        # rolled back), so that one refusal lists every problem of the file.
        started = datetime.now()
        say("比对库中数据", 0, 1)
        batch_id = int(writer.next_ids("batch_ids", 1)[0])
        result = ImportResult(**{**base.__dict__, "batch_id": batch_id, "warnings": list(base.warnings)})
        ctx = Context(writer, batch_id, cohort, source, checked, result, say)
        store_errors = _APPLY[kind_key](ctx, checked.frame)
        all_errors = sorted(checked.errors + store_errors, key=lambda e: (e.row or 0, e.column))
        result.errors = all_errors
        result.refused = len({e.row for e in all_errors})
        if all_errors and not skip_invalid and not dry_run:
            raise ImportRefused(all_errors, result)
        writer.insert(
            "import_batches",
            pl.DataFrame(
                [
                    {
                        "batch_id": batch_id,
                        "kind": kind_key,
                        "file_name": path.name,
                        "file_sha256": digest,
                        "cohort": result.cohort,
                        "rows_read": result.rows_read,
                        "rows_inserted": result.inserted,
                        "rows_updated": result.updated,
                        "rows_unchanged": result.unchanged,
                        "rows_refused": result.refused,
                        "actor": writer.actor.name,
                        "started_at": started,
                        "finished_at": datetime.now(),
                    }
                ],
                schema_overrides={"cohort": pl.Int32},
            ),
        )
        writer.audit_target = path.name
        writer.audit_detail = {
            "batch_id": batch_id,
            "sha256": digest,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "refused": result.refused,
            "sheet": source.sheet,
            "ignored": source.ignored[:50],
        }
        return result

    if dry_run:
        result = store.rehearse(actor, work)
        result.batch_id = None
        return result
    say("写入数据库", 0, 1)
    try:
        result = store.transaction(actor, action, work, refresh_stages=refresh_stages)
    except ImportRefused as exc:
        raise refuse(exc.errors, exc.result) from None
    say("写入数据库", 1, 1)
    if result.errors:
        out = Path(refused_path) if refused_path else path.with_name(f"{path.stem}.refused.csv")
        _write_refused(out, source, result.errors)
        result.refused_file = out
    return result
