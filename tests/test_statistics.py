"""统计分析 and its exports on a built demo store: every number equals SQL run on the store,
files are opened and checked (xlsx sheets and layout, csv BOM and formula guard, parquet read
back, the brief PDF read back), snapshots are real and written once a day, and the access rules
of the pages hold for every export and the CLI."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from pipelines import brief_pdf, cli, exports, statistics
from pipelines.demo import DEMO_PASSWORD
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Actor, Store, StoreError
from tests import apptest
from tests.apptest import TODAY, open_page, sql

pytestmark = pytest.mark.slow

PLACED_CODES = "('employed', 'entrepreneur', 'freelance', 'further_study')"
DIMENSION_COLUMNS = {
    "college": "college_name",
    "major": "major",
    "class": "class_name",
    "transfer_type": "transfer_type",
    "origin_province": "origin_province",
    "education_level": "education_level",
    "gender": "gender",
}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "stats", graduates=1500, seed=9)


@pytest.fixture
def copy(demo_store: Store, tmp_path: Path) -> Store:
    """A private copy of the demo store, for tests that write."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_store.path, path)
    return Store(path, today=TODAY)


def _expected(store: Store, column: str) -> dict[Any, tuple[int, int, int]]:
    """(graduates, registered, placed) per raw key, straight from the stage view."""
    return {
        key: (g, r, p)
        for key, g, r, p in sql(
            store,
            f"""
        select {column}, count(*), count(registration_id),
               count(*) filter (where coalesce((select category from ref_destination_codes where code = destination_code),
                                               'x') in {PLACED_CODES})
        from graduate_stages group by all""",
        )
    }


@pytest.mark.parametrize("dimension", list(DIMENSION_COLUMNS))
def test_every_breakdown_equals_sql(demo_store: Store, dimension: str) -> None:
    expected = _expected(demo_store, DIMENSION_COLUMNS[dimension])
    with demo_store.reading(SYSTEM) as reader:
        raw = reader.query("stats_pivot", cohort=2024, rows=dimension, columns="none", **Filters().params())
    assert {
        r["row_key"]: (
            r["graduates"],
            r["registered"],
            r["employed"] + r["entrepreneur"] + r["freelance"] + r["further_study"],
        )
        for r in raw.iter_rows(named=True)
    } == expected
    with demo_store.reading(SYSTEM) as reader:
        labelled = statistics.pivot_rows(reader, 2024, Filters(), dimension)
    assert (labelled["placed_rate"] == labelled["placed"] / labelled["graduates"]).all()
    assert labelled["graduates"].sum() == sum(g for g, _, _ in expected.values())


def test_a_two_way_pivot_adds_up_and_recomputes_rates(demo_store: Store) -> None:
    with demo_store.reading(SYSTEM) as reader:
        long = statistics.pivot_rows(reader, 2024, Filters(), "college", "transfer_type")
    counts = statistics.pivot_table(long, "college", "transfer_type", "registered")
    expected = _expected(demo_store, "college_name")
    assert {r["学院"]: r["合计"] for r in counts.iter_rows(named=True)} == {
        **{k: v[1] for k, v in expected.items()},
        "合计": sum(v[1] for v in expected.values()),
    }
    rates = statistics.pivot_table(long, "college", "transfer_type", "approved_rate")
    ((college, label, approved, graduates),) = sql(
        demo_store,
        """
        select college_name, t.label, count(*) filter (where status = 'approved'), count(*)
        from graduate_stages join ref_transfer_types t on t.key = transfer_type
        group by all order by 1, 2 limit 1""",
    )
    row = rates.filter(pl.col("学院") == college).row(0, named=True)
    assert (row[f"{label}·审核通过率"], row[f"{label}·已通过"]) == (pytest.approx(approved / graduates), approved)


