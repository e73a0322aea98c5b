"""Where the store lives and what day it is: flags, then environment, then defaults."""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

DEFAULT_DB = Path("data") / "dangan.duckdb"
ENV_DB = "DANGAN_DB"
ENV_TODAY = "DANGAN_TODAY"
ENV_SERVE = "DANGAN_SERVE"  # 0: the dashboard does not own the store (opens it per operation)
ENV_LOCK_WAIT = "DANGAN_LOCK_WAIT"  # seconds a command waits for the store before giving up
ENV_PASSWORD = "DANGAN_PASSWORD"  # the password of `dangan --as USER` (else a prompt)
ENV_IDLE = "DANGAN_IDLE_MINUTES"  # a dashboard session idle this long logs out
ENV_OIDC_CLAIM = "DANGAN_OIDC_CLAIM"  # the 统一身份认证 claim matched to users.oidc_subject
ENV_MIN_CELL = "DANGAN_MIN_CELL"  # aggregate-only roles see no cell of fewer graduates than this


# A command run inside the dashboard server (pipelines/serving.py) reads its own environment's
# DANGAN_* variables, not the server's.
_OVERLAY: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("dangan_environment", default=None)


def env(name: str, default: str | None = None) -> str | None:
    """An environment variable as the running command sees it."""
    overlay = _OVERLAY.get()
    if overlay is not None and (name.startswith("DANGAN_") or name == "USER"):
        return overlay.get(name, default)
    return os.environ.get(name, default)


def own_environment() -> dict[str, str]:
    """What a command hands to the server with its work: its DANGAN_* variables (and USER)."""
    return {k: v for k, v in os.environ.items() if k.startswith("DANGAN_") or k == "USER"}


def child_environment() -> dict[str, str]:
    """The environment for a process this command starts (a PDF worker): the process's own, with
    the running command's DANGAN_* variables (and USER) in place of the server's."""
    overlay = _OVERLAY.get()
    if overlay is None:
        return dict(os.environ)
    kept = {k: v for k, v in os.environ.items() if not (k.startswith("DANGAN_") or k == "USER")}
    return {**kept, **overlay}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    token = _OVERLAY.set(values)
    try:
        yield
    finally:
        _OVERLAY.reset(token)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db`, else `DANGAN_DB`, else `data/dangan.duckdb`."""
    return Path(explicit or env(ENV_DB) or DEFAULT_DB)


def parse_day(text: str, what: str = "日期") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what}“{text}”不是 YYYY-MM-DD 格式的日期") from None


def explicit_today(explicit: str | date | None = None) -> date | None:
    """`--today`, else `DANGAN_TODAY`, else None (the store's setting or the real date decides)."""
    if isinstance(explicit, date):
        return explicit
    text = explicit or env(ENV_TODAY)
    return parse_day(text, "--today / DANGAN_TODAY") if text else None


def lock_wait_seconds() -> float:
    return float(env(ENV_LOCK_WAIT, "120") or "120")


def idle_minutes() -> int:
    return int(env(ENV_IDLE, "30") or "30")


def oidc_claim() -> str:
    return env(ENV_OIDC_CLAIM, "sub") or "sub"


# How big an import file may be (pipelines/sheets.py Limits). Each is an environment variable;
# unset means the default there.
IMPORT_LIMITS = {
    "file_mb": "DANGAN_IMPORT_MAX_MB",
    "unpacked_mb": "DANGAN_IMPORT_MAX_UNPACKED_MB",
    "ratio": "DANGAN_IMPORT_MAX_RATIO",
    "rows": "DANGAN_IMPORT_MAX_ROWS",
    "columns": "DANGAN_IMPORT_MAX_COLUMNS",
    "cells": "DANGAN_IMPORT_MAX_CELLS",
    "memory_mb": "DANGAN_IMPORT_MEMORY_MB",
    "seconds": "DANGAN_IMPORT_SECONDS",
}


def import_limits() -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for key, name in IMPORT_LIMITS.items():
        text = (env(name, "") or "").strip().replace("_", "")
        if not text:
            found[key] = None
            continue
        try:
            found[key] = int(text)
        except ValueError:
            raise ValueError(f"环境变量 {name} 应为整数，而不是“{text}”") from None
        if found[key] <= 0:  # type: ignore[operator]
            raise ValueError(f"环境变量 {name} 应为正整数")
    return found


def min_cell() -> int:
    """The smallest group an aggregate-only role (analyst) sees counted (default 5)."""
    text = (env(ENV_MIN_CELL, "5") or "5").strip()
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"环境变量 {ENV_MIN_CELL} 应为整数，而不是“{text}”") from None
    return max(value, 1)
