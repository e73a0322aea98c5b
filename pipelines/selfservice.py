"""The graduate's own side of the seed's five modules, beside `submissions` (档案信息登记) and
`reports` (去向登记确认, 核验授权): 毕业去向填报, 户口信息登记, and the status page's "where
do I stand and what do I do next".

Destinations and hukou registrations are append-only like registrations: a change is a new
record, and the views make the newest one current. A change voids a confirmation made before
it (the views compare ids), so a graduate who changes anything must confirm again. Saving what
is already current writes nothing: it must not void a confirmation for no reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from pipelines import access
from pipelines.rules import checks, codes, divisions, progress, roles, transfer_types, verification, workflow
from pipelines.store import Actor, Store, Writer
from pipelines.submissions import (
    SubmissionRefused,
    graduate_facts,
    refuse_unless_agreed,
)

# Which destinations name a unit or school, and what the form calls it.
UNIT_LABELS = {
    "employed": "就业单位名称",
    "entrepreneur": "创业企业名称",
    "further_study": "升学院校名称",
}
SERVICE_CODES = {"50", "502", "503", "51"}  # 基层项目: the unit served
NO_UNIT_CODES = {"46", "70", "701", "71", "72", "76"}  # 应征义务兵, 未落实, 自由职业: no unit asked
ADDRESS_MAX_CHARS = 100


def unit_label(code: str) -> str | None:
    """What the destination form asks for as the unit (None: nothing to ask)."""
    if code not in codes.DESTINATIONS or code in NO_UNIT_CODES:
        return None
    if code in SERVICE_CODES:
        return "服务单位名称"
    if code == "85":
        return "留学院校或境外单位名称"
    return UNIT_LABELS.get(codes.DESTINATIONS[code][1])


def destination_problems(code: str, unit: str, location: str) -> list[str]:
    """Why a 毕业去向 cannot be saved as it stands ([] when it can)."""
    if code not in codes.DESTINATIONS:
        return [f"毕业去向代码无效：{code!r}"]
    label = unit_label(code)
    problems = []
    if label and not unit.strip():
        problems.append(f"请填写{label}")
    if label and not location.strip():
        problems.append("请填写所在地（省市；出国出境填国家或地区）")
    if len(unit) > ADDRESS_MAX_CHARS or len(location) > ADDRESS_MAX_CHARS:
        problems.append(f"单位名称和所在地各不超过 {ADDRESS_MAX_CHARS} 字")
    return problems


def record_destination(
    store: Store,
    actor: Actor,
    student_id: str,
    code: str,
    unit: str = "",
    location: str = "",
    *,
    voiding_ok: bool = False,
) -> int | None:
    """毕业去向填报: record a graduate's destination; returns the new record's id, or None when
    it equals the current one (nothing written). A change that voids the confirmation in force
    is refused unless `voiding_ok` (submissions.refuse_unless_agreed)."""
    access.require(
        store,
        actor,
        roles.SELF_SERVICE,
        "destination:record",
        student_id,
        "只有毕业生本人（或就业处代为）可以填报毕业去向",
        SubmissionRefused,
    )
    code, unit, location = code.strip(), unit.strip(), location.strip()
    if problems := destination_problems(code, unit, location):
        raise SubmissionRefused("；".join(problems))
    if unit_label(code) is None:
        unit, location = "", ""

    def work(writer: Writer) -> int | None:
        graduate_facts(writer, student_id)
        values = {"destination_code": code, "employer_name": unit or None, "employer_location": location or None}
        current = writer.one("current_destination_of", student_id=student_id)
        new_id = _record_if_changed(writer, student_id, "destinations", current, values, voiding_ok)
        if new_id is not None:
            writer.audit_detail = {"destination_id": new_id, "code": code}
        return new_id

    return store.transaction(actor, "destination:record", work, student_id, combine=True)


# A graduate's own records kept as versions: the table, its id sequence and id column.
_VERSIONED = {"destinations": ("destination_ids", "destination_id"), "hukou_registrations": ("hukou_ids", "hukou_id")}


def _record_if_changed(
    writer: Writer,
    student_id: str,
    table: str,
    current: dict[str, Any] | None,
    values: dict[str, str | None],
    voiding_ok: bool,
) -> int | None:
    """A new version of a graduate's record (its id), or None when `values` equal the current
    one (nothing written). A change that voids the confirmation in force is refused unless
    `voiding_ok` (submissions.refuse_unless_agreed)."""
    if current and all((current[k] or "") == (v or "") for k, v in values.items()):
        writer.touched_students = []
        writer.audit_detail = {"outcome": "unchanged"}
        return None
    refuse_unless_agreed(writer, student_id, voiding_ok)
    sequence, id_column = _VERSIONED[table]
    new_id = int(writer.next_ids(sequence, 1)[0])
    row = {id_column: new_id, "student_id": student_id, **values, "recorded_at": writer.now()}
    writer.insert(table, pl.DataFrame([row], schema_overrides={k: pl.String for k in values}))
    writer.touched_students = [student_id]
    writer.audit_target = student_id
    return new_id


def hukou_problems(migration_type: str, province: str, city: str, district: str, address: str) -> list[str]:
    """Why a 户口信息登记 cannot be saved as it stands ([] when it can)."""
    problems = []
    if migration_type not in transfer_types.BY_KEY:
        problems.append("请选择户口迁移类型")
    if where := divisions.address_problem(province, city, district):
        problems.append(f"户口迁往地址：{where}")
    if checks.blank(address):
        problems.append("请填写详细地址（街道、门牌号，或接收单位的集体户地址）")
    elif len(address) > ADDRESS_MAX_CHARS:
        problems.append(f"详细地址不超过 {ADDRESS_MAX_CHARS} 字")
    return problems


def record_hukou(
    store: Store,
    actor: Actor,
    student_id: str,
    migration_type: str,
    province: str,
    city: str,
    district: str,
    address: str,
    *,
    voiding_ok: bool = False,
) -> int | None:
    """户口信息登记, for a graduate whose hukou moved into the school only; returns the new
    record's id, or None when it equals the current one (nothing written). A change that voids
    the confirmation in force is refused unless `voiding_ok`."""
    access.require(
        store,
        actor,
        roles.SELF_SERVICE,
        "hukou:record",
        student_id,
        "只有毕业生本人（或就业处代为）可以登记户口信息",
        SubmissionRefused,
    )
    fields = [v.strip() for v in (migration_type, province, city, district, address)]
    if problems := hukou_problems(*fields):
        raise SubmissionRefused("；".join(problems))

    def work(writer: Writer) -> int | None:
        # Unknown (a roster without the column) is not "not at the school": the graduate knows.
        if graduate_facts(writer, student_id)["is_hukou_at_school"] is False:
            raise SubmissionRefused("户口未迁入学校的毕业生无需登记户口信息")
        keys = ("migration_type", "province", "city", "district", "address_detail")
        current = writer.one("current_hukou_of", student_id=student_id)
        new_id = _record_if_changed(
            writer, student_id, "hukou_registrations", current, dict(zip(keys, fields, strict=True)), voiding_ok
        )
        if new_id is not None:
            writer.audit_detail = {"hukou_id": new_id, "migration_type": fields[0]}
        return new_id

    return store.transaction(actor, "hukou:record", work, student_id, combine=True)


@dataclass(frozen=True)
class Step:
    """Where a graduate stands and what to do next (the status page)."""

    stage: str  # workflow.STAGES key
    headline: str
    next_step: str
    page: str | None  # the module page to go to (a dashboard access key), None: nothing to do
    return_reason: str | None
    days_left: int
    deadline_note: str


def next_step(g: dict[str, Any], campaign: dict[str, Any], today: date, *, needs_update: bool = False) -> Step:
    """Decide the status page from one graduate_detail row.

    `needs_update`: the graduate's latest answer on the confirmation page was 信息有误."""
    stage = g["stage"]
    deadline = campaign["registration_deadline"]
    left = progress.days_left(deadline, today)
    headline = workflow.STAGES[stage]
    reason = g.get("return_reason") if g.get("status") == workflow.RETURNED else None
    hukou_missing = bool(g.get("is_hukou_at_school")) and g.get("hukou_id") is None
    if stage == "not_registered":
        step, page = "填写档案信息登记（转递类型、接收单位、地址、联系人、证明材料）并提交。", "registration_form"
        if g.get("destination_code") is None:
            step, page = "先填报毕业去向，再填写档案信息登记并提交。", "destination_form"
    elif stage == workflow.PENDING_COLLEGE:
        step, page = "等待学院审核，无需操作。审核结束前不能修改；如需修改，请联系学院退回。", None
    elif stage == workflow.PENDING_SCHOOL:
        step, page = "学院已通过，等待学校（就业处）审核，无需操作。", None
    elif stage == workflow.RETURNED:
        step, page = "按退回原因修改档案信息登记，重新提交（将重新经学院、学校审核）。", "registration_form"
    elif stage == workflow.APPROVED and hukou_missing:
        step, page = "你的户口在学校：先填写户口信息登记，再到去向登记确认核对并确认。", "hukou_form"
    elif stage == workflow.APPROVED and needs_update:
        step, page = (
            ("你确认时选择了“信息有误”：请更新有误的信息（档案信息修改后须重新审核），然后到去向登记确认再次确认。"),
            "confirm",
        )
    elif stage == workflow.APPROVED:
        step, page = "档案信息已通过审核：到去向登记确认核对毕业去向、档案（和户口）信息并确认。", "confirm"
    elif stage == "confirmed":
        step, page = "已确认登记去向：到核验授权设置有效期，下载核验报告，交班主任放入档案袋。", "authorize"
    else:
        until = g.get("report_valid_until")
        step = (
            "已完成。"
            + (f"核验报告有效期至 {until:%Y-%m-%d}。" if until else "")
            + "如毕业去向、档案或户口信息有变更，须重新确认并重新核验。"
        )
        page = None
    if stage in ("not_registered", workflow.RETURNED):
        note = (
            f"登记截止 {deadline:%Y-%m-%d}，还剩 {left} 天"
            if left >= 0
            else f"登记已于 {deadline:%Y-%m-%d} 截止（已过 {-left} 天），请尽快提交并联系学院"
        )
    else:
        change = campaign.get("change_deadline")
        note = f"登记截止 {deadline:%Y-%m-%d}" + (f"；确认后如有变更，可修改至 {change:%Y-%m-%d}" if change else "")
    return Step(stage, headline, step, page, reason, left, note)


