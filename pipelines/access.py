"""Refusals that are audited: the domain's side of the role matrix in `pipelines.rules.roles`.

The role sets and `may_*` predicates are rules (`rules/roles.py`); refusing an action writes an
audit row, which needs the store, so `require` lives here, with the domain.
"""

from __future__ import annotations

from pipelines.rules import roles
from pipelines.store import Actor, Store, StoreError


class AccessRefused(StoreError):
    pass


def own_college(actor: Actor) -> str | None:
    """The college of a college reviewer who has exactly one: pages choose it for them (#16)."""
    if actor.role == "college_reviewer" and actor.colleges is not None and len(actor.colleges) == 1:
        return actor.colleges[0]
    return None


def require_export(store: Store, actor: Actor, export: str, target: str) -> None:
    """Refuse (and audit the refusal) an export this role does not have."""
    require(
        store,
        actor,
        roles.EXPORTS.get(export, frozenset()),
        f"export:{export}",
        target,
        f"你的角色不能导出此文件（{target}）",
    )


def require(
    store: Store,
    actor: Actor,
    roles: frozenset[str],
    action: str,
    target: str | None,
    refusal: str,
    error: type[StoreError] = AccessRefused,
) -> None:
    """Refuse `action` unless the actor's role is one of `roles`; the refusal is audited."""
    if actor.role in roles:
        return
    store.record(actor, action, target, {"outcome": "refused", "role": actor.role})
    raise error(refusal)
