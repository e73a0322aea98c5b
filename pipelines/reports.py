"""Confirmation (去向登记确认) and verification reports (核验授权) on the school side.

A confirmation snapshots the graduate's current registration, destination and hukou ids; the
views hold it in force only while those are still current, so any later change voids it (and
the stage drops, and a report on it stops being valid) without anyone resetting a flag.

A verification report needs a confirmation in force. Its 核验编号 has the national layout: the
cohort's two digits, the school's five-digit 院校代码 (a campaign setting), then 8 characters
drawn from `secrets` over an alphabet without look-alikes (0/O, 1/I/L): 31^8 ≈ 8.5·10^11 numbers
per cohort and school, never reused (the column is unique and a clash draws again). The seed's
`241000186KCVW56` is `24` + `10001` + `86KCVW56`. Numbers issued before, in the older layout
(two digits and 13 characters), keep verifying. Its validity date may not pass graduation + 6 months. Issuing again for the same confirmation and kind
returns the report in force rather than a second one, so a batch can be re-run safely.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from pipelines import access, privacy, selfservice
from pipelines.rules import roles, text, verification
from pipelines.store import Actor, Reader, Store, StoreError, Writer

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
RANDOM_CHARS = 8
NUMBER_LENGTH = 15
_NUMBER = re.compile(r"^\d{2}[0-9A-Z]{13}$")  # 2 + 5 + 8, and the older 2 + 13
KINDS = tuple(verification.KIND_LABELS)  # archive, hukou
ANSWERS = {"confirmed": "信息无误，确认登记去向", "needs_update": "信息有误，需要更新后确认"}


# Who may issue and close reports: the office, and a graduate for themself (the store's scope
# shows a graduate only their own record, so they can name no one else).
# Who may record a graduate's answer on the confirmation page: the graduate, or the office on
# their behalf (the CLI, a graduate at the office's counter). Reviewers and analysts may not.
class ReportRefused(StoreError):
    """A report or confirmation that cannot be made; the message says why, in Chinese."""


@dataclass(frozen=True)
class Report:
    report_id: int
    student_id: str
    kind: str
    report_number: str
    valid_until: date | None
    issued_at: datetime
    is_new: bool  # False: the report already in force was returned


def new_report_number(cohort: int, school_code: str) -> str:
    """`24` + `10001` + 8 random characters."""
    if not re.fullmatch(r"\d{5}", school_code or ""):
        raise ReportRefused(f"院校代码“{school_code or '（未设置）'}”不是 5 位数字；请在“届别设置”中填写学校的院校代码")
    return f"{cohort % 100:02d}{school_code}" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))


def looks_like_report_number(text: str) -> bool:
    """A 15-character 核验编号: the national layout (2 + 5 + 8) or dangan's older one (2 + 13)."""
    return bool(_NUMBER.match(text.strip().upper()))


def confirm(store: Store, actor: Actor, student_id: str, answer: str = "confirmed") -> int:
    """Record the graduate's answer on the confirmation page; returns the confirmation id.

    'confirmed' needs an approved registration; it snapshots what is current. 'needs_update'
    records that the graduate found a mistake (nothing is in force until they confirm)."""
    if answer not in ANSWERS:
        raise ReportRefused(f"未知的确认结果：{answer}")
    access.require(
        store,
        actor,
        roles.CONFIRMERS,
        "confirmation:record",
        student_id,
        "只有毕业生本人（或就业处代为）可以确认登记去向",
        ReportRefused,
    )

    def work(writer: Writer) -> int:
        with writer.only_students([student_id]):
            current = writer.one("confirmation_snapshot", student_id=student_id)
        if current is None:
            raise ReportRefused(f"学号 {student_id} 不在名单中，或不在你的范围内")
        # Everything confirmed must be there, whoever records the answer (the graduate's page,
        # the office's `dangan graduate confirm`): only an import records a confirmation as the
        # national system holds it.
        if answer == "confirmed" and (missing := selfservice.confirmation_missing(current)):
            raise ReportRefused("；".join(why for why, _ in missing) + "，不能确认登记去向")
        confirmation_id = int(writer.next_ids("confirmation_ids", 1)[0])
        writer.insert(
            "confirmations",
            pl.DataFrame(
                [
                    {
                        "confirmation_id": confirmation_id,
                        "student_id": student_id,
                        "answer": answer,
                        "confirmed_at": writer.now(),
                        "registration_id": current["registration_id"],
                        "destination_id": current["destination_id"],
                        "hukou_id": current["hukou_id"],
                    }
                ],
                schema_overrides={"registration_id": pl.Int64, "destination_id": pl.Int64, "hukou_id": pl.Int64},
            ),
        )
        writer.touched_students = [student_id]
        writer.audit_target = student_id
        writer.audit_detail = {"confirmation_id": confirmation_id, "answer": answer}
        return confirmation_id

    return store.transaction(actor, "confirmation:record", work, student_id)


