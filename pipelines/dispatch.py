"""The archive leaves the school (档案转递): bags, batches, waybills, receipts, returns and waits.

Every action is one audited transaction, bound by the roles in `rules/roles.py` (DISPATCHERS; a
dean marks the bags of their own college, BAGGERS) and refused whole, naming each archive (or the
file's row and column) and why. The statuses come from the store's view `archive_status`
(sql/views/80_archive_status.sql); the rules (channels, waybill formats, return reasons, waits)
from `rules/dispatch.py`.

* a bag is complete when everything on the campaign's list is in it, the verification report in
  force first when the campaign requires one;
* a batch takes the approved, confirmed and bagged archives not yet sent, not waiting and not in
  an open batch, by college, class or channel; building it again adds nobody twice, and an
  archive whose registration changed since it was batched is taken out, with a warning;
* a waybill is checked against its channel's format and is never on two archives;
* a return (退档) reopens the approved registration with its reason (`workflow`'s archive
  return), so the graduate re-registers and the new revision goes through review again; the
  archive re-enters dispatch once that revision is approved and confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import access, campaigns, privacy, sheets
from pipelines.rules import dispatch, roles, text, transfer_types, workflow
from pipelines.store import Actor, Store, StoreError, Writer

SHOWN = 8  # problems named in one refusal
FEW = 100  # graduates a write names one by one (as the store refreshes a few graduates' stages)
STALE = "登记已变更（新的登记须重新审核并确认），已移出转递批次"


class DispatchRefused(StoreError):
    pass


@dataclass(frozen=True)
class Done:
    """What an action did: the archives it changed, and those it refused with why."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    batch_no: int | None  # None: nobody could be added
    added: int
    by_channel: dict[str, int]
    taken_out: list[tuple[str, str]]  # (学号, 姓名) whose registration changed since batching
    not_ready: dict[str, int]  # why the others in scope were not added, counted


def _named(writer: Writer, student_ids: list[str]) -> None:
    """Name the graduates a dispatch record changed. It changes no stage (the materialised
    stages stay fresh), so beyond the few whose cache keys are moved one by one, it names nobody:
    every key of the dispatch tables moves, and no full stage refill follows (0.9 s at 100k)."""
    writer.touched_students = student_ids if len(student_ids) <= FEW else []


def _rows(writer: Writer, **where: Any) -> pl.DataFrame:
    params = {"cohort": None, "college": None, "class": None, "ids": None} | where
    return writer.query("archive_rows", **params)


def _who(row: dict[str, Any]) -> str:
    return f"{row['name']}（{row['student_id']}）"


def _refuse(problems: list[str], what: str) -> None:
    if problems:
        more = f"；等 {len(problems)} 处" if len(problems) > SHOWN else ""
        raise DispatchRefused(f"{what}：" + "；".join(problems[:SHOWN]) + more)


def _campaign(writer: Writer, cohort: int) -> campaigns.Campaign:
    found = writer.one("campaign", cohort=cohort)
    if found is None:
        raise DispatchRefused(f"{cohort}届的登记工作尚未设置")
    return campaigns.from_row(found)


def bag_list(campaign: campaigns.Campaign) -> list[str]:
    """What goes into each bag: the verification report first when the campaign requires it."""
    return ([dispatch.REPORT_ITEM] if campaign.bag_requires_report else []) + list(campaign.bag_items)


# --- bags -----------------------------------------------------------------------------------------


