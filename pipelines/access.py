"""Who may open which page and take which file away: the one role matrix.

The store's scope (a dean's colleges, a graduate's own row) decides *which rows* a user sees,
on every path. This matrix decides *which pages and exports* a role has at all: the dashboard
builds its navigation from it, every page checks it again on its own (a page file can be
reached without the navigation), and the export functions check it before they read. A refused
export is audited. The action rules live beside their actions: review levels in
`reviews.ROLE_LEVELS`, report issuing in `reports.ISSUERS`, reveals in `privacy.REVEALERS`,
the audit log in `privacy.AUDITORS`, accounts in `accounts` (admin only).
"""

from __future__ import annotations

from pipelines.store import Actor, Store, StoreError

STAFF = frozenset({"system", "admin", "school_reviewer", "college_reviewer", "analyst"})
REVIEWERS = frozenset({"system", "admin", "school_reviewer", "college_reviewer"})
ADMINS = frozenset({"system", "admin"})
GRADUATES = frozenset({"graduate"})  # the five modules: a graduate's own forms

# page key -> roles that may open it ("verify" is public: receiving units have no account)
PAGES: dict[str, frozenset[str]] = {
    "overview": STAFF,
    "stats": STAFF,
    "risk": STAFF,
    "review": REVIEWERS,
    "reports": ADMINS,
    "college": STAFF,
    "detail": REVIEWERS | {"graduate"},
    "audit": ADMINS,
    "users": ADMINS,
    "imports": ADMINS,
    "campaign": ADMINS,
    "destination_form": GRADUATES,
    "registration_form": GRADUATES,
    "hukou_form": GRADUATES,
    "confirm": GRADUATES,
    "authorize": GRADUATES,
}
PUBLIC_PAGES = frozenset({"verify"})

# Lists of named graduates (risk list, class lists): people who chase or review them. Analysts
# work with aggregates only; they see counts and rates, never a list of people.
LIST_READERS = REVIEWERS

EXPORTS: dict[str, frozenset[str]] = {
    "chase_list": REVIEWERS,
    "review_results": REVIEWERS,
    "audit_log": ADMINS,
    "stats": STAFF,  # aggregates only
    "weekly": STAFF,
    "brief": STAFF,
    "registrations": REVIEWERS,  # one row per graduate (masked)
    "import_refusals": ADMINS,
    "activation_codes": ADMINS,  # one-time codes for graduates: the office hands them to advisors  # the refused rows of an import, values as the file had them
}
# Changes to the roster, registrations and campaign settings: the office only.
IMPORTERS = ADMINS


class AccessRefused(StoreError):
    pass


def may_open(role: str, page: str) -> bool:
    return page in PUBLIC_PAGES or role in PAGES.get(page, frozenset())


def may_list_people(role: str) -> bool:
    return role in LIST_READERS


def own_college(actor: Actor) -> str | None:
    """The college of a college reviewer who has exactly one: pages choose it for them (#16)."""
    if actor.role == "college_reviewer" and actor.colleges is not None and len(actor.colleges) == 1:
        return actor.colleges[0]
    return None


def may_export(role: str, export: str) -> bool:
    return role in EXPORTS.get(export, frozenset())


def require_export(store: Store, actor: Actor, export: str, target: str) -> None:
    """Refuse (and audit the refusal) an export this role does not have."""
    require(
        store,
        actor,
        EXPORTS.get(export, frozenset()),
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
