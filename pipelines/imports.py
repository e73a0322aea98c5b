"""Import pipelines: roster (毕业生名单), destinations (毕业去向) and registrations (档案信息登记).

A file is read (`sources`), every row validated (`rows`), checked against the store, and
written in ONE transaction recorded as an import batch. By default any invalid row refuses the
whole file and nothing is written; `skip_invalid` imports the valid rows and writes the refused
ones, with reasons, to a CSV file. Re-importing a file changes no data; a newer export adds new
revisions for what changed.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from pipelines import access, divisions, rows, sources, submissions, text, workflow
from pipelines.store import Actor, Store, StoreError, Writer

Progress = Callable[[str], None]
IMPORT_REVIEWER = "全国系统导入"


# --- the three kinds of file -------------------------------------------------------------

ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "student_id": ("学号", "学生学号", "student_id"),
    "name": ("姓名", "学生姓名", "name"),
    "gender": ("性别",),
    "id_number": ("身份证号", "身份证号码", "证件号码", "身份证"),
    "college_name": ("学院", "院系", "所在院系", "学院名称", "二级学院"),
    "major": ("专业", "专业名称"),
    "class_name": ("班级", "班级名称", "行政班"),
    "education_level": ("学历层次", "学历", "培养层次"),
    "graduation_date": ("毕业时间", "毕业日期", "预计毕业时间"),
    "origin_code": ("生源地代码", "生源所在地代码"),
    "origin_name": ("生源地", "生源所在地", "生源地名称"),
    "is_hukou_at_school": ("户口是否迁入学校", "户口迁入学校", "是否迁户口", "户口是否迁入"),
    "phone": ("手机号码", "手机号", "手机", "联系电话"),
    "advisor": ("班主任", "辅导员"),
}
DESTINATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "student_id": ROSTER_COLUMNS["student_id"],
    "name": ROSTER_COLUMNS["name"],
    "destination_code": ("毕业去向代码", "去向代码"),
    "destination_name": ("毕业去向", "去向", "毕业去向名称"),
    "employer_name": ("单位名称", "就业单位", "升学院校", "单位/学校名称"),
    "employer_location": ("单位所在地", "单位所在地区", "单位地址"),
}
REGISTRATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "student_id": ROSTER_COLUMNS["student_id"],
    "name": ROSTER_COLUMNS["name"],
    "transfer_type": ("档案转递类型", "转递类型"),
    "unit_name": ("档案转递单位名称", "转递单位名称", "档案接收单位", "接收单位名称"),
    "address": ("档案转递单位地址", "转递单位地址", "档案转递单位所在地", "单位地址（省市区）"),
    "province": ("省", "省份", "所在省"),
    "city": ("市", "城市", "所在市"),
    "district": ("区", "区县", "县区", "所在区县"),
    "address_detail": ("详细地址", "档案转递单位详细地址", "街道门牌"),
    "postcode": ("档案转递单位邮编", "邮编", "邮政编码"),
    "contact": ("档案转递联系人/联系部门", "档案转递联系人", "联系人/联系部门", "联系人", "联系部门"),
    "phone": ("档案转递联系电话", "联系电话", "电话"),
    "note": ("情况说明", "说明", "备注"),
    "proof_count": ("证明材料数", "图像材料数", "证明材料", "材料数"),
    "submitted_at": ("提交时间", "登记时间", "填报时间"),
    "review_status": ("审核状态",),
    "return_reason": ("退回原因", "审核意见"),
    "is_confirmed": ("确认状态", "去向确认状态"),
    "confirmed_at": ("确认时间",),
}
@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    model: type[BaseModel]


KINDS = {
    "roster": Kind("roster", "毕业生名单", ROSTER_COLUMNS, ("student_id", "name", "college_name"), rows.RosterRow),
    "destinations": Kind("destinations", "毕业去向", DESTINATION_COLUMNS, ("student_id", "name"), rows.DestinationRow),
    "registrations": Kind(
        "registrations", "档案信息登记", REGISTRATION_COLUMNS,
        ("student_id", "name", "transfer_type", "submitted_at"), rows.RegistrationRow,
    ),
}


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

    def __init__(self, errors: list[RowError]):
        self.errors = errors = sorted(errors, key=lambda e: (e.row or 0, e.column))
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ……另有 {len(errors) - 50} 处错误" if len(errors) > 50 else ""
        super().__init__(f"导入被拒绝，未写入任何数据。共 {len(errors)} 处错误：\n{shown}{more}")


@dataclass
class ImportResult:
    kind: str
    file: str
    batch_id: int
    rows_read: int
    cohort: int | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    refused_file: Path | None = None

    def summary(self) -> str:
        line = (
            f"{self.file}：读取 {self.rows_read} 行，新增 {self.inserted}，更新 {self.updated}，"
            f"未变 {self.unchanged}，拒绝 {self.refused}（批次 {self.batch_id}）"
        )
        if self.refused_file:
            line += f"\n被拒绝的行及原因已写入 {self.refused_file}"
        return line


# --- validation --------------------------------------------------------------------------


def _clean_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`text.clean` for every text column at once: full-width digits and letters, invisible
    characters, runs of spaces, and the formula guard our CSV exports add; an empty cell
    becomes null."""
    text_columns = [c for c in frame.columns if c != sources.ROW]
    return frame.with_columns(
        pl.col(c)
        .str.replace_many(text.FULL_WIDTH, text.ASCII_FORMS)
        # a spreadsheet guard ('=…, '+…, '-…, '@…) that an export added (exports.guard_cell)
        .str.replace(r"^'([=+\-@])", "$1")
        .str.replace_all(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00a0\u3000]+", " ")
        .str.strip_chars()
        for c in text_columns
    ).with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in text_columns)


