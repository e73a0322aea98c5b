"""The review workflow: statuses, stages and who may move a registration from where.

The status of a revision is derived from its reviews in SQL (`sql/views/10_registration_status.sql`);
this module says which decisions are allowed, so that imports, reviewers and the CLI obey one
state machine.
"""

from __future__ import annotations

from dataclasses import dataclass

PENDING_COLLEGE = "pending_college"
PENDING_SCHOOL = "pending_school"
RETURNED = "returned"
APPROVED = "approved"

STATUS_LABELS = {
    PENDING_COLLEGE: "待院审核",
    PENDING_SCHOOL: "待校审核",
    RETURNED: "已退回",
    APPROVED: "已通过",
}
STATUS_BY_LABEL = {v: k for k, v in STATUS_LABELS.items()}

# The review-status words real systems export, and the status each means. A word that names a
# school-level return (校审核不通过) is RETURNED_BY_SCHOOL: the college had approved it.
RETURNED_BY_SCHOOL = "returned_by_school"
IMPORTED_STATUSES: dict[str, str] = {
    **{
        word: PENDING_COLLEGE
        for word in (
            "待院审核",
            "待审核",
            "未审核",
            "待学院审核",
            "待院系审核",
            "学院审核中",
            "院系审核中",
            "院审核中",
            "已提交",
            "审核中",
        )
    },
    **{
        word: PENDING_SCHOOL
        for word in ("待校审核", "院审核通过", "学院审核通过", "院系审核通过", "待学校审核", "学校审核中", "校审核中")
    },
    **{word: APPROVED for word in ("已通过", "校审核通过", "学校审核通过", "审核通过", "通过", "已审核")},
    **{
        word: RETURNED
        for word in (
            "已退回",
            "院审核不通过",
            "学院审核不通过",
            "院系审核不通过",
            "学院退回",
            "院系退回",
            "审核不通过",
            "不通过",
            "未通过",
            "退回",
            "驳回",
            "已驳回",
        )
    },
    **{word: RETURNED_BY_SCHOOL for word in ("校审核不通过", "学校审核不通过", "学校退回", "校退回")},
}

LEVELS = {"college": "学院", "school": "学校", "archive": "档案转递"}
DECISIONS = {"approve": "通过", "return": "退回"}

# A graduate's stage: how far along the whole registration is, in order.
STAGES = {
    "not_registered": "未登记",
    PENDING_COLLEGE: "待院审核",
    PENDING_SCHOOL: "待校审核",
    RETURNED: "已退回",
    APPROVED: "已通过（待确认）",
    "confirmed": "已确认（待核验）",
    "verified": "已核验",
}

# The counts `dangan stats` and the pages report, in funnel order.
COUNT_LABELS = {
    "graduates": "毕业生",
    "registered": "已登记",
    PENDING_COLLEGE: "待院审核",
    PENDING_SCHOOL: "待校审核",
    RETURNED: "已退回",
    APPROVED: "已通过",
    "confirmed": "已确认",
    "verified": "已核验",
}

# (status, level, decision) -> new status. Anything else is refused.
_TRANSITIONS = {
    (PENDING_COLLEGE, "college", "approve"): PENDING_SCHOOL,
    (PENDING_COLLEGE, "college", "return"): RETURNED,
    (PENDING_SCHOOL, "school", "approve"): APPROVED,
    (PENDING_SCHOOL, "school", "return"): RETURNED,
    # the archive came back (退档): the approved revision is reopened with the return's reason,
    # and the graduate's next revision goes through review again (pipelines/dispatch.py)
    (APPROVED, "archive", "return"): RETURNED,
}


class WorkflowError(ValueError):
    """A decision the state machine does not allow; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class Decision:
    level: str
    decision: str
    reason: str = ""


def next_status(status: str, decision: Decision) -> str:
    """The status after `decision`, or WorkflowError saying why it is not allowed."""
    if decision.level not in LEVELS or decision.decision not in DECISIONS:
        raise WorkflowError(f"未知的审核级别或结论：{decision.level}/{decision.decision}")
    if decision.decision == "return" and not decision.reason.strip():
        raise WorkflowError("退回必须填写原因")
    new = _TRANSITIONS.get((status, decision.level, decision.decision))
    if new is None:
        raise WorkflowError(
            f"当前状态为“{STATUS_LABELS.get(status, status)}”，"
            f"不能进行{LEVELS[decision.level]}{DECISIONS[decision.decision]}"
        )
    return new


def decisions_to_reach(status: str, target: str, reason: str = "") -> list[Decision]:
    """The decisions that move a fresh revision (待院审核) to `target`.

    Used when an export already carries a review outcome: 已通过 means both levels approved;
    已退回 is recorded as a college return unless the college had already approved;
    RETURNED_BY_SCHOOL (校审核不通过) is a college approval and a school return.
    """
    path: list[Decision] = []
    current = status
    if target == RETURNED_BY_SCHOOL:
        if current == PENDING_COLLEGE:
            path.append(Decision("college", "approve"))
            current = PENDING_SCHOOL
        target = RETURNED
    while current != target:
        if current == PENDING_COLLEGE:
            step = (
                Decision("college", "return", reason or "（导入）已退回")
                if target == RETURNED
                else Decision("college", "approve")
            )
        elif current == PENDING_SCHOOL:
            step = (
                Decision("school", "return", reason or "（导入）已退回")
                if target == RETURNED
                else Decision("school", "approve")
            )
        else:
            raise WorkflowError(f"审核状态不能从“{STATUS_LABELS[current]}”变为“{STATUS_LABELS[target]}”")
        current = next_status(current, step)
        path.append(step)
    return path