def mark_bags(
    store: Store, actor: Actor, student_ids: list[str], *, complete: bool = True, items: list[str] | None = None
) -> Done:
    """Mark these graduates' archive bags complete (everything on the list checked in; `items`
    None: the whole list), or not complete. A dean may mark only their college's (the store's
    scope shows them no other). Refused archives are listed; the others are marked."""
    access.require(
        store,
        actor,
        roles.BAGGERS,
        "dispatch:bag",
        ",".join(student_ids[:20]),
        "你的角色不能标记档案袋",
        DispatchRefused,
    )
    wanted = list(dict.fromkeys(s.strip() for s in student_ids if s.strip()))

    def work(writer: Writer) -> Done:
        found = {r["student_id"]: r for r in _rows(writer, ids=wanted).iter_rows(named=True)}
        refused: list[tuple[str, str]] = []
        marked: list[tuple[str, list[str]]] = []
        lists: dict[int, list[str]] = {}
        for sid in wanted:
            row = found.get(sid)
            if row is None:
                refused.append((sid, "不在名单中，或不在你的范围内"))
                continue
            if row["is_sent"]:
                refused.append((sid, f"{_who(row)}的档案已寄出，不能再改档案袋"))
                continue
            if not complete:
                marked.append((sid, []))
                continue
            if row["cohort"] not in lists:  # one look-up per cohort, not per bag
                lists[row["cohort"]] = bag_list(_campaign(writer, row["cohort"]))
            listed = lists[row["cohort"]]
            checked = listed if items is None else [i for i in listed if i in items]
            missing = [i for i in listed if i not in checked]
            if not row["is_ready"]:
                refused.append((sid, f"{_who(row)}的登记尚未通过审核并确认，不能装袋"))
            elif dispatch.REPORT_ITEM in listed and not row["is_verified"]:
                refused.append((sid, f"{_who(row)}还没有有效的档案信息核验报告，本届要求核验报告装袋"))
            elif missing:
                refused.append((sid, f"{_who(row)}的档案袋还缺：{'、'.join(missing)}"))
            else:
                marked.append((sid, checked))
        if marked:
            writer.insert(
                "archive_bags",
                pl.DataFrame(
                    {
                        "student_id": [sid for sid, _ in marked],
                        "complete": [complete] * len(marked),
                        "items": [items_in for _, items_in in marked],
                        "marked_at": [writer.now()] * len(marked),
                        "marked_by": [actor.name] * len(marked),
                    },
                    schema_overrides={"items": pl.List(pl.String)},
                ),
            )
        _named(writer, [sid for sid, _ in marked])
        writer.audit_detail = {"complete": complete, "marked": len(marked), "refused": refused[:50]}
        return Done([sid for sid, _ in marked], refused)

    return store.transaction(actor, "dispatch:bag", work, ",".join(wanted[:20]))


# --- batches --------------------------------------------------------------------------------------


def _why_not() -> pl.Expr:
    """Why an archive may not join a batch (null: it may), as one polars expression over
    `archive_rows`: measured 0.5 s of 2.4 at 100k as a Python loop over every row."""
    return (
        pl.when(~pl.col("is_ready"))
        .then(pl.lit("登记未通过审核或未确认"))
        .when(pl.col("is_waiting"))
        .then(pl.col("wait_kind").replace_strict(dispatch.STATUSES, default=pl.col("wait_kind")))
        .when(pl.col("is_sent"))
        .then(pl.lit("已寄出"))
        .when(pl.col("dispatch_status") == dispatch.RETURNED)
        .then(pl.lit("被退回，待重新登记"))
        .when(~pl.col("is_bagged"))
        .then(pl.lit("档案袋未齐"))
        .when(pl.col("batch_no").is_not_null() & ~pl.col("is_stale_in_batch"))
        .then(pl.lit("已在转递批次中"))
        .otherwise(None)
    )