def _combine_address(frame: pl.DataFrame) -> pl.DataFrame:
    """A single 省市区 column fills province/city/district (and an empty 详细地址)."""
    addresses = [a for a in frame["address"].unique().to_list() if a]
    parts = pl.DataFrame(
        [dict(zip(("_p", "_c", "_d", "_rest"), divisions.split_address(a), strict=True), address=a) for a in addresses],
        schema={"_p": pl.String, "_c": pl.String, "_d": pl.String, "_rest": pl.String, "address": pl.String},
    )
    joined = frame.join(parts, on="address", how="left", maintain_order="left")
    from_combined = (pl.col("province") == "") & pl.col("_p").is_not_null()
    return joined.with_columns(
        pl.when(from_combined).then(pl.col("_p")).otherwise(pl.col("province")).alias("province"),
        pl.when(from_combined & (pl.col("city") == "")).then(pl.col("_c")).otherwise(pl.col("city")).alias("city"),
        pl.when(from_combined & (pl.col("district") == "")).then(pl.col("_d")).otherwise(pl.col("district")).alias("district"),
        pl.when((pl.col("address_detail") == "") & pl.col("_rest").is_not_null())
        .then(pl.col("_rest")).otherwise(pl.col("address_detail")).alias("address_detail"),
    ).drop("_p", "_c", "_d", "_rest", "address")


def validate(source: sources.Source, kind: Kind) -> tuple[pl.DataFrame, list[RowError]]:
    """The valid rows as a typed frame (with their row numbers), and the errors of the others."""
    frame = _clean_frame(source.frame)
    parsed, field_errors = rows.validate_frame(frame, kind.model, sources.ROW)

    def header(name: str) -> str:
        return source.headers.get(name) or kind.columns[name][0]

    errors = [RowError(source.file_name, row, header(name), value, message)
              for row, name, value, message in field_errors]
    if kind.key == "registrations":
        parsed = _combine_address(parsed)
    if kind.key == "destinations":
        parsed = parsed.with_columns(pl.coalesce("destination_code", "destination_name").alias("destination_code"))
        errors += [
            RowError(source.file_name, row, header("destination_code") if "destination_code" in source.headers
                     else header("destination_name"), "", "毕业去向代码和毕业去向不能都为空")
            for row in parsed.filter(pl.col("destination_code").is_null())[sources.ROW]
        ]
        parsed = parsed.drop("destination_name")
    refused = {e.row for e in errors}
    valid = parsed.filter(~pl.col(sources.ROW).is_in(list(refused)))
    duplicated = valid.filter(pl.col("student_id").is_duplicated()).with_columns(
        pl.col(sources.ROW).min().over("student_id").alias("_first"))
    errors += [
        RowError(source.file_name, row, header("student_id"), sid, f"学号与第 {first} 行重复")
        for row, sid, first in duplicated.select(sources.ROW, "student_id", "_first").iter_rows()
        if row != first
    ]
    refused = {e.row for e in errors}
    errors.sort(key=lambda e: (e.row or 0, e.column))
    return valid.filter(~pl.col(sources.ROW).is_in(list(refused))), errors


