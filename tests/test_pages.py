"""Every page, run with AppTest on a built demo store: what it shows equals SQL on that store."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pipelines import accounts, exports
from pipelines.rules import progress
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Store
from tests import apptest
from tests.apptest import APP, TODAY, open_page, sql

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "pages", graduates=3000, seed=7)


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def frame_with(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has this column."""
    (found,) = [d.value for d in app.dataframe if column in d.value.columns]
    return found


def picked(app: AppTest, label: str) -> object:
    """The value of the select box with this label (in the filter bar, say)."""
    (box,) = [s for s in app.selectbox if s.label == label]
    return box.value


def counts(store: Store, where: str = "true", as_of: date = TODAY) -> dict[str, int]:
    (row,) = sql(
        store,
        f"""
        select count(*), count(registration_id), count(*) filter (where status = 'approved'),
               count(*) filter (where is_confirmed), count(*) filter (where is_verified)
        from graduate_stages where {where}""",
        as_of=as_of,
    )
    return dict(zip(["毕业生", "已登记", "已通过", "已确认", "已核验"], row, strict=True))


def test_overview_cards_equal_sql_and_their_change_since_yesterday(demo_store: Store) -> None:
    app = open_page()
    shown = metrics(app)
    today, yesterday = counts(demo_store), counts(demo_store, as_of=TODAY - timedelta(days=1))
    assert shown == {k: f"{v:,}" for k, v in today.items()}
    deltas = {m.label: m.delta for m in app.metric}
    for label in ["已登记", "已通过", "已确认", "已核验"]:
        assert deltas[label] == f"{today[label] - yesterday[label]:+,} 较前一日"
    assert any(today[k] != yesterday[k] for k in today), "the demo should move between two days"


def test_overview_college_table_equals_sql(demo_store: Store) -> None:
    app = open_page()
    table = frame_with(app, "已核验")
    expected = sql(
        demo_store,
        """
        select college_name, count(*), count(registration_id), count(*) filter (where status = 'approved')
        from graduate_stages group by 1""",
    )
    shown = {r["学院"]: (r["毕业生"], r["已登记"], r["已通过"]) for _, r in table.iterrows()}
    assert shown == {c: (g, r, a) for c, g, r, a in expected}
    links = [p.label for p in app.get("page_link")]
    assert set(shown) <= set(links), "every college has a drill-down link"


def test_overview_respects_filters_from_the_url(demo_store: Store) -> None:
    (college,) = sql(demo_store, "select min(college_name) from graduates")[0]
    app = open_page(college=college, type="origin")
    assert metrics(app) == {
        k: f"{v:,}" for k, v in counts(demo_store, f"college_name = '{college}' and transfer_type = 'origin'").items()
    }


def test_a_filter_that_matches_nobody_is_a_designed_state(demo_store: Store) -> None:
    app = open_page(**{"from": "2030-01-01"})
    assert any("没有符合筛选条件的毕业生" in i.value for i in app.info)


def test_an_unknown_college_in_the_url_is_named_and_ignored(demo_store: Store) -> None:
    app = open_page(college="不存在的学院")
    assert any("不存在的学院" in w.value for w in app.warning)
    assert metrics(app) == {k: f"{v:,}" for k, v in counts(demo_store).items()}


def test_risk_cards_and_first_page_equal_sql(demo_store: Store) -> None:
    app = open_page("screens/progress/risk.py")
    ((not_registered, returned, not_confirmed, not_verified),) = sql(
        demo_store,
        """
        select count(*) filter (where registration_id is null), count(*) filter (where status = 'returned'),
               count(*) filter (where status = 'approved' and not is_confirmed),
               count(*) filter (where is_confirmed and not is_verified)
        from graduate_stages""",
    )
    shown = metrics(app)
    assert shown["未提交档案信息登记"] == f"{not_registered:,}"
    assert shown["登记被退回未重新提交"] == f"{returned:,}"
    assert shown["审核已通过，未做去向登记确认"] == f"{not_confirmed:,}"
    assert shown["已确认，未生成核验报告"] == f"{not_verified:,}"
    table = app.dataframe[0].value
    assert len(table) == 50 and set(table["风险"]) <= {"高", "中", "低"}
    assert (table["缺少"].iloc[0]) == "未提交档案信息登记"
    assert all("*" in phone for phone in table["手机号"] if phone)
    for text in table["提醒语（可复制到班级群）"]:
        assert "6月17日" in text
        assert not any(word in text for word in ("毕业证", "学位证", "成绩", "学位"))


def test_risk_page_offers_the_chase_list_for_a_college(demo_store: Store) -> None:
    (college,) = sql(demo_store, "select min(college_name) from graduates")[0]
    app = open_page("screens/progress/risk.py", college=college)
    buttons = [b.label for b in app.get("download_button")]
    assert len(buttons) == 1 and college in buttons[0]
    table = app.dataframe[1].value  # the pace table lists the college's classes
    (classes,) = sql(demo_store, "select count(distinct class_name) from graduates where college_name = ?", [college])[
        0
    ]
    assert len(table) == classes