def build_batch(
    store: Store,
    actor: Actor,
    cohort: int,
    *,
    college: str | None = None,
    class_name: str | None = None,
    channel: str | None = None,
) -> Batch:
    """One dispatch batch (转递批次) of the archives in scope that may leave, in one transaction.
    Building it again adds nobody who is in an open batch already; an archive whose registration
    changed since it was batched is taken out first (and named in the result)."""
    scope = "，".join(
        part
        for part in (
            f"{cohort}届",
            college,
            class_name,
            dispatch.CHANNELS.get(channel or "", "") if channel else None,
        )
        if part
    )
    access.require(
        store, actor, roles.DISPATCHERS, "dispatch:batch", scope, "你的角色不能编排转递批次", DispatchRefused
    )
    if channel is not None and channel not in dispatch.CHANNELS:
        raise DispatchRefused(f"未知的寄送方式：{channel}（可用：机要 jiyao、EMS ems）")

    def work(writer: Writer) -> Batch:
        campaign = _campaign(writer, cohort)
        rows = _rows(writer, cohort=cohort, college=college, **{"class": class_name})
        stale = rows.filter(pl.col("is_stale_in_batch"))
        if stale.height:
            writer.execute("take_out_of_batches", ids=stale["student_id"].to_list(), at=writer.now(), reason=STALE)
        provinces = rows["province"].unique().to_list()
        channels = {
            p: dispatch.channel_for(campaign.dispatch_rule, campaign.school_province, p)
            for p in provinces
            if p is not None
        }
        judged = rows.with_columns(
            why=_why_not(),
            channel=pl.col("province").replace_strict(channels, default=dispatch.JIYAO, return_dtype=pl.String),
        )
        if channel is not None:
            other = f"寄送方式为{dispatch.CHANNELS[dispatch.EMS if channel == dispatch.JIYAO else dispatch.JIYAO]}"
            judged = judged.with_columns(
                why=pl.when(pl.col("why").is_null() & (pl.col("channel") != channel))
                .then(pl.lit(other))
                .otherwise(pl.col("why"))
            )
        counted = judged.filter(pl.col("why").is_not_null()).group_by("why").len()
        not_ready = dict(zip(counted["why"].to_list(), counted["len"].to_list(), strict=True))
        ready = judged.filter(pl.col("why").is_null())
        taken_out = [(r["student_id"], r["name"]) for r in stale.iter_rows(named=True)]
        _named(writer, [sid for sid, _ in taken_out] + ready["student_id"].to_list())
        writer.audit_detail = {"scope": scope, "added": ready.height, "taken_out": [s for s, _ in taken_out][:50]}
        if ready.height == 0:
            return Batch(None, 0, {}, taken_out, not_ready)
        batch_no = int(writer.next_ids("dispatch_batch_nos", 1)[0])
        now = writer.now()
        writer.insert(
            "dispatch_batches",
            pl.DataFrame(
                [{"batch_no": batch_no, "cohort": cohort, "scope": scope, "created_at": now, "created_by": actor.name}]
            ),
        )
        members = ready.select(
            pl.lit(batch_no, dtype=pl.Int64).alias("batch_no"),
            "student_id",
            "registration_id",
            "channel",
            pl.lit(now).alias("added_at"),
        )
        writer.insert("batch_members", members)
        counts = members.group_by("channel").len()
        by_channel = dict(zip(counts["channel"].to_list(), counts["len"].to_list(), strict=True))
        writer.audit_target = str(batch_no)
        writer.audit_detail |= {"batch_no": batch_no, "by_channel": by_channel}
        return Batch(batch_no, ready.height, by_channel, taken_out, not_ready)

    return store.transaction(actor, "dispatch:batch", work, scope)


# --- waybills and receipts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One row of a waybill or receipt file, or one typed on the page."""

    where: str  # 第 N 行 of a file, or 页面
    key: str  # 转递编号 or 学号
    waybill: str = ""
    day: date | None = None  # 寄出日期 / 签收日期
    unit_name: str = ""  # receipts: the receiving unit


def resolve(writer: Writer, entries: list[Entry]) -> dict[str, dict[str, Any]]:
    """The archive each entry names (by 学号, or by the 转递编号 of its current registration)."""
    keys = [text.compact(e.key).upper() for e in entries]
    by_number = {
        r["transfer_number"]: r["student_id"]
        for r in writer.rows("archive_by_transfer_number", numbers=[k for k in keys if len(k) > 12])
    }
    ids = list({by_number.get(k, k) for k in keys})
    found = {r["student_id"]: r for r in _rows(writer, ids=ids).iter_rows(named=True)}
    return {k: found[by_number.get(k, k)] for k in keys if by_number.get(k, k) in found}