def test_the_placement_rate_follows_the_national_definition(demo_store: Store) -> None:
    with demo_store.reading(SYSTEM) as reader:
        school = statistics.pivot_rows(reader, 2024, Filters(), statistics.NONE).row(0, named=True)
    ((graduates, placed, none),) = sql(
        demo_store,
        """
        select count(*), count(*) filter (where left(destination_code, 2) in
                   ('10','11','12','27','46','50','51','75','76','80','85')),
               count(*) filter (where destination_code is null) from graduate_stages""",
    )
    assert (school["graduates"], school["placed"], school["no_destination"]) == (graduates, placed, none)
    assert school["placed_rate"] == pytest.approx(placed / graduates)  # over all graduates, unreported included


def test_the_demo_has_a_snapshot_for_every_campaign_day_and_today_equals_the_live_counts(demo_store: Store) -> None:
    days = [d for (d,) in sql(demo_store, "select distinct snapshot_day from stage_snapshots order by 1")]
    assert days[0] == date(2024, 4, 15) and days[-1] == date(2024, 6, 10) and len(days) == 57
    with demo_store.reading(SYSTEM) as reader:
        history = statistics.series(reader, 2024)
        school = statistics.pivot_rows(reader, 2024, Filters(), statistics.NONE).row(0, named=True)
    last = history.row(-1, named=True)
    assert {k: last[k] for k in statistics.COUNTS} == {k: school[k] for k in statistics.COUNTS}
    assert last["placed"] == school["placed"]
    registered = history["registered"].to_list()
    assert registered == sorted(registered) and registered[0] < registered[-1]  # the past is really the past


def test_a_snapshot_is_written_once_a_day(copy: Store) -> None:
    day, rows = statistics.take_snapshot(copy, SYSTEM)
    assert (day, rows) == (date(2024, 6, 10), 0)  # the demo took today's already
    tomorrow = Store(copy.path, today="2024-06-11")
    before = sql(copy, "select count(*) from stage_snapshots")[0][0]
    day, rows = statistics.take_snapshot(tomorrow, SYSTEM)
    ((groups,),) = sql(
        copy,
        "select count(*) from (select distinct cohort, college_name, coalesce(transfer_type, '') from graduate_stages)",
    )
    assert day == date(2024, 6, 11) and rows == groups
    again = statistics.take_snapshot(tomorrow, SYSTEM)
    assert again == (date(2024, 6, 11), 0)
    assert sql(copy, "select count(*) from stage_snapshots")[0][0] == before + groups
    outcomes = [
        json.loads(d) for (d,) in sql(copy, "select detail from audit_log where action = 'snapshot' order by audit_id")
    ]
    assert outcomes == [{"rows": 0, "outcome": "exists"}, {"rows": groups}, {"rows": 0, "outcome": "exists"}]