# --- applying to the store ---------------------------------------------------------------


def _cohort(writer: Writer, cohort: int | None) -> dict[str, Any]:
    if cohort is None:
        latest = writer.one("latest_cohort")
        cohort = latest["cohort"] if latest else None
    campaign = writer.one("campaign", cohort=cohort) if cohort is not None else None
    if campaign is None:
        raise StoreError(
            "库中还没有这一届的登记工作。请先运行 dangan campaign set --cohort 2024 "
            "--deadline 2024-06-17 …，或用 dangan demo 生成演示库。"
        )
    return campaign


def _roster_matches(writer: Writer, frame: pl.DataFrame, file_name: str, headers: dict[str, str]
                    ) -> tuple[pl.DataFrame, list[RowError]]:
    """Rows whose 学号 and 姓名 match a roster graduate, joined with that graduate."""
    roster = writer.query("import_graduates_for", frames={"incoming": frame.select("student_id")})
    joined = frame.join(
        roster.select("student_id", pl.col("name").alias("graduate_name"),
                      pl.col("phone").alias("graduate_phone"), "origin_code"),
        on="student_id", how="left",
    )
    errors = [
        RowError(file_name, r[sources.ROW], headers["student_id"], r["student_id"], "名单中没有这个学号，请先导入毕业生名单")
        for r in joined.filter(pl.col("graduate_name").is_null()).iter_rows(named=True)
    ] + [
        RowError(file_name, r[sources.ROW], headers["name"], r["name"], f"姓名与名单不符（名单中该学号为 {r['graduate_name']}）")
        for r in joined.filter(pl.col("graduate_name").is_not_null() & (pl.col("name") != pl.col("graduate_name"))).iter_rows(named=True)
    ]
    matched = joined.filter(pl.col("graduate_name").is_not_null() & (pl.col("name") == pl.col("graduate_name")))
    return matched, errors


def _apply_roster(writer: Writer, frame: pl.DataFrame, batch_id: int, cohort: int | None,
                  file_name: str, headers: dict[str, str], result: ImportResult) -> list[RowError]:
    campaign = _cohort(writer, cohort)
    result.cohort = campaign["cohort"]
    incoming = frame.drop(sources.ROW).with_columns(
        pl.lit(campaign["cohort"]).cast(pl.Int32).alias("cohort"),
        pl.col("graduation_date").fill_null(campaign["default_graduation_date"]),
    )
    fields = [c for c in incoming.columns if c != "student_id"]
    existing = writer.query("import_graduates_for", frames={"incoming": incoming.select("student_id")})
    compared = incoming.join(existing.select("student_id", *[pl.col(c).alias(f"{c}__old") for c in fields]),
                             on="student_id", how="left")
    is_new = pl.col("cohort__old").is_null()
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}__old").cast(incoming.schema[c])) for c in fields])
    result.inserted = compared.filter(is_new).height
    result.unchanged = compared.filter(~is_new & same).height
    result.updated = compared.height - result.inserted - result.unchanged
    changed = compared.filter(is_new | ~same).select(incoming.columns).with_columns(
        pl.lit(batch_id).alias("batch_id"), pl.lit(writer.now()).alias("updated_at"),
    )
    writer.execute("insert_new_colleges", frames={"incoming": incoming.select("college_name")})
    if changed.height:
        writer.execute("upsert_graduates", frames={"incoming": changed})
    return []


def _apply_destinations(writer: Writer, frame: pl.DataFrame, batch_id: int, cohort: int | None,
                        file_name: str, headers: dict[str, str], result: ImportResult) -> list[RowError]:
    matched, errors = _roster_matches(writer, frame, file_name, headers)
    current = writer.query("import_current_destinations_for", frames={"incoming": matched.select("student_id")})
    fields = ["destination_code", "employer_name", "employer_location"]
    compared = matched.join(current.select("student_id", *[pl.col(c).alias(f"{c}__old") for c in fields]),
                            on="student_id", how="left")
    is_new = pl.col("destination_code__old").is_null()
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}__old")) for c in fields])
    changed = compared.filter(is_new | ~same)
    result.inserted = compared.filter(is_new).height
    result.updated = changed.height - result.inserted
    result.unchanged = compared.height - changed.height
    writer.insert("destinations", changed.select(
        pl.Series("destination_id", writer.next_ids("destination_ids", changed.height)),
        "student_id", *fields,
        pl.lit(writer.now()).alias("recorded_at"), pl.lit(batch_id).alias("batch_id"),
    ))
    return errors


