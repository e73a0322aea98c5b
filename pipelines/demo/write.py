"""Writing the demo campaign: each chunk of generated graduates, their forms, reviews,
confirmations and reports into the store, then the campaign's accounts and past snapshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

import numpy as np
import polars as pl

from pipelines import accounts, facts, statistics
from pipelines.demo import catalog
from pipelines.demo.generate import (
    CAMPAIGN,
    DEFAULT_AS_OF,
    ORIGINS,
    SOURCE,
    _build_catalog,
    _Catalog,
    _Chunk,
    _Clock,
    _Counters,
    _plan_chunk,
    _transfer_numbers,
)
from pipelines.store import SYSTEM, Store, StoreError, Writer

CHUNK_SIZE = 200_000  # graduates per transaction

# The generator's frames carry local keys (`_rkey`, `_ckey` …) beside the table's columns; the
# store inserts by name and refuses a column its table does not have.
_STORED = pl.exclude("^_.*$")


def _ids_for(ids: pl.Series, keys: pl.Series, name: str) -> pl.Series:
    """The store id of each local key (null stays null)."""
    return ids.gather(keys).alias(name)


def _write_chunk(w: Writer, chunk: _Chunk) -> dict[str, int]:
    """Give the chunk's rows their ids and write them: the graduates' own records as rows, the
    facts that have rules (reviews, confirmations, reports) through `facts.write`, which checks
    them with the product's rules first."""
    destination_ids = w.next_ids("destination_ids", chunk.destinations.height)
    registration_ids = w.next_ids("registration_ids", chunk.registrations.height)
    hukou_ids = w.next_ids("hukou_ids", chunk.hukou.height)
    confirmation_ids = w.next_ids("confirmation_ids", chunk.confirmations.height)
    registrations = chunk.registrations.with_columns(
        registration_ids.alias("registration_id"),
        _transfer_numbers(chunk.registrations["student_id"]).alias("transfer_number"),
    ).select(_STORED)
    written = {
        "graduates": w.insert("graduates", chunk.graduates.select(_STORED)),
        "destinations": w.insert(
            "destinations",
            chunk.destinations.with_columns(destination_ids.alias("destination_id")).select(_STORED),
        ),
        "registrations": w.insert("registrations", registrations),
        "hukou_registrations": w.insert(
            "hukou_registrations",
            chunk.hukou.with_columns(hukou_ids.alias("hukou_id")).select(_STORED),
        ),
    }
    written |= facts.write(
        w,
        facts.Facts(
            registrations=registrations.select("registration_id", "student_id", "submitted_at"),
            reviews=chunk.reviews.with_columns(
                w.next_ids("review_ids", chunk.reviews.height).alias("review_id"),
                _ids_for(registration_ids, chunk.reviews["_rkey"], "registration_id"),
            ).select(_STORED),
            confirmations=chunk.confirmations.with_columns(
                confirmation_ids.alias("confirmation_id"),
                _ids_for(registration_ids, chunk.confirmations["_rkey"], "registration_id"),
                _ids_for(destination_ids, chunk.confirmations["_dkey"], "destination_id"),
                _ids_for(hukou_ids, chunk.confirmations["_hkey"], "hukou_id"),
            ).select(_STORED),
            reports=chunk.reports.with_columns(
                w.next_ids("report_ids", chunk.reports.height).alias("report_id"),
                _ids_for(confirmation_ids, chunk.reports["_ckey"], "confirmation_id"),
            ).select(_STORED),
            graduation=chunk.graduates.select("student_id", "graduation_date"),
            default_graduation=CAMPAIGN["default_graduation_date"],
        ),
    )
    w.audit_detail = {"graduates": chunk.graduates.height, **written}
    return written


def _begin(w: Writer, cat: _Catalog, graduates: int, seed: int) -> int:
    """Refuse a store with data; write the campaign and colleges; reserve the batch id."""
    cohort = CAMPAIGN["cohort"]
    held = w.one("store_contents", cohort=cohort) or {}
    existing, campaigns = held.get("graduates", 0), held.get("campaigns", 0)
    if existing:
        raise StoreError(
            f"库中已有数据（{existing} 名毕业生），不能再生成演示数据。"
            "请指定一个新的数据库文件，或先备份并删除现有数据库文件。"
        )
    if campaigns:
        raise StoreError(f"库中已有数据（{cohort}届登记工作已存在），不能再生成演示数据。请指定一个新的数据库文件。")
    w.insert("campaigns", pl.DataFrame([CAMPAIGN]))
    w.insert("colleges", cat.colleges)
    w.audit_target = f"{cohort}届"
    w.audit_detail = {"graduates": graduates, "seed": seed}
    return int(w.next_ids("batch_ids", 1)[0])


def _finish(w: Writer, batch_id: int, graduates: int, started: datetime, as_of: date) -> None:
    w.insert(
        "import_batches",
        pl.DataFrame(
            [
                {
                    "batch_id": batch_id,
                    "kind": SOURCE,
                    "file_name": None,
                    "file_sha256": None,
                    "cohort": CAMPAIGN["cohort"],
                    "rows_read": graduates,
                    "rows_inserted": graduates,
                    "rows_updated": 0,
                    "rows_unchanged": 0,
                    "rows_refused": 0,
                    "actor": w.actor.name,
                    "started_at": started,
                    "finished_at": datetime.now(),
                }
            ],
            schema_overrides={"file_name": pl.String, "file_sha256": pl.String},
        ),
    )
    w.set_setting("as_of", as_of.isoformat())
    w.audit_detail = {"batch_id": batch_id, "as_of": as_of.isoformat()}


