"""Review decisions: the college and school levels approve or return a revision.

Every rule a decision must pass is checked here, inside the write transaction that records it,
so the dashboard, the CLI and the tests are bound by the same rules:

* the revision exists and its graduate is within the acting user's scope (a college reviewer
  never reaches another college's rows: the store's scope hides them);
* the acting role may decide at that level;
* the revision is still the graduate's current one (a decision names the revision it was made
  on, and a resubmission replaces it);
* the workflow allows the decision from the revision's status (workflow.next_status), so of two
  reviewers deciding the same revision exactly one takes effect: writers are serialised by the
  store, and the second finds the revision already decided;
* in bulk, only approvals, only of revisions without flags, and only of the revisions the
  reviewer was shown: each names its graduate and revision number as the page listed them, and
  one that does not match (a selection that slid onto other rows) is refused (issue #16).

The store's transaction checks that the COMMIT took effect, and retries when it did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from pipelines import submissions
from pipelines.rules import roles, workflow
from pipelines.store import Actor, Store, StoreConflict, StoreError, Writer

# Offered as templates for a return; free text is always possible.
RETURN_TEMPLATES = (
    "详细地址未写到门牌号（街道、楼栋、室），请补充完整",
    "档案转递单位须为有档案保管权的机构，请改为人才服务机构托管或转回生源地",
    "联系人须为接收单位的部门或工作人员，不能填写本人或家属",
    "邮编与地址不符，请核对",
    "联系电话格式有误，请填写手机号或带区号的座机号",
    "缺少调档函、接收函或录取通知书等证明材料，请上传",
    "证明材料不清晰，请重新上传",
    "档案转递类型与毕业去向不符，请核对",
    "升学类请填写录取学校研究生院（研究生招生办公室）等部门及其地址",
)


class ReviewRefused(StoreError):
    """A decision that did not take effect; the message says why, in Chinese."""


@dataclass(frozen=True)
class Outcome:
    registration_id: int
    student_id: str
    name: str
    status: str  # after the decision


@dataclass(frozen=True)
class Shown:
    """A revision as a reviewer saw it listed: a bulk decision names what it acts on."""

    registration_id: int
    student_id: str
    revision_no: int


def as_listed(rows: pl.DataFrame) -> list[Shown]:
    """The revisions of a listing (rows with registration_id, student_id, revision_no, as
    sql/queries/review_queue.sql returns them), as a bulk decision names them."""
    return [
        Shown(int(r["registration_id"]), str(r["student_id"]), int(r["revision_no"]))
        for r in rows.select("registration_id", "student_id", "revision_no").iter_rows(named=True)
    ]


@dataclass
class Batch:
    applied: list[Outcome] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (registration_id, why)


def levels_of(actor: Actor) -> frozenset[str]:
    return roles.ROLE_LEVELS.get(actor.role, frozenset())


def decide(store: Store, actor: Actor, registration_id: int, decision: workflow.Decision) -> Outcome:
    """Decide one revision; ReviewRefused when the decision did not take effect."""
    batch = _decide(store, actor, lambda _writer: [registration_id], decision, bulk=False)
    if batch.refused:
        raise ReviewRefused(batch.refused[0][1])
    return batch.applied[0]


def decide_many(store: Store, actor: Actor, shown: list[Shown], decision: workflow.Decision) -> Batch:
    """Approve the revisions a reviewer was shown, in one transaction. Flagged revisions, any a
    decision can no longer apply to, and any that are not the graduate and revision the page
    showed are refused one by one (with the reason); the rest take effect."""
    if decision.decision != "approve":
        raise ReviewRefused("批量操作只能通过；退回须逐条填写原因")
    listed = {s.registration_id: s for s in shown}
    return _decide(store, actor, lambda _writer: list(listed), decision, bulk=True, shown=listed)


def decide_current(store: Store, actor: Actor, student_id: str, decision: workflow.Decision) -> Outcome:
    """Decide a graduate's current revision (the CLI names graduates, not revisions)."""

    def find(writer: Writer) -> list[int]:
        with writer.only_students([student_id]):
            current = writer.one("current_revision_of", student_id=student_id)
        if current is None:
            raise ReviewRefused(f"学号 {student_id} 没有登记，或不在你的审核范围内")
        return [int(current["registration_id"])]

    # Looked up and decided in one transaction: nothing can replace the revision in between.
    batch = _decide(store, actor, find, decision, bulk=False)
    if batch.refused:
        raise ReviewRefused(batch.refused[0][1])
    return batch.applied[0]