def _apply_registrations(writer: Writer, frame: pl.DataFrame, batch_id: int, cohort: int | None,
                         file_name: str, headers: dict[str, str], result: ImportResult) -> list[RowError]:
    matched, errors = _roster_matches(writer, frame, file_name, headers)
    as_of_end = datetime.combine(writer.today + timedelta(days=1), datetime.min.time())
    future = matched.filter(pl.col("submitted_at") >= as_of_end)
    errors += [
        RowError(file_name, r[sources.ROW], headers["submitted_at"], str(r["submitted_at"]),
                 f"提交时间晚于今天（{writer.today:%Y-%m-%d}）")
        for r in future.iter_rows(named=True)
    ]
    matched = matched.filter(pl.col("submitted_at") < as_of_end)
    current = writer.query("import_current_registrations_for", frames={"incoming": matched.select("student_id")})
    compared = matched.join(
        current.select("student_id", "registration_id", "revision_no", "status",
                       pl.col("submitted_at").alias("submitted_at__old"),
                       *[pl.col(c).alias(f"{c}__old") for c in submissions.REGISTRATION_CONTENT]),
        on="student_id", how="left",
    )
    is_first = pl.col("registration_id").is_null()
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}__old")) for c in submissions.REGISTRATION_CONTENT])
    newer = pl.col("submitted_at") > pl.col("submitted_at__old")
    is_revision = ~is_first & (newer | (~same & (pl.col("submitted_at") == pl.col("submitted_at__old"))))
    compared = compared.with_columns(is_first.alias("is_first"), is_revision.alias("is_revision"))

    fresh = submissions.add_revisions(writer, compared.filter(pl.col("is_first") | pl.col("is_revision")),
                                      source="import", batch_id=batch_id)
    result.inserted = fresh.filter(pl.col("is_first")).height
    result.updated = fresh.height - result.inserted
    result.unchanged = compared.height - fresh.height
    stale = compared.filter(~pl.col("is_first") & ~pl.col("is_revision") & ~same).height
    if stale:
        result.warnings.append(f"{stale} 行比库中现有登记更旧（提交时间更早且内容不同），已忽略")

    # Review outcomes carried by the export become reviews of the revision they describe.
    targets = pl.concat([
        fresh.select("student_id", pl.col("new_registration_id").alias("registration_id"),
                     pl.lit(workflow.PENDING_COLLEGE).alias("status"), "submitted_at",
                     "review_status", "return_reason", sources.ROW),
        compared.filter(~pl.col("is_first") & ~pl.col("is_revision")).select(
            "student_id", "registration_id", "status", "submitted_at",
            "review_status", "return_reason", sources.ROW),
    ]).filter(pl.col("review_status").is_not_null() & (pl.col("review_status") != pl.col("status")))
    steps = _review_steps(targets.select("status", "review_status", "return_reason").unique(), result)
    reviews = targets.join(steps, on=["status", "review_status", "return_reason"], how="inner", nulls_equal=True)
    now = writer.now()
    writer.insert("reviews", reviews.select(
        pl.Series("review_id", writer.next_ids("review_ids", reviews.height)),
        "registration_id", "level", "decision", pl.col("reason"),
        pl.lit(IMPORT_REVIEWER).alias("reviewer"),
        pl.max_horizontal(pl.lit(now), pl.col("submitted_at")).alias("decided_at"),
        pl.lit(batch_id).alias("batch_id"),
    ))
    refused_moves = targets.join(steps, on=["status", "review_status", "return_reason"], how="anti", nulls_equal=True)
    for row, status, target in refused_moves.select(sources.ROW, "status", "review_status").iter_rows():
        result.warnings.append(
            f"第 {row} 行：审核状态不能从“{workflow.STATUS_LABELS[status]}”变为“{workflow.STATUS_LABELS[target]}”，库中状态保持不变")

    # 已确认 in the export becomes a confirmation of what is current, if it is approved.
    wants = matched.filter(pl.col("is_confirmed").eq_missing(True))
    if wants.height:
        confirmable = writer.query("import_confirmable", frames={"incoming": wants.select("student_id")})
        confirm = confirmable.join(wants.select("student_id", "confirmed_at"), on="student_id")
        not_approved = wants.height - writer.query(
            "import_confirmable_or_confirmed", frames={"incoming": wants.select("student_id")}).height
        if not_approved:
            result.warnings.append(f"{not_approved} 行确认状态为已确认，但登记尚未通过学校审核，未记录确认")
        writer.insert("confirmations", confirm.select(
            pl.Series("confirmation_id", writer.next_ids("confirmation_ids", confirm.height)),
            "student_id", pl.lit("confirmed").alias("answer"),
            pl.col("confirmed_at").fill_null(now).alias("confirmed_at"),
            "registration_id", "destination_id", "hukou_id", pl.lit(batch_id).alias("batch_id"),
        ))
    return errors


