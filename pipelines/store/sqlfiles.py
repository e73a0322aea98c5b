"""Loads SQL by name from the top-level `sql/` folder: migrations, views and queries."""

from __future__ import annotations

import functools
import re
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@functools.cache
def query_paths() -> dict[str, Path]:
    """Every named query: `sql/queries/<area>/<name>.sql` for reads, `sql/queries/writes/` for the
    statements that change tables. A name is unique across the folders, so callers name no folder."""
    found: dict[str, Path] = {}
    for path in sorted((SQL_DIR / "queries").rglob("*.sql")):
        if path.stem in found:
            raise RuntimeError(f"两个查询文件同名：{found[path.stem]} 与 {path}")
        found[path.stem] = path
    return found


@functools.cache
def query(name: str) -> str:
    """The text of the named query (`query_paths`)."""
    path = query_paths().get(name)
    if path is None:
        raise FileNotFoundError(f"没有名为 {name} 的查询文件（sql/queries/）")
    return path.read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, text) of every `sql/migrations/NNNN_name.sql`, in order."""
    found = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        found.append((version, path.stem, path.read_text(encoding="utf-8")))
    return found


def views() -> list[tuple[str, str]]:
    """(name, text) of every `sql/views/*.sql`, in file-name order (dependencies first)."""
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((SQL_DIR / "views").glob("*.sql"))]


_WRITE_TARGET = re.compile(
    r"\b(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|merge\s+into|create\s+or\s+replace\s+table"
    r"|create\s+table(?:\s+if\s+not\s+exists)?|truncate(?:\s+table)?|drop\s+table(?:\s+if\s+exists)?)\s+"
    r"(?:main\.)?([a-z_][a-z0-9_]*)",
    re.IGNORECASE,
)
_DEFINES = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(table|view|macro)"
    r"\s+(?:if\s+not\s+exists\s+)?(?:main\.)?([a-z_][a-z0-9_]*)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b", re.IGNORECASE)


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


@functools.cache
def writes(name: str) -> frozenset[str]:
    """The tables a statement file changes (`insert into X`, `update X`, `delete from X` …)."""
    return frozenset(m.group(1).lower() for m in _WRITE_TARGET.finditer(_strip_comments(query(name))))


@functools.cache
def _catalog() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The tables the migrations and views create, and for every view, macro and table made
    in sql/views, the names its definition mentions."""
    tables: set[str] = set()
    for _version, _name, text in migrations():
        tables.update(
            m.group(2).lower() for m in _DEFINES.finditer(_strip_comments(text)) if m.group(1).lower() == "table"
        )
    mentions: dict[str, set[str]] = {}
    for _name, text in views():
        text = _strip_comments(text)
        found = list(_DEFINES.finditer(text))
        for i, match in enumerate(found):
            body = text[match.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
            kind, defined = match.group(1).lower(), match.group(2).lower()
            if kind == "table":
                tables.add(defined)
                continue
            mentions.setdefault(defined, set()).update(w.lower() for w in _WORD.findall(body))
    return frozenset(tables), {k: frozenset(v) for k, v in mentions.items()}


def tables_read(text: str) -> frozenset[str]:
    """The tables a piece of SQL reads, through every view and macro it names (generous: a
    name that appears anywhere counts)."""
    tables, mentions = _catalog()
    seen: set[str] = set()
    found: set[str] = set()
    todo = [w.lower() for w in _WORD.findall(_strip_comments(text))]
    while todo:
        word = todo.pop()
        if word in seen:
            continue
        seen.add(word)
        if word in tables or word.startswith("ref_"):  # the code tables the store copies in (store._reference_tables)
            found.add(word)
        if word in mentions:
            todo.extend(mentions[word])
    return frozenset(found | {"settings"})  # the store's day and the stages' freshness live there


@functools.cache
def reads(name: str) -> frozenset[str]:
    """The tables `sql/queries/<name>.sql` reads (pipelines/store.py Versions keys on them)."""
    return tables_read(query(name))