def issue(
    store: Store, actor: Actor, student_id: str, kind: str = "archive", valid_until: date | None = None
) -> Report:
    """Issue (or return the one in force) a report of `kind` for a confirmed graduate.

    With `valid_until` the report is 生效中 until that day; a report in force that has no date
    yet (未确认) gets it. Without it, a new report is 未确认."""
    done, refused = issue_many(store, actor, [student_id], kind, valid_until)
    if refused:
        raise ReportRefused(refused[0][1])
    return done[0]


def issue_many(
    store: Store, actor: Actor, student_ids: list[str], kind: str, valid_until: date | None, progress: Any = None
) -> tuple[list[Report], list[tuple[str, str]]]:
    """Issue for several graduates in one transaction; a graduate who cannot have a report is
    refused on their own (student id, why) and does not stop the rest.

    Returns the reports (new, or already in force) in the order asked. `progress(done, total)`
    is called as each graduate is decided."""
    if kind not in KINDS:
        raise ReportRefused(f"未知的核验类型：{kind}（应为 archive 或 hukou）")
    wanted = list(dict.fromkeys(student_ids))
    _may_issue(store, actor, f"report:issue:{kind}", wanted[0] if len(wanted) == 1 else f"{len(wanted)} 人")
    return store.transaction(
        actor,
        f"report:issue:{kind}",
        lambda writer: _issue(writer, wanted, kind, valid_until, progress),
        wanted[0] if len(wanted) == 1 else f"{len(wanted)} 人",
    )


def _issue(
    writer: Writer, student_ids: list[str], kind: str, valid_until: date | None, progress: Any
) -> tuple[list[Report], list[tuple[str, str]]]:
    with writer.stages_for(student_ids):
        subjects = {r["student_id"]: r for r in writer.rows("report_subject", ids=student_ids)}
    in_force: dict[tuple[str, int], dict[str, Any]] = {}
    for row in writer.rows("report_in_force", ids=student_ids, kind=kind):
        in_force.setdefault((row["student_id"], row["confirmation_id"]), row)  # newest first
    # Decide each graduate first: refused, a usable report already, or a new one.
    refused: list[tuple[str, str]] = []
    usable: dict[str, dict[str, Any]] = {}
    wanted: list[dict[str, Any]] = []
    for i, student_id in enumerate(student_ids, start=1):
        if progress:
            progress(i, len(student_ids))
        graduate = subjects.get(student_id)
        problem = _refusal(graduate, student_id, kind, valid_until, writer.today)
        if problem or graduate is None:
            refused.append((student_id, problem or ""))
        elif found := in_force.get((student_id, graduate["confirmation_id"])):
            usable[student_id] = found
        elif not re.fullmatch(r"\d{5}", graduate["school_code"] or ""):
            refused.append((student_id, "学校的院校代码（5 位）尚未设置，不能生成核验编号；请就业处在“届别设置”中填写"))
        else:
            wanted.append(graduate)
    dated = [int(r["report_id"]) for r in usable.values() if r["valid_until"] is None and valid_until is not None]
    if dated:
        writer.execute("set_report_valid_until", ids=dated, valid_until=valid_until)
    fresh = [
        {
            "report_id": report_id,
            "student_id": g["student_id"],
            "kind": kind,
            "report_number": number,
            "confirmation_id": g["confirmation_id"],
            "issued_at": writer.now(),
            "valid_until": valid_until,
            "closed_at": None,
            "issued_by": writer.actor.name,
        }
        for g, number, report_id in zip(
            wanted,
            _fresh_numbers(writer, [(g["cohort"], g["school_code"]) for g in wanted]),
            writer.next_ids("report_ids", len(wanted)).to_list(),
            strict=True,
        )
    ]
    if fresh:
        writer.insert(
            "verification_reports",
            pl.DataFrame(
                fresh, schema_overrides={"valid_until": pl.Date, "closed_at": pl.Datetime("us"), "report_id": pl.Int64}
            ),
        )
    made = {r["student_id"]: _report(r, valid_until, is_new=True) for r in fresh}
    made |= {
        sid: _report(r, r["valid_until"] or (valid_until if int(r["report_id"]) in dated else None), is_new=False)
        for sid, r in usable.items()
    }
    done = [made[sid] for sid in student_ids if sid in made]
    writer.touched_students = sorted(
        [r["student_id"] for r in fresh] + [sid for sid, r in usable.items() if int(r["report_id"]) in dated]
    )
    writer.audit_detail = {
        "kind": kind,
        "valid_until": valid_until,
        "new": [r["report_number"] for r in fresh][:200],
        "new_count": len(fresh),
        "dated": len(dated),
        "already_in_force": len(usable),
        "refused": [{"student_id": s, "why": w} for s, w in refused][:200],
    }
    return done, refused


