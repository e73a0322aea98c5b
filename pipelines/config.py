"""Where the store lives and what day it is: flags, then environment, then defaults."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

DEFAULT_DB = Path("data") / "dangan.duckdb"
ENV_DB = "DANGAN_DB"
ENV_TODAY = "DANGAN_TODAY"
ENV_LOCK_WAIT = "DANGAN_LOCK_WAIT"  # seconds a command waits for the store before giving up
ENV_PASSWORD = "DANGAN_PASSWORD"  # the password of `dangan --as USER` (else a prompt)
ENV_IDLE = "DANGAN_IDLE_MINUTES"  # a dashboard session idle this long logs out
ENV_OIDC_CLAIM = "DANGAN_OIDC_CLAIM"  # the 统一身份认证 claim matched to users.oidc_subject
ENV_MIN_CELL = "DANGAN_MIN_CELL"  # aggregate-only roles see no cell of fewer graduates than this


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db`, else `DANGAN_DB`, else `data/dangan.duckdb`."""
    return Path(explicit or os.environ.get(ENV_DB) or DEFAULT_DB)


def parse_day(text: str, what: str = "日期") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what}“{text}”不是 YYYY-MM-DD 格式的日期") from None


def explicit_today(explicit: str | date | None = None) -> date | None:
    """`--today`, else `DANGAN_TODAY`, else None (the store's setting or the real date decides)."""
    if isinstance(explicit, date):
        return explicit
    text = explicit or os.environ.get(ENV_TODAY)
    return parse_day(text, "--today / DANGAN_TODAY") if text else None


def lock_wait_seconds() -> float:
    return float(os.environ.get(ENV_LOCK_WAIT, "120"))


def idle_minutes() -> int:
    return int(os.environ.get(ENV_IDLE, "30"))


def oidc_claim() -> str:
    return os.environ.get(ENV_OIDC_CLAIM, "sub")


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
        text = os.environ.get(name, "").strip().replace("_", "")
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
    text = os.environ.get(ENV_MIN_CELL, "5").strip()
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"环境变量 {ENV_MIN_CELL} 应为整数，而不是“{text}”") from None
    return max(value, 1)
