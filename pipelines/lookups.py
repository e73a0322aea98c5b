"""The public 核验查询 under limits that hold: per client address, per number, per name, and a
ceiling for everyone.

Every look-up is an audit row (action `verify:lookup`: the client, the number, a hash of the
name, the outcome), and the limits are counted from those rows. So they hold across sessions,
tabs, server processes and restarts, and the office can see every attempt. In a window of
WINDOW_MINUTES:

- one client address (behind a reverse proxy, the one `clients.client_address` finds) may look
  up PER_CLIENT times;
- one 核验编号/转递编号 may be tried PER_NUMBER times, and one name PER_NAME times, whatever the
  clients: guessing numbers for one graduate stops early, even from many addresses;
- above GLOBAL_SLOW look-ups by everyone, each answer is delayed (up to MAX_DELAY_S seconds,
  growing with the load) before GLOBAL_BLOCK blocks them all: a flood slows everyone before it
  blocks anyone.

The limits are settings (`DANGAN_VERIFY_LIMITS`, README 配置).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines import dispatch, reports
from pipelines.rules import text
from pipelines.store import Actor, Store, Writer, config

ACTION = "verify:lookup"
ENV_LIMITS = "DANGAN_VERIFY_LIMITS"  # client,number,name,slow,block per window, e.g. 10,5,5,300,1500
WINDOW_MINUTES = 10
MAX_DELAY_S = 5.0


@dataclass(frozen=True)
class Limits:
    per_client: int = 10
    per_number: int = 5
    per_name: int = 5
    global_slow: int = 300
    global_block: int = 1500

    @classmethod
    def from_env(cls) -> Limits:
        raw = (config.env(ENV_LIMITS, "") or "").strip()
        if not raw:
            return cls()
        try:
            values = [int(v) for v in raw.split(",")]
        except ValueError:
            raise ValueError(
                f"环境变量 {ENV_LIMITS} 应为 5 个整数（每个来源、每个编号、每个姓名、开始减速、全部暂停），"
                f"而不是“{raw}”"
            ) from None
        if len(values) != 5 or min(values) <= 0:
            raise ValueError(f"环境变量 {ENV_LIMITS} 应为 5 个正整数，例如 10,5,5,300,1500")
        return cls(*values)


@dataclass(frozen=True)
class Answer:
    verdict: reports.Verdict | None  # None: refused by a limit
    wait_minutes: int = 0
    delayed_s: float = 0.0


def name_key(name: str) -> str:
    """How a looked-up name is recorded: a hash (an attempt is not a disclosure of who)."""
    return hashlib.sha256(text.compact(name).encode("utf-8")).hexdigest()[:20]


def look_up(store: Store, name: str, number: str, client: str, limits: Limits | None = None) -> Answer:
    """Answer a receiving unit's look-up (姓名 + 核验编号 or 转递编号) unless a limit says no;
    audited either way."""

    def decide(writer: Writer, cleaned: str) -> tuple[reports.Verdict, dict[str, object]]:
        return reports.verify_any(writer, name, cleaned), {}

    return _limited(store, name, number, client, limits, decide)


def confirm_receipt(
    store: Store, name: str, number: str, unit_name: str, client: str, limits: Limits | None = None
) -> Answer:
    """A receiving unit confirms it has the archive: 姓名 + 转递编号 + its own name. Under the
    same limits as a look-up (it counts as one), with the same 未找到 whichever part is wrong
    (or when the archive was not sent); recorded on the graduate's archive and audited."""

    def decide(writer: Writer, cleaned: str) -> tuple[reports.Verdict, dict[str, object]]:
        entry = dispatch.Entry("核验查询页", cleaned, unit_name=unit_name)
        archive = dispatch.resolve(writer, [entry]).get(cleaned)
        if archive is None or text.compact(archive["name"]) != text.compact(name) or not archive["is_sent"]:
            return reports.NOT_FOUND, {"receipt": True}
        if not text.compact(unit_name):
            return reports.NOT_FOUND, {"receipt": True, "unit_missing": True}
        problems, _received = dispatch.record_receipts(writer, [entry], {cleaned: archive})
        if problems:
            return reports.NOT_FOUND, {"receipt": True}
        received = reports.Verdict(True, True, "archive_received", archive["unit_name"], None, reports.TRANSFER_KIND)
        return received, {"receipt": True, "unit": text.clean(unit_name)[:100]}

    return _limited(store, name, number, client, limits, decide)


def _limited(
    store: Store,
    name: str,
    number: str,
    client: str,
    limits: Limits | None,
    decide: Callable[[Writer, str], tuple[reports.Verdict, dict[str, object]]],
) -> Answer:
    limits = limits or Limits.from_env()
    cleaned = text.compact(number).upper()[:40]
    key = name_key(name)

    def work(writer: Writer) -> tuple[reports.Verdict | None, int, float]:
        since = datetime.now() - timedelta(minutes=WINDOW_MINUTES)
        seen = writer.one("lookup_counts", since=since, client=client, number=cleaned, name_key=key) or {}
        writer.touched_students = []
        writer.audit_target = cleaned
        over = [
            (seen.get("by_client") or 0) >= limits.per_client,
            (seen.get("by_number") or 0) >= limits.per_number,
            (seen.get("by_name") or 0) >= limits.per_name,
            (seen.get("by_everyone") or 0) >= limits.global_block,
        ]
        if any(over):
            oldest = seen.get("oldest") or datetime.now()
            wait = max(1, math.ceil((oldest + timedelta(minutes=WINDOW_MINUTES) - datetime.now()).total_seconds() / 60))
            writer.audit_detail = {
                "outcome": "limited",
                "client": client,
                "name": key,
                "limits": [n for n, hit in zip(("client", "number", "name", "everyone"), over, strict=True) if hit],
            }
            return None, wait, 0.0
        load = (seen.get("by_everyone") or 0) - limits.global_slow
        delay = (
            0.0
            if load <= 0
            else min(MAX_DELAY_S, MAX_DELAY_S * load / max(1, limits.global_block - limits.global_slow))
        )
        verdict, more = decide(writer, cleaned)
        writer.audit_detail = more | {
            "outcome": "found" if verdict.found else "not_found",
            "valid": verdict.valid,
            "kind": verdict.kind,
            "client": client,
            "name": key,
        }
        return verdict, 0, delay

    verdict, wait, delay = store.transaction(Actor(f"核验查询:{client or '?'}", "public"), ACTION, work)
    if delay:
        time.sleep(delay)  # after the write: the store is not held while the caller waits
    return Answer(verdict, wait, delay)
