"""The filters every page and export shares: one object, passed to every filtered query.

They round-trip through URL query parameters, so a dean can send a link that opens the same
view (`Filters.from_query` / `Filters.to_query`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from typing import Any

# URL parameter -> field; short, readable names for links people paste into chats.
_URL = {
    "college": "college",
    "major": "major",
    "class": "class_name",
    "type": "transfer_type",
    "stage": "stage",
    "from": "date_from",
    "to": "date_to",
}
URL_KEYS = frozenset(_URL)


@dataclass(frozen=True)
class Filters:
    college: str | None = None
    major: str | None = None
    class_name: str | None = None
    transfer_type: str | None = None
    stage: str | None = None
    date_from: date | None = None  # first submission on or after
    date_to: date | None = None  # first submission on or before

    def params(self) -> dict[str, Any]:
        """The named parameter of every filtered query: `$filters`, one struct, which
        `filtered_graduates` (sql/views/50_filtered_graduates.sql) reads. The cohort is a
        parameter of its own (`$cohort`): queries use it outside the filters as well."""
        values = asdict(self)
        values["class"] = values.pop("class_name")
        return {"filters": values}

    def to_query(self) -> dict[str, str]:
        out = {}
        for key, name in _URL.items():
            value = getattr(self, name)
            if value is not None:
                out[key] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        """Filters from URL parameters; unknown keys and malformed dates are ignored."""
        values: dict[str, Any] = {}
        for key, name in _URL.items():
            raw = query.get(key)
            if not raw:
                continue
            if name.startswith("date_"):
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    continue
            else:
                values[name] = raw
        return cls(**values)

    def but(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


NONE = Filters()