def _refusal(
    graduate: dict[str, Any] | None, student_id: str, kind: str, valid_until: date | None, today: date
) -> str | None:
    if graduate is None:
        return f"学号 {student_id} 不在名单中，或不在你的范围内"
    who = f"{graduate['name']}（{student_id}）"
    if not graduate["is_confirmed"]:
        return f"{who}尚未确认登记去向（或确认后信息有变更，需重新确认），不能生成核验报告"
    # hukou unknown (a roster without the column) with a hukou registration: the graduate said so
    if kind == "hukou" and (graduate["is_hukou_at_school"] is False or graduate["hukou_id"] is None):
        return f"{who}户口不在学校或未登记户口信息，没有户口信息核验"
    if valid_until is not None:
        graduation = graduate["graduation_date"] or graduate["default_graduation_date"]
        if problem := verification.valid_until_problem(valid_until, graduation, today):
            return f"{who}：{problem}"
    return None


def _fresh_numbers(writer: Writer, prefixes: list[tuple[int, str]]) -> list[str]:
    """New 核验编号, none ever used before (a clash among 8.5e11 is rare; drawn again)."""
    numbers = [new_report_number(cohort, code) for cohort, code in prefixes]
    for _ in range(5):
        taken = {r["report_number"] for r in writer.rows("report_numbers_taken", numbers=numbers)}
        if not taken and len(set(numbers)) == len(numbers):
            return numbers
        seen: set[str] = set()
        for i, (number, (cohort, code)) in enumerate(zip(numbers, prefixes, strict=True)):
            if number in taken or number in seen:
                numbers[i] = new_report_number(cohort, code)
            seen.add(numbers[i])
    raise ReportRefused("核验编号生成失败，请重试")


def _report(row: dict[str, Any], valid_until: date | None, *, is_new: bool) -> Report:
    return Report(
        int(row["report_id"]),
        row["student_id"],
        row["kind"],
        row["report_number"],
        valid_until,
        row["issued_at"],
        is_new,
    )


def documents(store: Store, actor: Actor, report_ids: list[int]) -> list[dict[str, Any]]:
    """What the PDFs of these reports print (sql/queries/report_documents.sql), in class and
    advisor order, within the actor's scope."""
    with store.reading(actor) as reader:
        return reader.rows("report_documents", ids=report_ids)


def report_file(store: Store, actor: Actor, report_id: int) -> tuple[bytes, int]:
    """One report's PDF (the graduate's 查看下载报告), within the actor's scope; recorded like
    every export. (bytes, pages)."""
    found = documents(store, actor, [report_id])
    if not found:
        raise ReportRefused("没有这份核验报告，或不在你的范围内")
    # fpdf and the font only when a PDF is made: every command starts faster
    from pipelines import report_pdf

    pdf = report_pdf.render(found)
    privacy.record_export(
        store,
        actor,
        "export:report",
        f"核验报告_{found[0]['report_number']}.pdf",
        pdf,
        1,
        {"report_number": found[0]["report_number"]},
    )
    return pdf, 1