def test_college_page_ranks_its_classes_and_lists_its_graduates(demo_store: Store) -> None:
    (college,) = sql(demo_store, "select min(college_name) from graduates")[0]
    app = open_page("screens/drill/college.py", college=college)
    assert app.title[0].value == college
    ranking = app.dataframe[0].value
    (classes, graduates) = sql(
        demo_store, "select count(distinct class_name), count(*) from graduates where college_name = ?", [college]
    )[0]
    assert len(ranking) == classes and ranking["毕业生"].sum() == graduates
    rates = list(ranking["登记率"])
    assert rates == sorted(rates, reverse=True)
    assert len(app.dataframe[2].value) == min(50, graduates)


def test_college_page_without_a_college_offers_every_college(demo_store: Store) -> None:
    app = open_page("screens/drill/college.py")
    colleges = {r[0] for r in sql(demo_store, "select distinct college_name from graduates")}
    assert {p.label for p in app.get("page_link")} >= colleges


def test_detail_shows_history_masked_identity_and_flags(demo_store: Store) -> None:
    (student, name, id_number) = sql(
        demo_store,
        """
        select g.student_id, g.name, g.id_number from graduates g
        join registrations r using (student_id) where r.revision_no = 2 limit 1""",
    )[0]
    app = open_page("screens/drill/detail.py", student=student)
    assert app.header[0].value == f"{name}（{student}）"
    (events,) = sql(
        demo_store,
        """
        select (select count(*) from registration_status where student_id = $1)
             + (select count(*) from reviews join registration_status using (registration_id)
                where student_id = $1 and decided_at < getvariable('as_of_end'))""",
        [student],
    )[0]
    timeline = app.dataframe[0].value
    assert len(timeline) == events
    assert any("退回" in e for e in timeline["事件"])
    page_text = " ".join(str(t.value) for t in app.get("table")) + " ".join(m.value for m in app.markdown)
    page_text = re.sub(r"\\(.)", r"\1", page_text)  # as a reader sees it: Markdown escapes removed
    assert id_number not in page_text and id_number[:4] + "**********" + id_number[-4:] in page_text


def test_detail_search_finds_partial_names(demo_store: Store) -> None:
    (name,) = sql(demo_store, "select name from graduates order by student_id limit 1")[0]
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["username"] = "admin"
    app.run()
    app.switch_page("screens/drill/detail.py")
    app.run()
    app.text_input[0].input(name[1:]).run()
    assert not app.exception
    assert any(name in p.label for p in app.get("page_link"))