def test_the_stats_workbook_has_one_formatted_sheet_per_breakdown_with_sql_numbers(demo_store: Store) -> None:
    data, rows = exports.stats_file(demo_store, SYSTEM, 2024, Filters(), "xlsx", "统计.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["全校", *statistics.DIMENSIONS.values()]
    sheet = book["学院"]
    assert sheet.freeze_panes == "B4"  # title, blank line, header frozen; the key column too
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["分组", "毕业生", "已登记"] and "毕业去向落实率" in header
    got = {r[0]: (r[1], r[2]) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert got == {k: (g, r) for k, (g, r, _) in _expected(demo_store, "college_name").items()}
    rate = sheet.cell(row=4, column=header.index("登记率") + 1)
    assert rate.number_format == "0.0%" and 0 < rate.value <= 1
    assert sheet.column_dimensions["A"].width >= max(len(str(k)) * 2 for k in got)  # fitted to the Chinese names
    assert rows == sum(book[name].max_row - 3 for name in book.sheetnames)


def test_stats_as_csv_and_parquet_are_one_long_table(demo_store: Store) -> None:
    csv, rows = exports.stats_file(
        demo_store, SYSTEM, 2024, Filters(college=apptest.dean_college(demo_store)), "csv", "s.csv"
    )
    assert csv.startswith(b"\xef\xbb\xbf")
    table = pl.read_csv(io.BytesIO(csv[3:]))
    assert table.height == rows and table.columns[:2] == ["维度", "分组"]
    parquet, _ = exports.stats_file(demo_store, SYSTEM, 2024, Filters(), "parquet", "s.parquet")
    frame = pl.read_parquet(io.BytesIO(parquet))
    colleges = frame.filter(pl.col("维度") == "学院")
    expected = _expected(demo_store, "college_name")
    assert dict(zip(colleges["分组"], colleges["毕业生"], strict=True)) == {k: v[0] for k, v in expected.items()}
    assert frame.schema["毕业生"] == pl.Int64 and frame.schema["登记率"] == pl.Float64  # typed, not text


def test_a_formula_in_a_name_stays_text_in_every_stats_format(copy: Store) -> None:
    copy.transaction(
        SYSTEM,
        "test:hostile",
        lambda writer: writer._raw().execute(
            "update graduates set major = '=HYPERLINK(\"http://x\")' where student_id = "
            "(select min(student_id) from graduates)"
        ),
    )  # the stages are refilled after it
    csv, _ = exports.stats_file(copy, SYSTEM, 2024, Filters(), "csv", "s.csv")
    assert "'=HYPERLINK" in csv.decode("utf-8-sig") and ",=HYPERLINK" not in csv.decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(exports.stats_file(copy, SYSTEM, 2024, Filters(), "xlsx", "s.xlsx")[0]))
    cells = [c for row in book["专业"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_weekly_workbook_equals_sql_and_the_snapshot_a_week_ago(demo_store: Store) -> None:
    data, _ = exports.weekly_workbook(demo_store, SYSTEM, 2024, "周报.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["总体进度", "各学院进度", "转递类型", "毕业去向落实", "截止风险", "近两周"]
    overall = {r[0]: r for r in book["总体进度"].iter_rows(min_row=4, values_only=True)}
    ((registered, before),) = sql(
        demo_store,
        """
        select (select count(registration_id) from graduate_stages),
               (select sum(registered) from stage_snapshots where snapshot_day = date '2024-06-03')""",
    )
    assert overall["已登记"][1] == registered and overall["已登记"][3] == registered - before
    assert "2024-06-10" in book["总体进度"]["A1"].value and "还剩 7 天" in book["总体进度"]["A1"].value
    ranked = [r[-1] for r in book["各学院进度"].iter_rows(min_row=4, values_only=True)]
    assert ranked == list(range(1, len(ranked) + 1))
    risks = {r[0]: r[1] for r in book["截止风险"].iter_rows(min_row=4, values_only=True)}
    unregistered = dict(
        sql(demo_store, "select college_name, count(*) from graduate_stages where registration_id is null group by 1")
    )
    assert risks == {k: unregistered.get(k, 0) for k in risks} and sum(risks.values()) == sum(unregistered.values())
    assert [r[0] for r in book["近两周"].iter_rows(min_row=4, values_only=True)][-1] == "2024-06-10"


def test_the_brief_is_one_a4_page_with_the_numbers(demo_store: Store, tmp_path: Path) -> None:
    data, colleges = brief_pdf.brief_file(demo_store, SYSTEM, 2024, "简报.pdf")
    path = tmp_path / "brief.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "595.28 x 841.89" in info
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    ((graduates, registered),) = sql(demo_store, "select count(*), count(registration_id) from graduate_stages")
    with demo_store.reading(SYSTEM) as reader:
        school = statistics.pivot_rows(reader, 2024, Filters(), statistics.NONE).row(0, named=True)
    assert f"{graduates:,}" in text and f"{registered:,}" in text and "2024 届" in text
    assert f"毕业去向落实率 {school['placed_rate']:.1%}" in text
    assert colleges == len(_expected(demo_store, "college_name"))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_exports_follow_the_role_rules_and_scope(demo_store: Store) -> None:
    analyst, dean = Actor("analyst", "analyst"), Actor("dean", "college_reviewer", (apptest.dean_college(demo_store),))
    exports.stats_file(demo_store, analyst, 2024, Filters(), "csv", "a.csv")  # aggregates: allowed
    exports.weekly_workbook(demo_store, analyst, 2024, "a.xlsx")
    for refused in (
        lambda: exports.registrations_file(demo_store, analyst, 2024, Filters(), "csv", "a.csv"),
        lambda: exports.chase_list_file(demo_store, analyst, 2024, Filters(), None, date(2024, 6, 17), "a.csv", "csv"),
        lambda: exports.stats_file(demo_store, Actor("g", "graduate", None, "x"), 2024, Filters(), "csv", "g.csv"),
    ):
        with pytest.raises(StoreError, match="不能导出"):
            refused()
    data, _ = exports.stats_file(demo_store, dean, 2024, Filters(), "parquet", "d.parquet")
    frame = pl.read_parquet(io.BytesIO(data))
    assert frame.filter(pl.col("维度") == "学院")["分组"].to_list() == [apptest.dean_college(demo_store)]
    listing, rows = exports.registrations_file(demo_store, dean, 2024, Filters(), "parquet", "d.parquet")
    people = pl.read_parquet(io.BytesIO(listing))
    ((mine,),) = sql(
        demo_store,
        "select count(registration_id) from graduate_stages where college_name = ?",
        [apptest.dean_college(demo_store)],
    )
    assert people.height == rows == mine and people["档案转递联系电话"].str.contains(r"\*").all()


def test_the_cli_exports_every_kind_and_takes_a_snapshot(
    copy: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(copy.path), "--today", "2024-06-10"]
    for what, name in [
        ("stats", "s.xlsx"),
        ("stats", "s.parquet"),
        ("registrations", "r.csv"),
        ("chase-list", "c.xlsx"),
        ("chase-list", "c.parquet"),
        ("weekly", "w.xlsx"),
        ("brief", "b.pdf"),
    ]:
        out = tmp_path / name
        assert cli.main([*db, "export", what, "--out", str(out), "--college", apptest.dean_college(copy)]) == 0, what
        assert out.stat().st_size > 0 and "已记入审计日志" in capsys.readouterr().out
    assert cli.main([*db, "export", "weekly", "--out", str(tmp_path / "w.csv")]) == 1
    assert "须是 xlsx" in capsys.readouterr().err
    monkeypatch.setenv("DANGAN_PASSWORD", DEMO_PASSWORD)
    assert cli.main([*db, "--as", "analyst", "export", "stats", "--out", str(tmp_path / "a.csv")]) == 0
    assert cli.main([*db, "--as", "analyst", "export", "registrations", "--out", str(tmp_path / "a2.csv")]) == 1
    assert "不能导出" in capsys.readouterr().err and not (tmp_path / "a2.csv").exists()
    assert cli.main([*db, "snapshot"]) == 0 and "今天已经保存过" in capsys.readouterr().out
    assert cli.main(["--db", str(copy.path), "--today", "2024-06-11", "snapshot"]) == 0
    assert "2024-06-11 的快照已保存" in capsys.readouterr().out


def test_cohorts_are_compared_at_the_same_distance_from_their_deadlines(copy: Store) -> None:
    import duckdb

    conn = duckdb.connect(str(copy.path))  # last year's campaign and its snapshots, one year earlier
    conn.execute("""insert into campaigns (cohort, school_name, registration_deadline, default_graduation_date)
                    values (2023, '江西服装学院', date '2023-06-17', date '2023-06-30')""")
    conn.execute("""insert into stage_snapshots select snapshot_day - interval 366 day, 2023, college_name,
                    transfer_type, graduates, registered // 2, pending_college, pending_school, returned, approved // 2,
                    confirmed, verified, placed, taken_at from stage_snapshots""")
    conn.close()
    with copy.reading(SYSTEM) as reader:
        aligned = reader.query("cohort_comparison")
    table = statistics.same_point(aligned, 2024)
    assert table["cohort"].to_list() == [2024, 2023] and table["days_left"].to_list() == [7, 7]
    ((now, then),) = sql(
        copy,
        """select sum(registered) filter (where cohort = 2024 and snapshot_day = date '2024-06-10')
                                       / sum(graduates) filter (where cohort = 2024 and snapshot_day = date '2024-06-10'),
                                       sum(registered) filter (where cohort = 2023 and snapshot_day = date '2023-06-10')
                                       / sum(graduates) filter (where cohort = 2023 and snapshot_day = date '2023-06-10')
                                from stage_snapshots""",
    )
    assert table["registered_rate"].to_list() == pytest.approx([now, then])


def test_the_stats_page_shows_the_same_numbers_and_the_trend(demo_store: Store) -> None:
    app = open_page("screens/progress/stats.py", "analyst")
    pivot = app.dataframe[0].value
    expected = _expected(demo_store, "college_name")
    graduates, registered = (sum(v[i] for v in expected.values()) for i in (0, 1))
    assert {r["学院"]: (r["毕业生"], r["已登记"], r["登记率"]) for _, r in pivot.iterrows()} == {
        **{k: (g, r, pytest.approx(r / g)) for k, (g, r, _) in expected.items()},
        "合计": (graduates, registered, pytest.approx(registered / graduates)),
    }
    ((graduates, placed),) = sql(
        demo_store,
        """select count(*), count(*) filter (where left(destination_code, 2) in
                                   ('10','11','12','27','46','50','51','75','76','80','85')) from graduate_stages""",
    )
    assert {m.label: m.value for m in app.metric}["毕业去向落实率"] == f"{placed / graduates:.1%}"
    assert any("毕业去向落实率 = 单位就业率" in c.value for c in app.caption)
    assert any("57 个快照日" in c.value for c in app.caption)
    app.selectbox(key="pv_columns").set_value("gender").run()
    app.selectbox(key="pv_measure").set_value("graduates").run()
    table = app.dataframe[0].value
    assert dict(zip(table["学院"], table["合计"], strict=True)) == {
        **{k: v[0] for k, v in expected.items()},
        "合计": graduates,
    }
    labels = [b.label for b in app.get("download_button")]
    assert "登记名单（脱敏，xlsx）" not in labels and "进度周报工作簿（xlsx）" in labels  # an analyst: aggregates only
    dean = open_page("screens/progress/stats.py", "dean")
    assert dean.dataframe[0].value["学院"].tolist() == [apptest.dean_college(demo_store), "合计"]


def test_an_xlsx_over_the_excel_row_limit_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(exports.ExportTooLarge, match="超过 Excel 每张表 1,048,576 行的上限：请改用 csv 或 parquet"):
        exports.workbook_xlsx({"名单": pl.DataFrame({"学号": range(exports.XLSX_MAX_ROWS - 2)})})
    assert exports.workbook_xlsx({"名单": pl.DataFrame({"学号": range(10)})}).startswith(b"PK")


# --- #16: the pivot's totals and counts, and percent formats in every workbook ----------------------

CELLS = {
    ("A", "男"): (10, 8),
    ("A", "女"): (12, 6),
    ("B", "男"): (3, 1),
    ("B", "女"): (9, 9),
    ("C", "男"): (2, 2),
    ("C", "女"): (1, 0),
}


def _long(cells: dict[tuple[str, str], tuple[int, int]], k: int | None = None) -> pl.DataFrame:
    """Long pivot rows of (graduates, registered) per cell, as the office (k None) or an analyst sees them."""
    zero = dict.fromkeys([*statistics.COUNTS, *statistics.PLACEMENT, "placed"], 0)
    frame = pl.DataFrame(
        [{"row_key": r, "column_key": c, **zero, "graduates": g, "registered": n} for (r, c), (g, n) in cells.items()]
    ).with_columns(statistics.rate(r.removesuffix("_rate")).alias(r) for r in statistics.RATES)
    return frame if k is None else statistics.suppress_small(frame, k)


def test_the_pivot_shows_counts_beside_rates_with_a_total_row_and_column() -> None:
    rates = statistics.pivot_table(_long(CELLS), "college", "gender", "registered_rate")
    assert rates.columns == [
        "学院",
        "女·已登记",
        "女·登记率",
        "男·已登记",
        "男·登记率",
        "合计·毕业生",
        "合计·已登记",
        "合计·登记率",
    ]
    assert rates["学院"].to_list() == ["A", "B", "C", "合计"]
    total = rates.row(-1, named=True)
    assert (total["女·已登记"], total["男·已登记"], total["合计·毕业生"], total["合计·已登记"]) == (15, 11, 37, 26)
    assert (total["女·登记率"], total["男·登记率"], total["合计·登记率"]) == pytest.approx((15 / 22, 11 / 15, 26 / 37))
    assert rates.row(1, named=True)["合计·登记率"] == pytest.approx(10 / 12)  # a row's rate over its own graduates
    one_way = statistics.pivot_table(
        _long({(r, "全部"): (10 * i, i) for i, r in enumerate("AB", 1)}), "college", statistics.NONE, "registered_rate"
    )
    assert one_way.rows() == [("A", 10, 1, 0.1), ("B", 20, 2, 0.1), ("合计", 30, 3, 0.1)]
    counts = statistics.pivot_table(_long(CELLS), "college", "gender", "graduates")
    assert counts.columns == ["学院", "女", "男", "合计"]
    assert counts.row(-1) == ("合计", 22, 15, 37) and counts["合计"].to_list() == [22, 12, 3, 37]


def test_an_analysts_pivot_keeps_small_cells_and_small_totals_hidden_and_shown_totals_true() -> None:
    long = _long(CELLS, k=5)
    counts = statistics.pivot_table(long, "college", "gender", "graduates")
    # B男 3, C男 2 and C女 1 are too small; B女 goes with B男 (B's total would give it back). Row C's
    # total (3) is too small as well, and B's goes with it (the grand total would give it back).
    assert counts.rows() == [("A", 12, 10, 22), ("B", None, None, None), ("C", None, None, None), ("合计", 22, 15, 37)]
    rates = statistics.pivot_table(long, "college", "gender", "registered_rate")
    assert rates.filter(pl.col("学院") == "C").row(0)[1:] == (None,) * 7
    assert rates.row(-1, named=True)["合计·登记率"] == pytest.approx(26 / 37)
    tiny = statistics.pivot_table(
        _long({("A", "全部"): (3, 1), ("B", "全部"): (1, 1)}, k=5), "college", statistics.NONE, "registered"
    )
    assert tiny.rows() == [("A", None), ("B", None), ("合计", None)]  # 4 graduates in all: the total too


def _rate_columns(sheet: Any, header_row: int) -> dict[str, list[Any]]:
    """Columns of a sheet that hold rates: a header ending in 率, or fractions between 0 and 1."""
    found = {}
    for column in sheet.iter_cols(min_row=header_row):
        header, cells = column[0].value, [c for c in column[1:] if isinstance(c.value, (int, float))]
        fractions = (
            cells
            and all(0 <= c.value <= 1 for c in cells)
            and any(isinstance(c.value, float) and c.value != int(c.value) for c in cells)
        )
        if cells and (str(header).endswith("率") or fractions):
            found[str(header)] = cells
    return found


def test_every_rate_in_the_weekly_and_stats_workbooks_reads_as_a_percent(demo_store: Store) -> None:
    weekly, _ = exports.weekly_workbook(demo_store, SYSTEM, 2024, "周报.xlsx")
    stats, _ = exports.stats_file(demo_store, SYSTEM, 2024, Filters(), "xlsx", "统计.xlsx")
    seen = set()
    for data in (weekly, stats):
        book = openpyxl.load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            for header, cells in _rate_columns(sheet, header_row=3).items():
                seen.add(header)
                wrong = [c.coordinate for c in cells if c.number_format != "0.0%"]
                assert not wrong, f"{sheet.title}·{header}: {wrong[:3]} are not percentages"
    assert {"占毕业生", "登记率", "毕业去向落实率"} <= seen
    overall = openpyxl.load_workbook(io.BytesIO(weekly))["总体进度"]
    share = [c for (c,) in overall.iter_rows(min_row=4, min_col=3, max_col=3) if c.value is not None]
    assert share and all(c.number_format == "0.0%" for c in share)
