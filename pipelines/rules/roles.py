"""Every role set and every `may_*` predicate: the one role matrix.

The store's scope (a dean's colleges, a graduate's own row) decides *which rows* a user sees, on
every path. These sets decide *which pages, exports and actions* a role has at all: the dashboard
builds its navigation from them, every page checks again on its own (a page file can be reached
without the navigation), and the domain functions check before they read or write. A refusal is
audited by the domain (`pipelines.access.require`), not here: rules import nothing in the house.
"""

from __future__ import annotations

# The roles that come with accounts, as the UI names them ("system" is the CLI and the demo).
ROLES = {
    "admin": "就业处管理员",
    "school_reviewer": "校级审核员",
    "college_reviewer": "学院审核员/院长",
    "analyst": "分析员",
    "graduate": "毕业生",
}

STAFF = frozenset({"system", "admin", "school_reviewer", "college_reviewer", "analyst"})
REVIEWERS = frozenset({"system", "admin", "school_reviewer", "college_reviewer"})
ADMINS = frozenset({"system", "admin"})
GRADUATES = frozenset({"graduate"})  # the five modules: a graduate's own forms

# Who may change a graduate's own records (registration, destination, hukou), issue and close
# their reports, and record their answer on the confirmation page: the graduate (the store's
# scope shows them no one else), or the office for them (the CLI, the office's counter).
# Reviewers review; they do not fill in the graduate's form. Analysts never act on a person.
SELF_SERVICE = frozenset({"system", "admin", "graduate"})
ISSUERS = SELF_SERVICE  # reports: issue, close
CONFIRMERS = SELF_SERVICE  # the graduate's answer on the confirmation page

# Which review levels each role decides at.
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "system": frozenset({"college", "school"}),
    "admin": frozenset({"college", "school"}),
    "school_reviewer": frozenset({"school"}),
    "college_reviewer": frozenset({"college"}),
}

# The archive's dispatch: the office builds batches, prints, records waybills, returns and waits;
# a dean marks the bags of their own college (the store's scope shows them no other).
DISPATCHERS = frozenset({"system", "admin", "school_reviewer"})
BAGGERS = DISPATCHERS | {"college_reviewer"}

# Who may see a graduate's personal data unmasked (each view is audited), and read the audit log.
REVEALERS = REVIEWERS
AUDITORS = ADMINS

# page key -> roles that may open it ("verify" is public: receiving units have no account)
PAGES: dict[str, frozenset[str]] = {
    "overview": STAFF,
    "stats": STAFF,
    "risk": STAFF,
    "review": REVIEWERS,
    "reports": ADMINS,
    "college": STAFF,
    "detail": REVIEWERS | GRADUATES,
    "audit": AUDITORS,
    "users": ADMINS,
    "imports": ADMINS,
    "campaign": ADMINS,
    "destination_form": GRADUATES,
    "registration_form": GRADUATES,
    "hukou_form": GRADUATES,
    "confirm": GRADUATES,
    "authorize": GRADUATES,
    "dispatch": BAGGERS,
    "check_learning": REVIEWERS,
}
PUBLIC_PAGES = frozenset({"verify"})

# Lists of named graduates (risk list, class lists): people who chase or review them. Analysts
# work with aggregates only; they see counts and rates, never a list of people.
LIST_READERS = REVIEWERS

EXPORTS: dict[str, frozenset[str]] = {
    "chase_list": REVIEWERS,
    "review_results": REVIEWERS,
    "audit_log": AUDITORS,
    "stats": STAFF,  # aggregates only
    "weekly": STAFF,
    "brief": STAFF,
    "registrations": REVIEWERS,  # one row per graduate (masked)
    "import_refusals": ADMINS,  # the refused rows of an import, values as the file had them
    "activation_codes": ADMINS,
    "dispatch_papers": DISPATCHERS,  # slips, address labels, the post's list (masked where the receiver needs no more)  # one-time codes for graduates: the office hands them to advisors
}
# Changes to the roster, registrations and campaign settings: the office only.
IMPORTERS = ADMINS

# Roles that see aggregates only (counts and rates, never a list of people), and the queries that
# list people or show one person's record: the store refuses those to these roles on every path.
AGGREGATE_ONLY = frozenset({"analyst"})
PERSON_QUERIES = frozenset(
    {
        "graduate_list",
        "graduate_detail",
        "risk_list",
        "review_queue",
        "review_item",
        "review_results",
        "registration_timeline",
        "personal_data_of",
        "proofs_of",
        "report_candidates",
        "report_documents",
        "report_subject",
        "revision_of",
        "confirmations_of",
        "reports_of",
        "current_revision_of",
        "graduate_for_submission",
        "confirmation_snapshot",
        "current_destination_of",
        "current_hukou_of",
        "archive_rows",
        "dispatch_attention",
        "bag_candidates",
        "archive_by_transfer_number",
        "dispatch_documents",
        "sent_outcomes",
        "dispatch_overdue",
    }
)


def may_open(role: str, page: str) -> bool:
    return page in PUBLIC_PAGES or role in PAGES.get(page, frozenset())


def may_list_people(role: str) -> bool:
    return role in LIST_READERS


def may_export(role: str, export: str) -> bool:
    return role in EXPORTS.get(export, frozenset())
