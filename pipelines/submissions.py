"""New revisions of archive registrations: the one way a registration changes.

Imports (a batch of rows) and a single resubmission (the review page's tests, the graduate's
side later) both end in `add_revisions`: a new immutable revision numbered after the current
one, with the returned-archive flags computed at submission. Nothing is ever overwritten, and a
new revision starts again at 待院审核 (it has no reviews).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines import checks, transfer_types, workflow
from pipelines.store import Actor, Store, StoreError, Writer

REGISTRATION_CONTENT = [
    "transfer_type", "unit_name", "province", "city", "district", "address_detail",
    "postcode", "contact", "phone", "note", "proof_count",
]
TEXT_FIELDS = [c for c in REGISTRATION_CONTENT if c != "proof_count"]


class SubmissionRefused(StoreError):
    pass


@dataclass(frozen=True)
class Proof:
    file_name: str
    mime_type: str
    content: bytes


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
    writer.insert("registrations", fresh.select(
        pl.col("new_registration_id").alias("registration_id"),
        "student_id",
        pl.col("new_revision_no").alias("revision_no"),
        *REGISTRATION_CONTENT, "flags", "submitted_at",
        pl.lit(source).alias("source"), pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
    ))
    return fresh


def submit(store: Store, actor: Actor, student_id: str, form: dict[str, Any],
           proofs: list[Proof] | None = None, *, source: str = "graduate") -> int:
    """Submit (or resubmit) one graduate's registration; returns the new revision's id.

    Allowed when the graduate has no registration yet, or when the current one was returned or
    approved (a change after approval is reviewed again). While a revision waits for review it
    cannot be replaced: the college returns it first.
    """
    proofs = list(proofs or [])
    if form.get("transfer_type") not in transfer_types.BY_KEY:
        raise SubmissionRefused(f"档案转递类型无效：{form.get('transfer_type')!r}")
    if len(proofs) > checks.MAX_PROOF_IMAGES:
        raise SubmissionRefused(f"图像材料最多 {checks.MAX_PROOF_IMAGES} 张")

    def work(writer: Writer) -> int:
        with writer.only_students([student_id]):
            graduate = writer.one("graduate_for_submission", student_id=student_id)
            current = writer.one("current_revision_of", student_id=student_id)
        if graduate is None:
            raise SubmissionRefused(f"学号 {student_id} 不在名单中，或不在你的范围内")
        if current and current["status"] in (workflow.PENDING_COLLEGE, workflow.PENDING_SCHOOL):
            raise SubmissionRefused(
                f"当前登记{workflow.STATUS_LABELS[current['status']]}，审核结束前不能修改；如需修改，请联系学院退回")
        row: dict[str, Any] = {c: str(form.get(c) or "").strip() for c in TEXT_FIELDS}
        row |= {"student_id": student_id, "proof_count": len(proofs), "submitted_at": writer.now(),
                "revision_no": current["revision_no"] if current else None,
                **{k: graduate[k] for k in ("graduate_name", "graduate_phone", "origin_code")}}
        frame = pl.DataFrame([row], schema_overrides={"proof_count": pl.Int32, "revision_no": pl.Int32,
                                                      "graduate_phone": pl.String, "origin_code": pl.String})
        fresh = add_revisions(writer, frame, source=source, batch_id=None)
        registration_id = int(fresh["new_registration_id"][0])
        if proofs:
            writer.insert("registration_proofs", pl.DataFrame({
                "proof_id": writer.next_ids("proof_ids", len(proofs)),
                "registration_id": [registration_id] * len(proofs),
                "file_name": [p.file_name for p in proofs],
                "mime_type": [p.mime_type for p in proofs],
                "content": [p.content for p in proofs],
                "uploaded_at": [writer.now()] * len(proofs),
            }))
        writer.touched_students = [student_id]
        writer.audit_target = student_id
        writer.audit_detail = {"registration_id": registration_id, "revision_no": int(fresh["new_revision_no"][0]),
                               "flags": list(fresh["flags"][0]), "proofs": len(proofs)}
        return registration_id

    return store.transaction(actor, "registration:submit", work, student_id)