def latest_answer_needs_update(confirmations: list[dict[str, Any]]) -> bool:
    """Whether the graduate's latest answer (confirmations_of rows, newest first) was 信息有误
    and nothing has changed since: they still have something to update."""
    return (
        bool(confirmations)
        and confirmations[0]["answer"] == "needs_update"
        and bool(confirmations[0]["is_about_current"])
    )


def reports_in_force(g: dict[str, Any], reports: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The report kinds a confirmed graduate has (archive; hukou when at the school and
    registered) and, per kind, their usable report on the current confirmation (reports_of rows):
    未确认 (no date yet) or 生效中. A kind without one needs a validity date set."""
    kinds = ["archive"] + (
        ["hukou"] if g.get("is_hukou_at_school") is not False and g.get("hukou_id") is not None else []
    )
    usable = {
        r["kind"]: r
        for r in reversed(reports)  # newest last, so newest wins
        if r["state"] in ("unset", "active")  # usable, on the current confirmation (not void)
    }
    return kinds, {k: usable[k] for k in kinds if k in usable}


def status(
    g: dict[str, Any],
    campaign: dict[str, Any],
    today: date,
    confirmations: list[dict[str, Any]],
    reports: list[dict[str, Any]],
) -> Step:
    """`next_step` from the graduate's rows: graduate_detail, confirmations_of and reports_of."""
    _, usable = reports_in_force(g, reports)
    archive = usable.get("archive")
    valid_until = archive["valid_until"] if archive and archive["report_status"] == "active" else None
    return next_step(
        g | {"report_valid_until": valid_until}, campaign, today, needs_update=latest_answer_needs_update(confirmations)
    )


def confirmation_missing(g: dict[str, Any]) -> list[tuple[str, str]]:
    """What a graduate must do before confirming on their own page, as (why, module page key),
    from a row with status, destination_id, hukou_id and is_hukou_at_school (graduate_detail, or
    confirmation_snapshot when `reports.confirm` enforces it)."""
    missing = []
    if g.get("destination_id") is None:
        missing.append(("尚未填报毕业去向", "destination_form"))
    if g.get("status") != workflow.APPROVED:
        now = f"（当前：{workflow.STATUS_LABELS[g['status']]}）" if g.get("status") else "（尚未登记）"
        missing.append(("档案信息登记须通过学校审核" + now, "registration_form"))
    if g.get("is_hukou_at_school") and g.get("hukou_id") is None:
        missing.append(("户口在学校，须先填写户口信息登记", "hukou_form"))
    return missing


def validity_cap(g: dict[str, Any], campaign: dict[str, Any]) -> date:
    """The last day a verification report of this graduate may be valid: graduation + 6 months."""
    return verification.latest_valid_until(g.get("graduation_date") or campaign["default_graduation_date"])
