"""The demo's dispatch weeks (`dangan demo --phase dispatch`): after the registration deadline the
office bags the verified graduates' archives, builds batches, mails them by 机要 or EMS, and the
receiving units confirm receipt; some archives come back.

Everything goes through the product's own functions (`pipelines.dispatch`), day by day on the
store's clock, so the rules hold and the pages show what an office would see. Returns follow the
demo's seeded mistakes: an archive whose sent revision was flagged (an address without a house
number, a unit that cannot keep archives …) comes back more often, with the reason its flag
foretold; a few come back for reasons no check can see (a unit that no longer exists), so the
checks' page has recall, precision and an uncaught list to show.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import polars as pl

from pipelines import dispatch
from pipelines.demo.generate import CAMPAIGN
from pipelines.rules import dispatch as rules
from pipelines.store import SYSTEM, Store

DISPATCH_AS_OF = date(2024, 7, 15)  # four weeks after the deadline
WAIT_SHARE = 0.01  # of bagged archives: 暂缓转递 or 留校保管
FLAGGED_RETURN_SHARE = 0.35  # of sent archives whose revision carried a flag meant for the cause
CLEAN_RETURN_SHARE = 0.01  # of the others: causes no check sees
WAIT_REASONS = ("考研复试", "出国（境）留学待定", "应征入伍")


def _on(store: Store, day: date) -> Store:
    return Store(store.path, today=day.isoformat())


def _archives(store: Store, day: date) -> pl.DataFrame:
    with _on(store, day).reading(SYSTEM) as reader:
        return reader.query("archive_rows", cohort=CAMPAIGN["cohort"], college=None, ids=None, **{"class": None})


def _waybill(channel: str, serial: int) -> str:
    if channel == rules.EMS:
        digits = f"{serial % 10**8:08d}"
        return f"EA{digits}{rules.s10_check_digit(digits)}CN"
    return f"9{serial % 10**12:012d}"  # a 13-digit number, as China Post prints on 机要 items


def _cause(flags: list[str], rng: random.Random) -> str | None:
    """The reason a flagged archive comes back with, when it does: one its flags foretold."""
    foretold = [code for code, reason in rules.RETURN_REASONS.items() if set(reason.checks) & set(flags)]
    if foretold and rng.random() < FLAGGED_RETURN_SHARE:
        return rng.choice(foretold)
    if not foretold and rng.random() < CLEAN_RETURN_SHARE:
        return rng.choice(["unit_gone", "wrong_place", "materials"])
    return None


def add_dispatch(store: Store, as_of: date, seed: int) -> dict[str, int]:
    """Play the dispatch weeks up to `as_of` on a demo store built as of that day."""
    rng = random.Random(seed)
    deadline = CAMPAIGN["registration_deadline"]
    counts: Counter[str] = Counter()
    rounds = [deadline + timedelta(days=3), deadline + timedelta(days=17)]
    sent: list[tuple[str, date, str]] = []  # (学号, sent_on, waybill)
    serial = 0
    for bag_day in rounds:
        if bag_day > as_of:
            break
        rows = _archives(store, bag_day).filter(pl.col("is_verified") & ~pl.col("is_bagged"))
        ids = rows["student_id"].to_list()
        waiting = set(rng.sample(ids, k=int(len(ids) * WAIT_SHARE)))
        office = _on(store, bag_day)
        for sid in sorted(waiting):
            kind = rng.choice([rules.HELD, rules.KEPT])
            until = bag_day + timedelta(days=rng.randint(60, 700))
            dispatch.set_wait(office, SYSTEM, sid, kind, rng.choice(WAIT_REASONS), until)
            counts[kind] += 1
        counts["bagged"] += len(dispatch.mark_bags(office, SYSTEM, [s for s in ids if s not in waiting]).done)
        batch_day = bag_day + timedelta(days=1)
        if batch_day > as_of:
            break
        batch = dispatch.build_batch(_on(store, batch_day), SYSTEM, CAMPAIGN["cohort"])
        if batch.batch_no is None:
            continue
        counts["batches"] += 1
        send_day = batch_day + timedelta(days=1)
        if send_day > as_of:
            break
        members = _archives(store, send_day).filter(pl.col("batch_no") == batch.batch_no)
        entries = []
        for row in members.iter_rows(named=True):
            serial += 1
            waybill = _waybill(row["channel"], 10_000_000 + serial * 7 + seed)
            entries.append(dispatch.Entry("演示", row["student_id"], waybill, send_day))
            sent.append((row["student_id"], send_day, waybill))
        counts["sent"] += len(dispatch.record_waybills(_on(store, send_day), SYSTEM, entries, source="演示").done)

    outcomes: dict[date, list[tuple[str, str | None]]] = {}
    flagged = _sent_flags(store, as_of)
    for sid, send_day, _waybill_no in sent:
        cause = _cause(flagged.get(sid, []), rng)
        day = send_day + timedelta(days=rng.randint(5, 12) if cause else rng.randint(2, 9))
        if day <= as_of:
            outcomes.setdefault(day, []).append((sid, cause))
    for day in sorted(outcomes):
        office = _on(store, day)
        received = [
            dispatch.Entry("演示", sid, unit_name="接收单位（演示）") for sid, cause in outcomes[day] if cause is None
        ]
        if received:
            counts["received"] += len(dispatch.import_receipts(office, SYSTEM, received, source="演示").done)
        for sid, cause in outcomes[day]:
            if cause is not None:
                dispatch.record_return(office, SYSTEM, sid, cause, "演示数据")
                counts["returned"] += 1
    return dict(counts)


def _sent_flags(store: Store, as_of: date) -> dict[str, list[str]]:
    """The flags of the revision each archive was sent with."""
    with _on(store, as_of).reading(SYSTEM) as reader:
        found = reader.query("sent_outcomes", cohort=CAMPAIGN["cohort"])
    return {row["student_id"]: list(row["flags"] or []) for row in found.iter_rows(named=True)}