def _review_steps(moves: pl.DataFrame, result: ImportResult) -> pl.DataFrame:
    """For each distinct (status, target, reason), the reviews that make that move."""
    steps: list[dict[str, Any]] = []
    for status, target, reason in moves.iter_rows():
        try:
            path = workflow.decisions_to_reach(status, target, reason or "")
        except workflow.WorkflowError:
            continue
        steps += [{"status": status, "review_status": target, "return_reason": reason,
                   "level": d.level, "decision": d.decision, "reason": d.reason or None} for d in path]
    return pl.DataFrame(steps, schema={"status": pl.String, "review_status": pl.String, "return_reason": pl.String,
                                       "level": pl.String, "decision": pl.String, "reason": pl.String})


_APPLY = {"roster": _apply_roster, "destinations": _apply_destinations, "registrations": _apply_registrations}


def _write_refused(path: Path, source: sources.Source, errors: list[RowError]) -> None:
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
            out.writerow([record[0], "；".join(reasons[record[0]]), *record[1:]])


def import_file(store: Store, actor: Actor, kind_key: str, path: str | Path, *,
                skip_invalid: bool = False, cohort: int | None = None,
                refused_path: str | Path | None = None, progress: Progress | None = None,
                refresh_stages: bool = True) -> ImportResult:
    """Import one file of `kind_key` (roster, destinations, registrations) into the store."""
    kind = KINDS[kind_key]
    path = Path(path)
    access.require(store, actor, access.IMPORTERS, f"import:{kind_key}", path.name, "只有就业处管理员可以导入数据")
    say = progress or (lambda _msg: None)
    say(f"读取 {path.name} ……")
    try:
        source = sources.read_source(path, kind.columns, kind.required, kind.label)
    except sources.SourceError as exc:
        raise ImportRefused([RowError(path.name, None, "", "", str(exc))]) from None
    say(f"校验 {source.frame.height} 行 ……")
    frame, errors = validate(source, kind)
    # Even with invalid rows, the store checks still run (in a transaction that is then rolled
    # back), so that one refusal lists every problem of the file.
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    def work(writer: Writer) -> ImportResult:
        started = datetime.now()
        batch_id = int(writer.next_ids("batch_ids", 1)[0])
        result = ImportResult(kind_key, path.name, batch_id, rows_read=source.frame.height)
        store_errors = _APPLY[kind_key](writer, frame, batch_id, cohort, source.file_name, source.headers, result)
        all_errors = errors + store_errors
        if all_errors and not skip_invalid:
            raise ImportRefused(all_errors)
        result.errors = sorted(all_errors, key=lambda e: (e.row or 0, e.column))
        result.refused = len({e.row for e in all_errors})
        writer.insert("import_batches", pl.DataFrame([{
            "batch_id": batch_id, "kind": kind_key, "file_name": path.name, "file_sha256": digest,
            "cohort": result.cohort, "rows_read": result.rows_read, "rows_inserted": result.inserted,
            "rows_updated": result.updated, "rows_unchanged": result.unchanged,
            "rows_refused": result.refused, "actor": writer.actor.name,
            "started_at": started, "finished_at": datetime.now(),
        }], schema_overrides={"cohort": pl.Int32}))
        writer.audit_target = path.name
        writer.audit_detail = {"batch_id": batch_id, "sha256": digest, "inserted": result.inserted,
                               "updated": result.updated, "unchanged": result.unchanged, "refused": result.refused}
        return result

    say("写入数据库 ……")
    result = store.transaction(actor, f"import:{kind_key}", work, refresh_stages=refresh_stages)
    if result.errors:
        out = Path(refused_path) if refused_path else path.with_name(f"{path.stem}.refused.csv")
        _write_refused(out, source, result.errors)
        result.refused_file = out
    return result