def record_waybills(store: Store, actor: Actor, entries: list[Entry], *, source: str = "页面") -> Done:
    """Record the waybills of archives in an open batch: each number checked against its
    channel's format, never on two archives, never in the future. All of them or none: any bad
    row refuses the whole file, naming the row, the column and the expected format."""
    access.require(
        store, actor, roles.DISPATCHERS, "dispatch:waybills", source, "你的角色不能登记运单号", DispatchRefused
    )

    def work(writer: Writer) -> Done:
        archives = resolve(writer, entries)
        cleaned = [dispatch.clean_waybill(e.waybill) for e in entries]
        taken = {r["waybill"]: r["student_id"] for r in writer.rows("waybills_taken", waybills=cleaned)}
        problems: list[str] = []
        seen: dict[str, str] = {}
        rows: list[dict[str, Any]] = []
        unchanged: list[str] = []
        for entry, waybill in zip(entries, cleaned, strict=True):
            key = text.compact(entry.key).upper()
            archive = archives.get(key)
            if archive is None:
                problems.append(f"{entry.where}“转递编号/学号”列：{key or '（空）'} 不在名单中，或不在你的范围内")
                continue
            if archive["waybill"] == waybill and archive["is_sent"]:
                unchanged.append(archive["student_id"])
                continue
            if archive["batch_no"] is None or archive["is_stale_in_batch"]:
                problems.append(f"{entry.where}：{_who(archive)}的档案不在未寄出的转递批次中，请先编入批次")
                continue
            if problem := dispatch.waybill_problem(archive["channel"], waybill):
                problems.append(f"{entry.where}“运单号”列：{problem}")
                continue
            if waybill in taken and taken[waybill] != archive["student_id"]:
                problems.append(f"{entry.where}“运单号”列：{waybill} 已登记在另一份档案上")
                continue
            if waybill in seen:
                problems.append(f"{entry.where}“运单号”列：{waybill} 与{seen[waybill]}重复")
                continue
            seen[waybill] = entry.where
            sent_on = entry.day or writer.today
            if sent_on > writer.today:
                problems.append(f"{entry.where}“寄出日期”列：{sent_on:%Y-%m-%d} 晚于今天")
                continue
            rows.append(
                {
                    "waybill": waybill,
                    "student_id": archive["student_id"],
                    "registration_id": archive["registration_id"],
                    "batch_no": archive["batch_no"],
                    "channel": archive["channel"],
                    "sent_on": sent_on,
                    "recorded_at": writer.now(),
                    "recorded_by": actor.name,
                }
            )
        _refuse(problems, f"运单号未登记（{source}）")
        if rows:
            writer.insert("waybills", pl.DataFrame(rows))
        _named(writer, [r["student_id"] for r in rows])
        writer.audit_detail = {"source": source, "recorded": len(rows), "unchanged": len(unchanged)}
        return Done([r["student_id"] for r in rows], [(sid, "运单号未变") for sid in unchanged])

    return store.transaction(actor, "dispatch:waybills", work, source)


def _event_rows(writer: Writer, kind: str, events: Iterable[dict[str, Any]]) -> pl.DataFrame:
    listed = list(events)
    ids = writer.next_ids("archive_event_ids", len(listed))
    return pl.DataFrame(
        [
            {
                "event_id": int(event_id),
                "kind": kind,
                "waybill": None,
                "reason_code": None,
                "reason": None,
                "unit_name": None,
                "until": None,
                "happened_at": writer.now(),
                "actor": writer.actor.name,
            }
            | event
            for event_id, event in zip(ids.to_list(), listed, strict=True)
        ],
        schema_overrides={
            "waybill": pl.String,
            "reason_code": pl.String,
            "reason": pl.String,
            "unit_name": pl.String,
            "until": pl.Date,
        },
    )