def close(store: Store, actor: Actor, report_number: str) -> None:
    """Close a report: from now on it verifies as 已关闭. A new one can then be issued."""
    number = report_number.strip().upper()
    _may_issue(store, actor, "report:close", number)

    def work(writer: Writer) -> None:
        found = writer.one("report_by_number", report_number=number)
        if found is None:
            raise ReportRefused(f"没有核验编号为 {number} 的报告，或不在你的范围内")
        if found["closed_at"] is not None:
            raise ReportRefused(f"核验编号 {number} 已于 {found['closed_at']:%Y-%m-%d %H:%M} 关闭")
        writer.execute("close_report", report_id=found["report_id"], closed_at=writer.now())
        writer.touched_students = [found["student_id"]]
        writer.audit_target = found["student_id"]
        writer.audit_detail = {"report_number": number}

    store.transaction(actor, "report:close", work, number)


def _may_issue(store: Store, actor: Actor, action: str, target: str | None) -> None:
    access.require(store, actor, roles.ISSUERS, action, target, "你的角色不能生成或关闭核验报告", ReportRefused)


@dataclass(frozen=True)
class Verdict:
    found: bool
    valid: bool
    status: str  # a verification.STATUS_LABELS key (the report's state, 'void' included), a transfer one or 'not_found'
    unit_name: str | None = None
    valid_until: date | None = None
    kind: str | None = None

    @property
    def label(self) -> str:
        return {"not_found": "未找到", **TRANSFER_LABELS}.get(
            self.status, verification.STATUS_LABELS.get(self.status, self.status)
        )


NOT_FOUND = Verdict(found=False, valid=False, status="not_found")
TRANSFER_KIND = "transfer"
TRANSFER_LABELS = {
    "transfer_confirmed": "有效：已通过学校审核，毕业生已确认登记去向",
    "transfer_approved": "有效：已通过学校审核（毕业生尚未确认登记去向）",
    "transfer_pending": "审核中：学院、学校尚未审核通过",
    "transfer_returned": "已退回：需毕业生修改后重新提交",
    "transfer_void": "已失效：毕业生已提交新的档案登记，请向毕业生索取新的转递编号",
    "archive_received": "已登记：贵单位已收到该毕业生的档案，谢谢",
}
_TRANSFER_NUMBER = re.compile(r"^[0-9A-Z]{6,32}$")


def verify_transfer(reader: Reader, name: str, transfer_number: str) -> Verdict:
    """What a receiving unit may learn from a name and a 转递编号: whether the registration
    carrying it is the graduate's current one and has the school's approval, and its unit.
    A wrong name and a wrong number give the same answer (未找到)."""
    number = text.compact(transfer_number).upper()
    if not _TRANSFER_NUMBER.match(number) or not name.strip():
        return NOT_FOUND
    found = reader.one("verify_transfer", transfer_number=number, graduate_name=name.strip())
    if found is None:
        return NOT_FOUND
    if not found["is_current"]:
        status = "transfer_void"
    elif found["status"] == "approved":
        status = "transfer_confirmed" if found["is_confirmed"] else "transfer_approved"
    else:
        status = "transfer_returned" if found["status"] == "returned" else "transfer_pending"
    return Verdict(
        True, status in ("transfer_confirmed", "transfer_approved"), status, found["unit_name"], None, TRANSFER_KIND
    )


def verify_any(reader: Reader, name: str, number: str) -> Verdict:
    """The public look-up: a 15-character 核验编号, or an 18-character (any other) 转递编号."""
    cleaned = text.compact(number).upper()
    if looks_like_report_number(cleaned) and (found := verify(reader, name, cleaned)).found:
        return found
    return verify_transfer(reader, name, cleaned)


def verify(reader: Reader, name: str, report_number: str) -> Verdict:
    """What a receiving unit may learn from a name and a 核验编号. A wrong name and a wrong
    number give the same answer (未找到), so neither can be probed on its own."""
    number = report_number.strip().upper()
    if not looks_like_report_number(number) or not name.strip():
        return NOT_FOUND
    found = reader.one("verify_report", report_number=number, graduate_name=name.strip())
    if found is None:
        return NOT_FOUND
    status = found["state"]
    return Verdict(True, status == "active", status, found["unit_name"], found["valid_until"], found["kind"])
