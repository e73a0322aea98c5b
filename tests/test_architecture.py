"""The floors (README, "架构"): what may import what, checked on every import in the tree.

rules (pure tables and functions) ← store (the only package that opens DuckDB) ← the domain
(pipelines/*.py) ← demo, cli ← dashboard. Pages draw: they never open the store, and page code
never handles its locks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules(folder: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / folder).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file, `from x import y` as x.y and x."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _house(name: str) -> bool:
    return name.split(".")[0] in {"pipelines", "dashboard", "bench", "tests"}


def _breaches(folder: str, allowed: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """Imports of the house from `folder` that are not under one of `allowed` (dotted prefixes)."""
    out = []
    for path in _modules(folder, root):
        for line, name in _imports(path):
            if _house(name) and not any(name == a or name.startswith(a + ".") for a in allowed):
                out.append(f"{path.relative_to(root)}:{line} imports {name}")
    return sorted(set(out))


def test_rules_import_nothing_else_in_the_house() -> None:
    assert _breaches("pipelines/rules", ("pipelines.rules",)) == []


def test_store_imports_only_the_rules() -> None:
    assert _breaches("pipelines/store", ("pipelines.store", "pipelines.rules")) == []


def test_only_the_store_opens_duckdb() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("pipelines", "dashboard")
        for path in _modules(folder)
        if not path.is_relative_to(ROOT / "pipelines" / "store")
        for line, name in _imports(path)
        if name == "duckdb" or name.startswith("duckdb.")
    ]
    assert outside == []


def test_pipelines_never_import_streamlit_or_the_dashboard() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules("pipelines")
        for line, name in _imports(path)
        if name.split(".")[0] in {"streamlit", "dashboard"}
    ]
    assert found == []


# The doors in from outside: the command line, and the server that runs the commands it is handed.
ENTRY_POINTS = {"cli.py", "serving.py"}


def test_the_domain_never_imports_the_demo_or_the_cli() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules("pipelines")
        if path.parent.name == "pipelines" and path.name not in ENTRY_POINTS
        for line, name in _imports(path)
        if name.startswith(("pipelines.demo", "pipelines.cli"))
    ]
    assert found == []


# What a page may take from the store package: the error it reports, the settings it reads, the
# actor it names. Everything else (Store, Reader, Writer, owning, …) is the data layer's.
PAGE_STORE_NAMES = {"pipelines.store", "pipelines.store.StoreError", "pipelines.store.config", "pipelines.store.Actor"}
OPENS = (".reading(", ".transaction(", ".rehearse(", ".release(", "duckdb.connect(")


@pytest.mark.parametrize(
    "path", [p for p in _modules("dashboard") if p.name != "data.py"], ids=lambda p: str(p.relative_to(ROOT))
)
def test_pages_never_open_the_store_or_handle_its_locks(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    taken = [
        f"{line}: {name}"
        for line, name in _imports(path)
        if name.startswith("pipelines.store") and name not in PAGE_STORE_NAMES and "config." not in name
    ]
    opened = [f"{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1) if any(o in line for o in OPENS)]
    assert taken == [] and opened == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The scan sees a breach when there is one: a copy of the rules with one module that
    imports the store is listed."""
    rules = tmp_path / "pipelines" / "rules"
    rules.mkdir(parents=True)
    for path in _modules("pipelines/rules"):
        (rules / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert _breaches("pipelines/rules", ("pipelines.rules",), tmp_path) == []
    (rules / "probe.py").write_text("from pipelines.store import Store\n", encoding="utf-8")
    assert _breaches("pipelines/rules", ("pipelines.rules",), tmp_path) == [
        "pipelines/rules/probe.py:1 imports pipelines.store",
        "pipelines/rules/probe.py:1 imports pipelines.store.Store",
    ]


def test_queries_are_filed_by_area_with_the_writes_apart() -> None:
    """sql/queries/<area>/ reads; sql/queries/writes/ holds exactly the statements that change a
    table (as the store's cache keys see them: sqlfiles.writes)."""
    from pipelines.store import sqlfiles

    paths = sqlfiles.query_paths()
    misfiled = sorted(
        f"{path.relative_to(ROOT)} writes {sorted(sqlfiles.writes(name))}"
        if sqlfiles.writes(name)
        else f"{path.relative_to(ROOT)} writes nothing"
        for name, path in paths.items()
        if bool(sqlfiles.writes(name)) != (path.parent.name == "writes")
    )
    assert misfiled == []
    assert all(path.parent.parent == ROOT / "sql" / "queries" for path in paths.values())  # one folder deep


def test_product_code_takes_no_raw_connection() -> None:
    """A caller that needs SQL names a query or calls a writer method: `_conn` and `_raw()` are
    the store's own (and the tests')."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("pipelines", "dashboard")
        for path in _modules(folder)
        if not path.is_relative_to(ROOT / "pipelines" / "store")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "._conn" in line or "._raw(" in line
    ]
    assert found == []