def _decide(
    store: Store,
    actor: Actor,
    which: Callable[[Writer], list[int]],
    decision: workflow.Decision,
    *,
    bulk: bool,
    shown: dict[int, Shown] | None = None,
) -> Batch:
    """Decide the revisions `which` names, inside the transaction (so a graduate's current
    revision is looked up and decided without a gap)."""
    # A role that may not decide at this level is refused inside the transaction, so that the
    # attempt is audited like every other refusal.
    role_refusal = (
        None
        if decision.level in levels_of(actor)
        else f"你的角色不能进行{workflow.LEVELS.get(decision.level, decision.level)}审核"
    )
    workflow.next_status(
        workflow.PENDING_COLLEGE if decision.level == "college" else workflow.PENDING_SCHOOL, decision
    )  # the decision itself is well-formed (a return has a reason)

    def work(writer: Writer) -> Batch:
        ids = which(writer)
        students = writer.query("review_students", ids=ids)["student_id"].unique().to_list()
        targets = _current_targets(writer, students)

        def problem_of(registration_id: int, target: dict[str, Any] | None) -> str | None:
            return (
                role_refusal
                or _not_as_shown((shown or {}).get(registration_id), target)
                or _problem(registration_id, target, decision, bulk)
            )

        # What the current revisions do not settle is read again in full, for its refusal (a role
        # that may not decide at this level is refused whatever the revision: nothing to read)
        if not role_refusal and (unsettled := [i for i in ids if problem_of(i, targets.get(i))]):
            with writer.only_students(students):
                targets.update({r["registration_id"]: r for r in writer.rows("review_targets", ids=unsettled)})
        batch = Batch()
        now = writer.now()
        for registration_id in ids:
            target = targets.get(registration_id)
            problem = problem_of(registration_id, target)
            if problem or target is None:
                batch.refused.append((registration_id, problem or ""))
                continue
            batch.applied.append(
                Outcome(
                    registration_id,
                    target["student_id"],
                    target["name"],
                    workflow.next_status(target["status"], decision),
                )
            )
        if batch.applied:
            writer.insert(
                "reviews",
                pl.DataFrame(
                    {
                        "review_id": writer.next_ids("review_ids", len(batch.applied)),
                        "registration_id": [o.registration_id for o in batch.applied],
                        "level": decision.level,
                        "decision": decision.decision,
                        "reason": decision.reason.strip() or None,
                        "reviewer": actor.name,
                        "decided_at": now,
                    },
                    schema_overrides={"reason": pl.String},
                ),
            )
        writer.touched_students = sorted({o.student_id for o in batch.applied})
        writer.audit_target = ",".join(str(i) for i in ids[:50])
        writer.audit_detail = {
            "level": decision.level,
            "decision": decision.decision,
            "reason": decision.reason.strip() or None,
            "applied": [o.registration_id for o in batch.applied],
            "refused": [{"registration_id": i, "why": why} for i, why in batch.refused],
        }
        return batch

    try:
        return store.transaction(actor, f"review:{decision.level}:{decision.decision}", work, combine=True)
    except StoreConflict:
        # unique (registration_id, level): another decision reached the table first
        raise ReviewRefused("该登记刚刚已由其他审核人审核，你的审核未生效，请刷新后查看") from None


def _current_targets(writer: Writer, students: list[str]) -> dict[int, dict[str, Any]]:
    """Each graduate's current revision as a decision's target, from the stages (the
    materialised copy when it is fresh: a few milliseconds where the full look costs tens)."""
    with writer.stages_for(students):
        rows = writer.rows("review_current", students=students)
    return {
        r["registration_id"]: {
            **r,
            "current_registration_id": r["registration_id"],
            "current_revision_no": r["revision_no"],
            "last_decided_at": None,
        }
        for r in rows
    }


def _problem(
    registration_id: int, target: dict[str, Any] | None, decision: workflow.Decision, bulk: bool
) -> str | None:
    if target is None:
        return f"登记 {registration_id} 不存在，或不在你的审核范围内"
    who = f"{target['name']}（{target['student_id']}）"
    if target["registration_id"] != target["current_registration_id"]:
        return (
            f"{who}的第 {target['revision_no']} 版登记已被毕业生重新提交的第 {target['current_revision_no']} 版取代，"
            "本次审核未生效，请审核新版本"
        )
    try:
        workflow.next_status(target["status"], decision)
    except workflow.WorkflowError as exc:
        if target["last_decided_at"] is not None:
            return (
                f"{who}第 {target['revision_no']} 版已由 {target['last_reviewer']} 于 "
                f"{_when(target['last_decided_at'])} {workflow.LEVELS[target['last_level']]}"
                f"{workflow.DECISIONS[target['last_decision']]}，你的审核未生效"
            )
        return f"{who}：{exc}"
    if bulk and target["flags"]:
        return f"{who}有退档风险标记，须逐条审核"
    return None


def _not_as_shown(listed: Shown | None, target: dict[str, Any] | None) -> str | None:
    """Why a bulk item is not the revision the reviewer was shown (None when it is)."""
    if listed is None or target is None:
        return None
    if (target["student_id"], target["revision_no"]) != (listed.student_id, listed.revision_no):
        return (
            f"登记 {listed.registration_id} 是{target['name']}（{target['student_id']}）第 {target['revision_no']} 版，"
            f"不是页面显示的 {listed.student_id} 第 {listed.revision_no} 版，未审核"
        )
    return None


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def timeline_actor(event: dict[str, Any], *, with_account: bool) -> str:
    """Who made an event of registration_timeline.sql, as people know them: where a revision
    came from (毕业生本人, 导入文件 …), and a reviewer by their display name, followed for staff
    (`with_account`) by the account that decided ("演示·校级审核员（school）"). A reviewer that
    is no account (imported or demo history records names) shows as recorded."""
    actor = event["actor"] or ""
    if event["event"] == "submitted":
        return submissions.SOURCES.get(actor, actor)
    name = event.get("actor_name")
    if not name or name == actor:
        return actor
    return f"{name}（{actor}）" if with_account else name