def build_demo(
    store: Store,
    graduates: int = 5000,
    seed: int = 2024,
    as_of: date = DEFAULT_AS_OF,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Fill an empty store with a demo of the 2024届 campaign as it stands on `as_of`.

    Writes `graduates` graduates in chunks of `CHUNK_SIZE`, one transaction each, calling
    `progress(done, total)` after each. The same arguments give the same data. Raises
    StoreError if the store already has graduates. Returns the number of rows per table.
    """
    if graduates < 1:
        raise ValueError("毕业生人数至少为 1")
    if as_of < CAMPAIGN["opens_on"]:
        raise ValueError(f"as_of 不能早于登记开始日期 {CAMPAIGN['opens_on']:%Y-%m-%d}")
    started = datetime.now()
    cat = _build_catalog(np.random.default_rng([seed, 0]), graduates)
    clock = _Clock.of(as_of)
    batch_id = store.transaction(
        SYSTEM, SOURCE, partial(_begin, cat=cat, graduates=graduates, seed=seed), refresh_stages=False
    )
    counts = {"campaigns": 1, "colleges": cat.colleges.height}
    counters = _Counters(
        students=np.zeros(len(catalog.COLLEGES) * 2, dtype=np.int64), people=np.zeros(len(ORIGINS) * 2, dtype=np.int64)
    )
    for chunk_no, start in enumerate(range(0, graduates, CHUNK_SIZE)):
        size = min(CHUNK_SIZE, graduates - start)
        chunk = _plan_chunk(np.random.default_rng([seed, 1, chunk_no]), cat, counters, size, clock, batch_id)
        written = store.transaction(SYSTEM, SOURCE, partial(_write_chunk, chunk=chunk), refresh_stages=False)
        for table, rows in written.items():
            counts[table] = counts.get(table, 0) + rows
        if progress is not None:
            progress(start + size, graduates)
    store.transaction(
        SYSTEM,
        SOURCE,
        partial(_finish, batch_id=batch_id, graduates=graduates, started=started, as_of=as_of),
        refresh_stages=False,
    )
    # Materialise the stages once, as of the store's day now that `as_of` is set.
    store.transaction(SYSTEM, "demo:stages", lambda _writer: None)
    counts["import_batches"] = 1
    counts["stage_snapshots"] = add_past_snapshots(store, as_of, graduates)
    counts["users"] = add_demo_accounts(store, cat.colleges["college_name"][0])
    return counts


# One account per role for trying the dashboard once login is wired in (README lists them).
# Their passwords are public: a demo store is never a real one.
DEMO_PASSWORD = "demo2024"


def snapshot_days(opens_on: date, as_of: date, graduates: int) -> list[date]:
    """The days the demo's past snapshots are taken: every day of the campaign so far, or on
    big demos every 7th day counting back from `as_of` (each day replays the whole history)."""
    step = 1 if graduates <= 200_000 else 7
    days = [as_of - timedelta(days=n) for n in range(0, (as_of - opens_on).days + 1, step)]
    return sorted(days)


def add_past_snapshots(store: Store, as_of: date, graduates: int) -> int:
    """The daily snapshots `dangan snapshot` would have taken had it run every day."""
    days = snapshot_days(CAMPAIGN["opens_on"], as_of, graduates)

    def work(writer: Writer) -> int:
        writer.touched_students = []
        return statistics.backfill_snapshots(writer, days)

    return store.transaction(SYSTEM, "demo:snapshots", work)


# The stages a demo graduate account is opened in (one graduate each, in the dean's college), so
# that every module and status of the graduate's side can be tried. Not yet registered: one
# whose hukou is at the school, so all five modules are theirs.
DEMO_GRADUATE_STAGES = ("not_registered", "returned", "pending_college", "approved", "confirmed", "verified")


def add_demo_accounts(store: Store, college: str) -> int:
    people: list[tuple[str, str, str | None, list[str] | None, str | None]] = [
        ("admin", "admin", "演示·就业处管理员", None, None),
        ("school", "school_reviewer", "演示·校级审核员", None, None),
        ("dean", "college_reviewer", f"演示·{college}院长", [college], None),
        ("analyst", "analyst", "演示·分析员", None, None),
    ]
    people += [(student, "graduate", None, None, student) for _, student in demo_graduates(store, college)]
    for username, role, name, colleges, student_id in people:
        accounts.add_user(
            store,
            SYSTEM,
            username,
            role,
            DEMO_PASSWORD,
            display_name=name,
            colleges=colleges,
            student_id=student_id,
            must_change_password=False,
        )
    return len(people)


def demo_graduates(store: Store, college: str) -> list[tuple[str, str]]:
    """(stage, 学号) of the graduates given a demo account: the first of each stage in
    DEMO_GRADUATE_STAGES in `college` (a stage nobody is in is skipped)."""
    with store.reading(SYSTEM) as reader:
        rows = reader.rows("demo_graduate_candidates", college=college)
    first = {row["stage"]: row["student_id"] for row in rows}
    return [(stage, first[stage]) for stage in DEMO_GRADUATE_STAGES if stage in first]
