"""Every page, run with AppTest on a built demo store: what it shows equals SQL on that store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import accounts
from pipelines.store import SYSTEM, Store
from tests import apptest
from tests.apptest import APP, TODAY, open_page, sql

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "pages", graduates=3000, seed=7)


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def counts(store: Store, where: str = "true", as_of: date = TODAY) -> dict[str, int]:
    (row,) = sql(store, f"""
        select count(*), count(registration_id), count(*) filter (where status = 'approved'),
               count(*) filter (where is_confirmed), count(*) filter (where is_verified)
        from graduate_stages where {where}""", as_of=as_of)
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
    table = app.dataframe[0].value
    expected = sql(demo_store, """
        select college_name, count(*), count(registration_id), count(*) filter (where status = 'approved')
        from graduate_stages group by 1""")
    shown = {r["学院"]: (r["毕业生"], r["已登记"], r["已通过"]) for _, r in table.iterrows()}
    assert shown == {c: (g, r, a) for c, g, r, a in expected}
    links = [p.label for p in app.get("page_link")]
    assert set(shown) <= set(links), "every college has a drill-down link"


def test_overview_respects_filters_from_the_url(demo_store: Store) -> None:
    (college,) = sql(demo_store, "select min(college_name) from graduates")[0]
    app = open_page(college=college, type="origin")
    assert metrics(app) == {k: f"{v:,}" for k, v in
                            counts(demo_store, f"college_name = '{college}' and transfer_type = 'origin'").items()}


def test_a_filter_that_matches_nobody_is_a_designed_state(demo_store: Store) -> None:
    app = open_page(**{"from": "2030-01-01"})
    assert any("没有符合筛选条件的毕业生" in i.value for i in app.info)


def test_an_unknown_college_in_the_url_is_named_and_ignored(demo_store: Store) -> None:
    app = open_page(college="不存在的学院")
    assert any("不存在的学院" in w.value for w in app.warning)
    assert metrics(app) == {k: f"{v:,}" for k, v in counts(demo_store).items()}


def test_risk_cards_and_first_page_equal_sql(demo_store: Store) -> None:
    app = open_page("screens/risk.py")
    ((not_registered, returned, not_confirmed, not_verified),) = sql(demo_store, """
        select count(*) filter (where registration_id is null), count(*) filter (where status = 'returned'),
               count(*) filter (where status = 'approved' and not is_confirmed),
               count(*) filter (where is_confirmed and not is_verified)
        from graduate_stages""")
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
    app = open_page("screens/risk.py", college=college)
    buttons = [b.label for b in app.get("download_button")]
    assert len(buttons) == 1 and college in buttons[0]
    table = app.dataframe[1].value  # the pace table lists the college's classes
    (classes,) = sql(demo_store, "select count(distinct class_name) from graduates where college_name = ?", [college])[0]
    assert len(table) == classes


def test_college_page_ranks_its_classes_and_lists_its_graduates(demo_store: Store) -> None:
    (college,) = sql(demo_store, "select min(college_name) from graduates")[0]
    app = open_page("screens/college.py", college=college)
    assert app.title[0].value == college
    ranking = app.dataframe[0].value
    (classes, graduates) = sql(demo_store, "select count(distinct class_name), count(*) from graduates where college_name = ?",
                               [college])[0]
    assert len(ranking) == classes and ranking["毕业生"].sum() == graduates
    rates = list(ranking["登记率"])
    assert rates == sorted(rates, reverse=True)
    assert len(app.dataframe[2].value) == min(50, graduates)


def test_college_page_without_a_college_offers_every_college(demo_store: Store) -> None:
    app = open_page("screens/college.py")
    colleges = {r[0] for r in sql(demo_store, "select distinct college_name from graduates")}
    assert {p.label for p in app.get("page_link")} >= colleges


def test_detail_shows_history_masked_identity_and_flags(demo_store: Store) -> None:
    (student, name, id_number) = sql(demo_store, """
        select g.student_id, g.name, g.id_number from graduates g
        join registrations r using (student_id) where r.revision_no = 2 limit 1""")[0]
    app = open_page("screens/detail.py", student=student)
    assert app.header[0].value == f"{name}（{student}）"
    (events,) = sql(demo_store, """
        select (select count(*) from registration_status where student_id = $1)
             + (select count(*) from reviews join registration_status using (registration_id)
                where student_id = $1 and decided_at < getvariable('as_of_end'))""", [student])[0]
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
    app.switch_page("screens/detail.py")
    app.run()
    app.text_input[0].input(name[1:]).run()
    assert not app.exception
    assert any(name in p.label for p in app.get("page_link"))


@pytest.mark.parametrize("page", [None, "screens/risk.py", "screens/college.py", "screens/detail.py"])
def test_every_page_on_an_empty_store_says_what_to_do(page: str | None, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGAN_DB", str(tmp_path / "empty.duckdb"))
    first = open_page(page, user=None)  # no account yet: the login screen says how to begin
    assert any("dangan user add" in i.value and "dangan demo" in i.value for i in first.info)
    accounts.add_user(Store(tmp_path / "empty.duckdb"), SYSTEM, "office", "admin", "office2024",
                      must_change_password=False)
    app = open_page(page, user="office")
    assert any("dangan demo" in i.value for i in app.info)