def record_receipts(
    writer: Writer, entries: list[Entry], archives: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """Inside a transaction: the receipts of sent archives (the public page's, or a file's);
    returns the problems (an archive not sent is named; nothing is written then) and the 学号
    of the archives recorded as received."""
    problems: list[str] = []
    events: list[dict[str, Any]] = []
    for entry in entries:
        archive = archives.get(text.compact(entry.key).upper())
        if archive is None or not archive["is_sent"]:
            problems.append(f"{entry.where}：未找到已寄出的档案（{text.compact(entry.key)}）")
            continue
        if archive["dispatch_status"] == dispatch.RECEIVED:
            continue  # received already: a second confirmation changes nothing
        unit = text.clean(entry.unit_name)[:100]
        if not unit:
            problems.append(f"{entry.where}“接收单位”列：请填写接收单位名称")
            continue
        by = "接收单位（核验查询页）" if writer.actor.role == "public" else writer.actor.name  # no client address
        events.append(
            {"student_id": archive["student_id"], "waybill": archive["waybill"], "unit_name": unit, "actor": by}
        )
    if events and not problems:
        writer.insert("archive_events", _event_rows(writer, "received", events))
        _named(writer, [e["student_id"] for e in events])
        return problems, [e["student_id"] for e in events]
    return problems, []


def import_receipts(store: Store, actor: Actor, entries: list[Entry], *, source: str) -> Done:
    """Receipts from a file the receiving units or the post returned (转递编号/学号, 接收单位)."""
    access.require(
        store, actor, roles.DISPATCHERS, "dispatch:receipts", source, "你的角色不能登记签收", DispatchRefused
    )

    def work(writer: Writer) -> Done:
        problems, received = record_receipts(writer, entries, resolve(writer, entries))
        _refuse(problems, f"签收未登记（{source}）")
        writer.audit_detail = {"source": source, "recorded": len(received)}
        return Done(received)

    return store.transaction(actor, "dispatch:receipts", work, source)


# --- returns and waits ----------------------------------------------------------------------------


def record_return(store: Store, actor: Actor, student_id: str, reason_code: str, note: str = "") -> str:
    """A returned archive (退档): recorded with its reason, and the approved registration reopened
    with it: the graduate sees the reason, registers again, and the new revision is reviewed."""
    access.require(
        store, actor, roles.DISPATCHERS, "dispatch:return", student_id, "你的角色不能登记退档", DispatchRefused
    )
    if reason_code not in dispatch.RETURN_REASONS:
        raise DispatchRefused(
            "请选择退档原因：" + "、".join(f"{k}（{r.label}）" for k, r in dispatch.RETURN_REASONS.items())
        )
    reason = f"档案被退回：{dispatch.return_label(reason_code)}" + (f"；{note.strip()}" if note.strip() else "")

    def work(writer: Writer) -> str:
        found = _rows(writer, ids=[student_id])
        if found.height == 0:
            raise DispatchRefused(f"学号 {student_id} 不在名单中，或不在你的范围内")
        archive = found.row(0, named=True)
        if not archive["is_sent"]:
            raise DispatchRefused(f"{_who(archive)}的档案尚未寄出（或已登记退回），不能登记退档")
        writer.insert(
            "archive_events",
            _event_rows(
                writer,
                "returned",
                [{"student_id": student_id, "waybill": archive["waybill"], "reason_code": reason_code, "reason": note}],
            ),
        )
        reopened = archive["registration_id"] is not None and archive["stage"] in ("approved", "confirmed", "verified")
        if reopened:
            workflow.next_status(workflow.APPROVED, workflow.Decision("archive", "return", reason))
            writer.insert(
                "reviews",
                pl.DataFrame(
                    [
                        {
                            "review_id": int(writer.next_ids("review_ids", 1)[0]),
                            "registration_id": archive["registration_id"],
                            "level": "archive",
                            "decision": "return",
                            "reason": reason,
                            "reviewer": actor.name,
                            "decided_at": writer.now(),
                        }
                    ]
                ),
            )
        writer.touched_students = [student_id]
        writer.audit_detail = {"reason_code": reason_code, "note": note.strip() or None, "reopened": reopened}
        return reason

    return store.transaction(actor, "dispatch:return", work, student_id)


def set_wait(
    store: Store, actor: Actor, student_id: str, kind: str, reason: str = "", until: date | None = None
) -> None:
    """暂缓转递 / 留校保管 with a reason and an end date (two years at the most), or lift it
    (`kind` 'released')."""
    access.require(
        store, actor, roles.DISPATCHERS, "dispatch:wait", student_id, "你的角色不能设置暂缓", DispatchRefused
    )

    def work(writer: Writer) -> None:
        found = _rows(writer, ids=[student_id])
        if found.height == 0:
            raise DispatchRefused(f"学号 {student_id} 不在名单中，或不在你的范围内")
        archive = found.row(0, named=True)
        if kind == "released":
            if not archive["is_waiting"]:
                raise DispatchRefused(f"{_who(archive)}的档案没有暂缓")
        elif problem := dispatch.wait_problem(kind, reason, until, writer.today):
            raise DispatchRefused(problem)
        elif archive["is_sent"]:
            raise DispatchRefused(f"{_who(archive)}的档案已寄出，不能暂缓")
        if kind != "released" and archive["batch_no"] is not None:
            writer.execute("take_out_of_batches", ids=[student_id], at=writer.now(), reason=dispatch.WAITS[kind])
        writer.insert(
            "archive_events",
            _event_rows(writer, kind, [{"student_id": student_id, "reason": reason.strip() or None, "until": until}]),
        )
        writer.touched_students = [student_id]
        writer.audit_detail = {"kind": kind, "reason": reason.strip() or None, "until": str(until) if until else None}

    store.transaction(actor, f"dispatch:{kind}", work, student_id)


# --- the printed papers ---------------------------------------------------------------------------

PAPERS = {"slips": "档案转递单", "labels": "地址标签", "list": "交寄清单"}
SENDER_OFFICE = "就业指导中心"


def papers(store: Store, actor: Actor, cohort: int, batch_no: int, kind: str, file_name: str) -> tuple[bytes, int]:
    """A batch's slips (one a page), address labels (A4 sheets) or the post's list, as PDF;
    recorded like every export (personal data is masked where the receiver needs no more)."""
    from pipelines import dispatch_pdf  # fpdf and the font only for the papers

    if kind not in PAPERS:
        raise DispatchRefused(f"未知的打印内容：{kind}")
    access.require_export(store, actor, "dispatch_papers", file_name)
    with store.reading(actor) as reader:
        rows = reader.rows("dispatch_documents", batch_no=batch_no)
        found = reader.one("campaign", cohort=cohort)
    if not rows or found is None:
        raise DispatchRefused(f"第 {batch_no} 批没有（仍在批次中的）档案")
    campaign = campaigns.from_row(found)
    for row in rows:
        row["transfer_type_label"] = transfer_types.LABELS.get(row["transfer_type"], row["transfer_type"])
    about = {"school_name": campaign.school_name, "cohort": cohort, "notice_number": campaign.notice_number}
    if kind == "slips":
        data = dispatch_pdf.slips_pdf(rows, about)
    elif kind == "labels":
        sender = {
            "school_name": campaign.school_name,
            "office": SENDER_OFFICE,
            "address": "",
            "postcode": "",
            "phone": "",
        }
        data = dispatch_pdf.labels_pdf(rows, sender)
    else:
        data = dispatch_pdf.batch_list_pdf(rows, {"batch_no": batch_no}, about)
    privacy.record_export(store, actor, f"export:dispatch_{kind}", file_name, data, len(rows), {"batch_no": batch_no})
    return data, len(rows)


# --- files ----------------------------------------------------------------------------------------

KEY_HEADERS = ("转递编号", "档案转递编号", "学号")
WAYBILL_HEADERS = ("运单号", "邮件号", "邮件号码", "EMS号", "EMS单号", "机要编号", "机要号", "单号", "条码")
DAY_HEADERS = ("寄出日期", "交寄日期", "收寄日期", "签收日期", "日期")
UNIT_HEADERS = ("接收单位", "签收单位", "档案接收单位")


def _header(cells: list[str | None], names: tuple[str, ...]) -> int | None:
    wanted = {text.compact(n).upper() for n in names}
    for i, cell in enumerate(cells):
        if cell is not None and text.compact(cell).upper() in wanted:
            return i
    return None


def _day(raw: str | None, where: str) -> date:
    value = (raw or "").strip()
    for layout in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S", "%Y%m%d"):
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            continue
    raise DispatchRefused(f"{where}“日期”列：无法识别“{value}”，请写成 2024-06-20")


def read_entries(path: Path, *, receipts: bool = False) -> list[Entry]:
    """The rows of a waybill file (转递编号或学号、运单号、寄出日期) or a receipt file (转递编号或
    学号、接收单位、签收日期), csv or xlsx, read as the imports read files (a child process
    under limits). The header may sit below a title row; an unknown layout is refused naming
    the columns it needs."""
    book = sheets.read_workbook(path, sheets.Limits.from_env())
    need = UNIT_HEADERS if receipts else WAYBILL_HEADERS
    for sheet in book:
        rows = [list(r) for r in sheet.frame.iter_rows()]
        for h, head in enumerate(rows[:10]):
            key_at, value_at = _header(head, KEY_HEADERS), _header(head, need)
            if key_at is None or value_at is None:
                continue
            day_at = _header(head, DAY_HEADERS)
            entries = []
            for n, row in enumerate(rows[h + 1 :], start=sheet.first_row + h + 1):
                key = (row[key_at] or "").strip().removesuffix(".0")
                value = (row[value_at] or "").strip().removesuffix(".0")
                if not key and not value:
                    continue
                where = f"{path.name} 第 {n} 行"
                day = _day(row[day_at], where) if day_at is not None and row[day_at] else None
                entries.append(Entry(where, key, "" if receipts else value, day, value if receipts else ""))
            return entries
    raise DispatchRefused(
        f"{path.name}：没有找到表头。需要“转递编号”或“学号”一列，以及“"
        + ("接收单位" if receipts else "运单号（或 邮件号、EMS号、机要编号）")
        + "”一列"
    )


# --- what the checks learn ------------------------------------------------------------------------


def check_learning(store: Store, actor: Actor, cohort: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per check (rules/checks.py): the returns it flagged beforehand, the returns it is meant
    to catch (its recall), and the flagged archives that were received or returned (its
    precision); and the returned archives whose reason no check catches yet."""
    access.require(store, actor, roles.REVIEWERS, "dispatch:learning", str(cohort), "你的角色不能查看", DispatchRefused)
    with store.reading(actor) as reader:
        sent = reader.query("sent_outcomes", cohort=cohort)
    return dispatch.check_learning(sent)
