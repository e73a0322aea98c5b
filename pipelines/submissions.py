"""New revisions of archive registrations: the one way a registration changes.

Imports (a batch of rows) and a graduate's own submission (档案信息登记) both end in
`add_revisions`: a new immutable revision numbered after the current one, with the
returned-archive flags computed at submission. Nothing is ever overwritten, and a new revision
starts again at 待院审核 (it has no reviews).

An import records what another system holds, flags and all. A graduate's form is held to the
national form's own rules (`BLOCKING` checks, a real 省/市/区); the other checks are hints the
graduate sees while typing and the reviewer sees as flags.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import polars as pl
from PIL import Image, ImageOps, UnidentifiedImageError

from pipelines import access
from pipelines.rules import checks, divisions, identity, roles, text, transfer_types, workflow
from pipelines.store import Actor, Reader, Store, StoreError, Writer

REGISTRATION_CONTENT = [
    "transfer_type",
    "unit_name",
    "province",
    "city",
    "district",
    "address_detail",
    "postcode",
    "contact",
    "phone",
    "note",
    "proof_count",
    "transfer_number",
]
# What the graduate's form holds. The 转递编号 is the national system's, never typed: a new
# revision keeps the current one's.
TEXT_FIELDS = [c for c in REGISTRATION_CONTENT if c not in ("proof_count", "transfer_number")]


# Checks that refuse a graduate's form outright (the national form will not submit either);
# every other check is a hint to the graduate and a flag to the reviewer.
BLOCKING = ("required_missing", "note_too_long", "proof_missing", "postcode_malformed", "phone_malformed")

# Where a revision came from (registrations.source), as the timeline names it.
SOURCES = {"graduate": "毕业生本人", "import": "导入文件", "demo": "演示数据"}

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


class SubmissionRefused(StoreError):
    pass


class ChangeVoids(SubmissionRefused):
    """A change that would void a confirmation (and the reports on it), refused until the
    graduate (or the office) has been told and agrees: `voiding_ok=True`."""


REPORT_KINDS = ("archive", "hukou")


def void_facts(reader: Reader, student_id: str) -> tuple[dict[str, Any] | None, list[str]]:
    """What `void_warning` reads: the change_voids row, and the numbers of the reports in force
    on that confirmation (report_in_force of each kind); from a reader or, in a write, the writer."""
    with reader.only_students([student_id]):
        facts = reader.one("change_voids", student_id=student_id)
    if not facts or not facts["is_confirmed"]:
        return facts, []
    return facts, [
        str(r["report_number"])
        for kind in REPORT_KINDS
        for r in reader.rows("report_in_force", ids=[student_id], kind=kind)
        if r["confirmation_id"] == facts["confirmation_id"]
    ]


def void_warning(facts: dict[str, Any] | None, report_numbers: list[str]) -> str | None:
    """What a change to a graduate's records would void, said to them before they save it
    (None: nothing): `facts` has is_confirmed and confirmed_at (change_voids, graduate_detail),
    `report_numbers` the reports in force on that confirmation."""
    if not facts or not facts["is_confirmed"]:
        return None
    text = f"你已于 {facts['confirmed_at']:%Y-%m-%d} 确认去向登记。保存这次修改后，这次确认将失效，须重新确认"
    if report_numbers:
        text += f"；核验报告 {'、'.join(sorted(report_numbers))} 也将失效，须重新确认后再生成"
    return text + "。"


def refuse_unless_agreed(writer: Writer, student_id: str, voiding_ok: bool) -> None:
    """Inside a change's transaction: refuse it when it would void a confirmation or a report
    in force and the caller has not said the graduate agreed."""
    if not voiding_ok and (warning := void_warning(*void_facts(writer, student_id))):
        raise ChangeVoids(warning + "如确需修改，请确认后再保存。")


@dataclass(frozen=True)
class Proof:
    file_name: str
    mime_type: str
    content: bytes


def proof_image(file_name: str, content: bytes) -> Proof:
    """A proof image checked by its content (not its name) and re-encoded, which drops EXIF
    and GPS data: JPEG stays JPEG, anything else becomes PNG. SubmissionRefused otherwise."""
    name = PurePath(file_name).name or "证明材料"
    if len(content) > MAX_IMAGE_BYTES:
        raise SubmissionRefused(f"{name}：图片超过 {MAX_IMAGE_BYTES // 1024 // 1024} MB")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise SubmissionRefused(f"{name}：图片尺寸过大")
            is_jpeg = image.format == "JPEG"
            upright = ImageOps.exif_transpose(image)  # keep the orientation the EXIF asked for
            out = io.BytesIO()
            # Pillow writes metadata (EXIF, text chunks, ICC) only when asked to: none is asked.
            if is_jpeg:
                upright.convert("RGB").save(out, format="JPEG", quality=90)
            else:
                upright.save(out, format="PNG")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise SubmissionRefused(f"{name}：不是可识别的图片（请上传 JPG 或 PNG）") from None
    stem = PurePath(name).stem
    return Proof(f"{stem}.{'jpg' if is_jpeg else 'png'}", "image/jpeg" if is_jpeg else "image/png", out.getvalue())


def add_revisions(writer: Writer, frame: pl.DataFrame, *, source: str, batch_id: int | None) -> pl.DataFrame:
    """Append one new revision per row of `frame`; returns `frame` with `new_registration_id`,
    `new_revision_no` and `flags`.

    `frame` holds student_id, the REGISTRATION_CONTENT columns, submitted_at, the roster's
    graduate_name, graduate_phone and origin_code (for the checks), and revision_no: the
    graduate's current revision number (null when there is none).
    """
    fresh = checks.with_flags(frame).with_columns(
        pl.Series("new_registration_id", writer.next_ids("registration_ids", frame.height)),
        (pl.col("revision_no").fill_null(0) + 1).cast(pl.Int32).alias("new_revision_no"),
    )
    writer.insert(
        "registrations",
        fresh.select(
            pl.col("new_registration_id").alias("registration_id"),
            "student_id",
            pl.col("new_revision_no").alias("revision_no"),
            *REGISTRATION_CONTENT,
            "flags",
            "submitted_at",
            pl.lit(source).alias("source"),
            pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        ),
    )
    return fresh


def submit(
    store: Store,
    actor: Actor,
    student_id: str,
    form: dict[str, Any],
    images: list[tuple[str, bytes]] | None = None,
    *,
    source: str = "graduate",
    voiding_ok: bool = False,
) -> int | None:
    """Submit (or resubmit) one graduate's registration; returns the new revision's id, or
    None when the form and images equal the current, not returned, revision (nothing written:
    an unchanged save must not send a confirmed graduate back to review).

    A change that would void the graduate's confirmation in force (and its reports) is refused
    (ChangeVoids, saying what it voids) unless `voiding_ok`: the page asks first.

    `images` are (file name, bytes) of up to three proof images, checked and re-encoded by
    `proof_image` before anything is written.

    Allowed when the graduate has no registration yet, or when the current one was returned or
    approved (a change after approval is reviewed again). While a revision waits for review it
    cannot be replaced: the college returns it first.
    """
    access.require(
        store,
        actor,
        roles.SELF_SERVICE,
        "registration:submit",
        student_id,
        "只有毕业生本人（或就业处代为）可以提交档案信息登记",
        SubmissionRefused,
    )
    if form.get("transfer_type") not in transfer_types.BY_KEY:
        raise SubmissionRefused(f"档案转递类型无效：{form.get('transfer_type')!r}")
    if len(images or []) > checks.MAX_PROOF_IMAGES:
        raise SubmissionRefused(f"图像材料最多 {checks.MAX_PROOF_IMAGES} 张")
    if problems := form_problems(form, len(images or [])):
        raise SubmissionRefused("；".join(problems))
    proofs = [proof_image(name, content) for name, content in images or []]

    def work(writer: Writer) -> int | None:
        graduate = graduate_facts(writer, student_id)
        with writer.only_students([student_id]):
            current = writer.one("current_revision_of", student_id=student_id)
        if current and current["status"] in (workflow.PENDING_COLLEGE, workflow.PENDING_SCHOOL):
            raise SubmissionRefused(
                f"当前登记{workflow.STATUS_LABELS[current['status']]}，审核结束前不能修改；如需修改，请联系学院退回"
            )
        row: dict[str, Any] = dict(cleaned_form(form))
        # A returned revision sent again as it was is a resubmission (the graduate answers the
        # return); any other unchanged save writes nothing.
        if (
            current
            and current["status"] != workflow.RETURNED
            and _same_as(writer, student_id, current["registration_id"], row, images or [])
        ):
            writer.touched_students = []
            writer.audit_detail = {"outcome": "unchanged", "revision_no": current["revision_no"]}
            return None
        refuse_unless_agreed(writer, student_id, voiding_ok)
        row |= {
            "student_id": student_id,
            "proof_count": len(proofs),
            "submitted_at": writer.now(),
            "transfer_number": (current or {}).get("transfer_number") or "",
            "revision_no": current["revision_no"] if current else None,
            **{k: graduate[k] for k in ("graduate_name", "graduate_phone", "origin_code")},
        }
        frame = pl.DataFrame(
            [row],
            schema_overrides={
                "proof_count": pl.Int32,
                "revision_no": pl.Int32,
                "graduate_phone": pl.String,
                "origin_code": pl.String,
            },
        )
        fresh = add_revisions(writer, frame, source=source, batch_id=None)
        registration_id = int(fresh["new_registration_id"][0])
        if proofs:
            writer.insert(
                "registration_proofs",
                pl.DataFrame(
                    {
                        "proof_id": writer.next_ids("proof_ids", len(proofs)),
                        "registration_id": [registration_id] * len(proofs),
                        "file_name": [p.file_name for p in proofs],
                        "mime_type": [p.mime_type for p in proofs],
                        "content": [p.content for p in proofs],
                        "uploaded_at": [writer.now()] * len(proofs),
                    }
                ),
            )
        writer.touched_students = [student_id]
        writer.audit_target = student_id
        writer.audit_detail = {
            "registration_id": registration_id,
            "revision_no": int(fresh["new_revision_no"][0]),
            "flags": list(fresh["flags"][0]),
            "proofs": len(proofs),
        }
        return registration_id

    return store.transaction(actor, "registration:submit", work, student_id, combine=True)


def _same_as(
    writer: Writer, student_id: str, registration_id: int, row: dict[str, Any], images: list[tuple[str, bytes]]
) -> bool:
    """Whether a cleaned form and its images equal a stored revision (content and proofs)."""
    with writer.only_students([student_id]):
        stored = writer.one("registration_content", registration_id=registration_id)
        proofs = writer.rows("proofs_of", registration_id=registration_id)
    if stored is None:
        return False
    return all((stored[c] or "") == (row[c] or "") for c in TEXT_FIELDS) and [
        (p["file_name"], bytes(p["content"])) for p in proofs
    ] == [(n, bytes(c)) for n, c in images]


def cleaned_form(form: dict[str, Any]) -> dict[str, str]:
    """A graduate's form as it is stored: text trimmed and full-width characters made ASCII
    (`１３８…`), the postcode without spaces, the phone without +86 and separators."""
    values = {c: text.clean(form.get(c)) for c in TEXT_FIELDS}
    values["postcode"] = text.compact(values["postcode"])
    values["phone"] = identity.normalize_phone(text.compact(values["phone"]))
    return values


def form_problems(form: dict[str, Any], image_count: int) -> list[str]:
    """Why a graduate's 档案信息登记 cannot be submitted as it stands ([] when it can): the
    `BLOCKING` checks, and an address that is not a real 省/市/区."""
    values = cleaned_form(form)
    problems = [
        f"{checks.BY_CODE[code].title}：{checks.BY_CODE[code].explanation}"
        for code in checks.flags_of({**values, "proof_count": image_count})
        if code in BLOCKING
    ]
    if values["province"] and (
        where := divisions.address_problem(values["province"], values["city"], values["district"])
    ):
        problems.append(f"档案转递单位地址：{where}")
    return problems


def form_hints(form: dict[str, Any], image_count: int, graduate: dict[str, Any]) -> list[str]:
    """The returned-archive checks that flag a graduate's form without refusing it (codes),
    checked against their roster facts (graduate_detail's name, phone, origin_code)."""
    facts = {
        "proof_count": image_count,
        "graduate_name": graduate.get("name"),
        "graduate_phone": graduate.get("phone"),
        "origin_code": graduate.get("origin_code"),
    }
    return [code for code in checks.flags_of({**cleaned_form(form), **facts}) if code not in BLOCKING]


def graduate_facts(writer: Writer, student_id: str) -> dict[str, Any]:
    """The roster facts of a graduate in the writer's scope (graduate_for_submission); refuses
    one outside it, and a graduate's own change after the campaign's change deadline."""
    with writer.only_students([student_id]):
        graduate = writer.one("graduate_for_submission", student_id=student_id)
    if graduate is None:
        raise SubmissionRefused(f"学号 {student_id} 不在名单中，或不在你的范围内")
    deadline = graduate["change_deadline"]
    if writer.actor.role == "graduate" and deadline is not None and writer.today > deadline:
        raise SubmissionRefused(f"已过信息修改截止日期（{deadline:%Y-%m-%d}），如需修改请联系学院或就业处")
    return graduate