@pytest.mark.parametrize(
    "page", [None, "screens/progress/risk.py", "screens/drill/college.py", "screens/drill/detail.py"]
)
def test_every_page_on_an_empty_store_says_what_to_do(
    page: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGAN_DB", str(tmp_path / "empty.duckdb"))
    first = open_page(page, user=None)  # no account yet: the login screen says how to begin
    assert any("dangan user add" in i.value and "dangan demo" in i.value for i in first.info)
    accounts.add_user(
        Store(tmp_path / "empty.duckdb"), SYSTEM, "office", "admin", "office2024", must_change_password=False
    )
    app = open_page(page, user="office")
    assert any("dangan demo" in i.value for i in app.info)


# --- #16: the outlook -------------------------------------------------------------------------

DEADLINE = date(2024, 6, 17)
LEVEL_RANK = {"高": 3, "中": 2, "低": 1}


def test_the_chase_list_runs_from_the_highest_risk_level_then_by_class_and_student(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    for chosen in (Filters(), Filters(college=college)):
        data, rows = exports.chase_list_file(demo_store, SYSTEM, 2024, chosen, None, DEADLINE, "x.csv", fmt="csv")
        listed = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
        order = list(zip(listed["风险等级"].map(LEVEL_RANK.get), listed["班级"], listed["学号"], strict=True))
        assert len(order) == rows and order == sorted(order, key=lambda r: (-r[0], r[1], r[2]))
    book, _ = exports.chase_list_file(demo_store, SYSTEM, 2024, Filters(college=college), None, DEADLINE, "x.xlsx")
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    levels = [row[5] for row in sheet.iter_rows(values_only=True) if row[5] in LEVEL_RANK]
    assert levels[0] == "高", "the file opens with the most urgent graduates"


def test_the_risk_page_names_the_chosen_reason_on_its_download(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    app = open_page("screens/progress/risk.py", college=college)
    (button,) = app.get("download_button")
    assert "全部" in button.label and college in button.label
    app.button_group[0].set_value("not_registered").run()
    (button,) = app.get("download_button")
    assert "未提交" in button.label and "全部" not in button.label


def test_a_dean_with_one_college_has_it_chosen_on_every_page(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    overview = open_page(None, "dean")
    assert picked(overview, "学院") == college
    page = open_page("screens/drill/college.py", "dean")
    assert page.title[0].value == college and not any("选择一个学院" in m.value for m in page.markdown)
    assert (
        page.dataframe[0].value["毕业生"].sum()
        == sql(  # the ranking of its classes
            demo_store, "select count(*) from graduates where college_name = ?", [college]
        )[0][0]
    )
    risk = open_page("screens/progress/risk.py", "dean")
    assert picked(risk, "学院") == college
    (button,) = risk.get("download_button")
    assert college in button.label


def _stage_counts(store: Store) -> dict[str, tuple[int, int]]:
    """(now, reached in the last 7 days) of each stage, straight from the stage view and the reports."""
    (row,) = sql(
        store,
        """
        with g as (
            select *, (select min(issued_at) from verification_reports v
                       where v.confirmation_id = graduate_stages.confirmation_id and v.kind = 'archive'
                           and v.valid_until >= date '2024-06-10'
                           and (v.closed_at is null or v.closed_at >= timestamp '2024-06-11')) as issued_at
            from graduate_stages
        )
        select
            count(registration_id), count(*) filter (where first_submitted_at >= timestamp '2024-06-04'),
            count(*) filter (where status in ('pending_school', 'approved')),
            count(*) filter (where status in ('pending_school', 'approved') and college_approved_at >= timestamp '2024-06-04'),
            count(*) filter (where status = 'approved'),
            count(*) filter (where status = 'approved' and approved_at >= timestamp '2024-06-04'),
            count(*) filter (where is_confirmed), count(*) filter (where is_confirmed and confirmed_at >= timestamp '2024-06-04'),
            count(*) filter (where is_verified), count(*) filter (where is_verified and issued_at >= timestamp '2024-06-04')
        from g""",
    )
    return {
        stage: (row[2 * i], row[2 * i + 1])
        for i, stage in enumerate(["registered", "college_approved", "approved", "confirmed", "verified"])
    }


def test_overview_forecasts_every_stage_and_names_the_colleges_projected_to_miss(demo_store: Store) -> None:
    app = open_page()
    outlook = frame_with(app, "环节")
    ((graduates,),) = sql(demo_store, "select count(*) from graduates")
    before = graduates
    expected = []
    for done, recent in _stage_counts(demo_store).values():
        before = min(before, progress.project(done, graduates, recent, 7, DEADLINE, TODAY).projected)
        expected.append((done, before, "✅ 可完成" if before >= graduates else "⚠️ 赶不上"))
    assert list(outlook["环节"]) == ["档案信息登记", "学院审核通过", "学校审核通过", "去向确认", "核验报告"]
    assert list(zip(outlook["现在"], outlook["预计截止时"], outlook["判断"], strict=True)) == expected
    assert list(outlook["预计完成率"]) == pytest.approx([p / graduates for _, p, _ in expected])
    pace = frame_with(open_page("screens/progress/risk.py"), "预计截止时登记")
    behind = set(pace.loc[pace["判断"] == "⚠️ 赶不上", "学院"])
    listed = [d.value for d in app.dataframe if "预计缺口" in d.value.columns]
    assert set(listed[0]["学院"] if listed else ()) == behind  # the same judgement as 截止风险
    assert bool(listed) != any("各学院都能在截止前完成" in m.value for m in app.success)
    # Nobody of the graduates still unregistered registers by themselves: every college of theirs is behind.
    unregistered = open_page(stage="not_registered")
    missing = frame_with(unregistered, "预计缺口")
    expected = sql(
        demo_store,
        """select college_name, count(*) from graduate_stages where registration_id is null
                                  group by 1 order by 2 desc, 1""",
    )
    assert list(zip(missing["学院"], missing["预计缺口"], strict=True)) == expected


@pytest.mark.parametrize(
    ("page", "user"),
    [
        (None, "admin"),
        (None, "analyst"),
        ("screens/progress/risk.py", "admin"),
        ("screens/drill/college.py", "dean"),
        ("screens/progress/stats.py", "analyst"),
        ("screens/progress/stats.py", "admin"),
    ],
)
def test_no_cell_of_the_outlook_pages_reads_none(demo_store: Store, page: str | None, user: str) -> None:
    app = open_page(page, user)
    for frame in app.dataframe:
        nulls = frame.value.isna()
        assert not nulls.any().any() or (
            frame.proto.HasField("placeholder") and frame.proto.placeholder in ("", "—")
        ), list(frame.value.columns)
        assert not frame.value.where(~nulls, "").astype(str).isin(["None", "nan", "NaN"]).any().any()
    shown = [m.value for m in app.metric] + [c.value for c in app.caption] + [m.value for m in app.markdown]
    assert not any(re.search(r"\bNone\b", text) for text in shown)
