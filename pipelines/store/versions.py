"""What the owner has written, counted per table and per part (college, 学号, username): the
dashboard's caches forget only the results whose parts a write changed."""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Iterable
from typing import Any

# The tables whose rows each belong to one graduate (and so to one college).
GRADUATE_TABLES = frozenset(
    {
        "graduates",
        "registrations",
        "reviews",
        "destinations",
        "hukou_registrations",
        "confirmations",
        "verification_reports",
        "registration_proofs",
        "graduate_stage_cache",
        "stage_count_cache",
        "daily_count_cache",
        "archive_bags",
        "batch_members",
        "waybills",
        "archive_events",
    }
)

# Epochs are unique in the process: an owner that closes and another that opens the same file
# later (or the same file replaced) never repeat a key.
_EPOCHS = itertools.count(1)


# The tables whose rows belong to someone, and the kinds of part a write or a reader names in
# them: "c:" a college, "s:" a graduate (学号), "u:" an account (username).
PARTS_OF = {**{table: ("c:", "s:") for table in GRADUATE_TABLES}, "users": ("u:",)}


# The graduates' tables a write that names its graduates changes only as of today (it records
# today's events: a decision, a submission, a confirmation, a report), as refresh_stages_of
# assumes when it refreshes only today's materialised rows. A result as of an earlier day is kept
# through such writes. Not `graduates`: its rows (the roster) are not dated.
TODAY_ONLY = GRADUATE_TABLES - {"graduates"}


def parts_of(
    colleges: Iterable[str] | None = (), students: Iterable[str] = (), usernames: Iterable[str] = ()
) -> list[str]:
    return [f"c:{c}" for c in colleges or ()] + [f"s:{s}" for s in students] + [f"u:{u}" for u in usernames]


def _parts_in(table: str, parts: list[str] | None) -> list[str]:
    """Those of `parts` that name rows of `table` (none for a table nobody's rows are in)."""
    return [p for p in parts or () if p.startswith(PARTS_OF.get(table, ()))]


class Versions:
    """How many times each table has been written by this process's owner (and an epoch that
    moves when the file was lent out or reopened, when anything may have changed): the key of
    every cached query result is the versions of the tables it reads.

    The tables whose rows belong to someone (PARTS_OF) are counted per part too: a decision in one
    college changes the numbers of that college and of the whole school, so a dean of another
    college keeps their cached results; a graduate's own record changes only with a write that
    names them, and a session's account only with a write to that account. A write that names
    no part of such a table (or that does not know which) moves every reader's key of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch = next(_EPOCHS)
        self._tables: dict[tuple[str, str], int] = collections.defaultdict(int)

    def key(self, tables: Iterable[str], parts: Iterable[str] | None = None, *, past: bool = False) -> tuple[Any, ...]:
        """The key for results read from `tables` by someone who sees only `parts` (None: all;
        see `parts_of`); `past`: results as of a day before today (TODAY_ONLY)."""
        chosen = sorted(set(parts)) if parts is not None else None
        with self._lock:
            if past:
                return (self._epoch, "past", *(self._tables[(table, "past")] for table in sorted(tables)))
            key: list[Any] = [self._epoch]
            for table in sorted(tables):
                mine = _parts_in(table, chosen)
                if chosen is None or not mine:
                    key.append(self._tables[(table, "")])
                else:
                    key.append(self._tables[(table, "*")])
                    key.extend(self._tables[(table, p)] for p in mine)
            return tuple(key)

    def frozen(self) -> Versions:
        """A copy that no write moves: taken just before a reader's snapshot begins, it keys
        what that snapshot reads. (Taken after, a write committing in between would have its
        new key put on the old numbers, and every later reader would get them.)"""
        copy = Versions.__new__(Versions)
        copy._lock = threading.Lock()
        with self._lock:
            copy._epoch = self._epoch
            copy._tables = collections.defaultdict(int, self._tables)
        return copy

    def bump(self, tables: Iterable[str] | None, parts: Iterable[str] | None = None) -> None:
        """After a write: the tables it changed (None: unknown, so everything), and the parts of
        them it changed (`parts_of`; None: unknown or all)."""
        chosen = None if parts is None else sorted(set(parts))
        with self._lock:
            if tables is None:
                self._epoch = next(_EPOCHS)
                return
            for table in tables:
                self._tables[(table, "")] += 1
                mine = _parts_in(table, chosen)
                if table not in TODAY_ONLY or not mine:
                    self._tables[(table, "past")] += 1
                if table not in PARTS_OF:
                    continue
                if chosen is None or not mine:
                    self._tables[(table, "*")] += 1
                for part in mine:
                    self._tables[(table, part)] += 1
