"""Disclosure records: every view of unmasked data, every reveal and every export is recorded here.

Personal data is shown unmasked one record at a time, by roles that need it, always audited.
Pages and exports show 身份证号 and phone masked (pipelines/rules/identity.py). A reveal reads the
record in a write transaction that records who saw what before anything is returned, so no
unmasked view goes unrecorded; the store's scope still applies (a dean reveals only their
college's graduates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import polars as pl

from pipelines import access
from pipelines.rules import identity, roles, text
from pipelines.store import Actor, Store, StoreError, Writer

# The one disclosure rule: every sensitive field, by the name it has in query rows, and its mask.
# Pages, exports and PDFs show a row through `masked` / `masked_frame`; the unmasked value only
# through `reveal` (audited) or the review pane's audited view.
DISCLOSURE: dict[str, Callable[[str], str]] = {
    "id_number": identity.mask_id_number,
    "phone": identity.mask_phone,  # the graduate's mobile, or (in a registration row) the unit's phone
    "unit_phone": identity.mask_phone,
    "address_detail": identity.mask_address,
    "hukou_address": identity.mask_address,
}


# What a reveal shows (sql/queries/personal_data_of.sql), as recorded in its audit row.
REVEALED_FIELDS = ["address_detail", "hukou_address", "id_number", "phone", "unit_phone"]


def masked(row: dict[str, Any]) -> dict[str, Any]:
    """A copy of a row with every sensitive field it has masked."""
    return {k: (DISCLOSURE[k](v) if k in DISCLOSURE and isinstance(v, str) else v) for k, v in row.items()}


def masked_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`masked` for every row of a frame (exports)."""
    return frame.with_columns(text.mapped(frame[c], DISCLOSURE[c]) for c in frame.columns if c in DISCLOSURE)


class PrivacyRefused(StoreError):
    pass


def reveal(store: Store, actor: Actor, student_id: str) -> dict[str, Any]:
    """One graduate's unmasked sensitive fields (every field of DISCLOSURE their record has:
    身份证号, mobile, the current registration's unit phone and address, the hukou address),
    after recording the reveal."""
    access.require(store, actor, roles.REVEALERS, "reveal", student_id, "你的角色不能查看完整个人信息", PrivacyRefused)

    def work(writer: Writer) -> dict[str, Any] | None:
        found = writer.one("personal_data_of", student_id=student_id)
        writer.touched_students = []
        writer.audit_target = student_id
        # a refused attempt is recorded too (the transaction commits either way)
        writer.audit_detail = {"fields": REVEALED_FIELDS, "outcome": "shown" if found else "refused"}
        return found

    found = store.transaction(actor, "reveal", work, student_id)
    if found is None:
        raise PrivacyRefused(f"学号 {student_id} 不在名单中，或不在你的范围内")
    return found


def record_view(store: Store, actor: Actor, registration_id: int, student_id: str) -> None:
    """A reviewer opened a registration in the review pane, which shows what the review needs
    unmasked: the full address, the unit's phone and the proof images."""
    store.record(
        actor,
        "view:registration",
        str(registration_id),
        {"student_id": student_id, "fields": ["address_detail", "phone", "proofs"]},
    )


def record_export(
    store: Store, actor: Actor, action: str, file_name: str, data: bytes, rows: int, scope: dict[str, object]
) -> None:
    """The audit record every export leaves: what, for whom, its scope, rows and sha256."""
    store.record(actor, action, file_name, {**scope, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()})


def search_audit(store: Store, actor: Actor, **filters: Any) -> Any:
    """Audit records (sql/queries/audit_search.sql) for those who may read the log."""
    access.require(store, actor, roles.AUDITORS, "audit:read", None, "只有就业处管理员可以查看审计日志", PrivacyRefused)
    with store.reading(actor) as reader:
        return reader.query("audit_search", **filters)
