"""The role matrix, attacked from every entry point, on a demo store with one account per role:
pages (through the navigation and each page file on its own), actions and exports (the domain
functions the pages and the CLI call), and login itself (the form, lockout, the first-login
password change, sessions that end, 统一身份认证)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from pipelines import accounts, campaigns, exports, imports, privacy, reports, reviews
from pipelines.demo import DEMO_PASSWORD
from pipelines.rules import workflow
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Actor, Store, StoreError
from tests import apptest
from tests.apptest import APP, open_page, page_alone, refused_page, sql

pytestmark = pytest.mark.slow

PAGES = {  # page file -> its key
    "screens/progress/overview.py": "overview",
    "screens/progress/risk.py": "risk",
    "screens/progress/stats.py": "stats",
    "screens/review/review.py": "review",
    "screens/review/reports.py": "reports",
    "screens/drill/college.py": "college",
    "screens/drill/detail.py": "detail",
    "screens/admin/audit.py": "audit",
    "screens/admin/users.py": "users",
    "screens/public/verify.py": "verify",
    "screens/admin/imports.py": "imports",
    "screens/admin/campaign.py": "campaign",
    "screens/graduate/destination_form.py": "destination_form",
    "screens/graduate/registration_form.py": "registration_form",
    "screens/graduate/hukou_form.py": "hukou_form",
    "screens/graduate/confirm.py": "confirm",
    "screens/graduate/authorize.py": "authorize",
}
GRADUATE_PAGES = {"destination_form", "registration_form", "hukou_form", "confirm", "authorize"}
# The design, written out (not derived from pipelines.access): which pages each role has.
EXPECTED_PAGES = {
    "admin": set(PAGES.values()) - GRADUATE_PAGES,  # the five modules are a graduate's own forms
    "school": {"overview", "risk", "stats", "review", "college", "detail", "verify"},
    "dean": {"overview", "risk", "stats", "review", "college", "detail", "verify"},
    "analyst": {"overview", "risk", "stats", "college", "verify"},
    "graduate": {"detail", "verify"} | GRADUATE_PAGES,
}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from apptest.demo_store(tmp_path_factory, "access", graduates=1000, seed=5)


@pytest.fixture(scope="module")
def graduate(demo_store: Store) -> str:
    """A graduate account whose registration is confirmed (so a report can be issued for them),
    whose hukou is at the school (so all five modules are theirs)."""
    ((student,),) = sql(
        demo_store, "select min(student_id) from graduate_stages where is_confirmed and is_hukou_at_school"
    )
    if not sql(demo_store, "select 1 from users where username = ?", [student]):
        accounts.add_user(
            demo_store, SYSTEM, student, "graduate", DEMO_PASSWORD, student_id=student, must_change_password=False
        )
    return str(student)


def _login_name(role: str, graduate: str) -> str:
    return graduate if role == "graduate" else role


def _actor(store: Store, username: str) -> Actor:
    return accounts.login(store, username, DEMO_PASSWORD).actor


@pytest.mark.parametrize("role", list(EXPECTED_PAGES))
def test_each_role_gets_exactly_its_pages_and_every_other_page_refuses_it(
    demo_store: Store, graduate: str, role: str
) -> None:
    user = _login_name(role, graduate)
    home = open_page(None, user)
    for script, key in PAGES.items():
        allowed = key in EXPECTED_PAGES[role]
        if allowed:  # in the navigation, and it opens
            home.switch_page(script)
            home.run()
            assert not home.exception, (role, script, [e.value for e in home.exception])
            assert not refused_page(home), (role, script)
        else:  # not in the navigation at all, and the page file run on its own refuses too
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                home.switch_page(script)
            assert refused_page(page_alone(script, user)), (role, script)


def test_nobody_logged_in_sees_the_login_form_on_every_page_but_the_public_lookup(demo_store: Store) -> None:
    for script, key in PAGES.items():
        app = page_alone(script, None)
        if key == "verify":
            assert app.title[0].value == "核验查询"
        else:
            assert any("请先登录" in w.value for w in app.warning) and not app.dataframe, script
    app = open_page(None, user=None, college="服装设计学院")
    assert app.title[0].value == "登录 · 档案登记看板" and not app.metric and not app.dataframe


def test_the_login_form_logs_in_keeps_the_link_and_locks_after_five_failures(demo_store: Store) -> None:
    accounts.add_user(demo_store, SYSTEM, "form01", "school_reviewer", "form12345", must_change_password=False)
    app = AppTest.from_file(APP, default_timeout=300)
    app.query_params["college"] = "服装设计学院"
    app.run()
    app.text_input[0].input("form01")
    app.text_input[1].input("wrong12345")
    app.button[0].click().run()
    assert [e.value for e in app.error] == [plain(accounts.REFUSED)] and not app.metric
    app.text_input[1].input("form12345")
    app.button[0].click().run()
    assert not app.exception and app.title[0].value == "总览" and app.metric
    assert app.query_params["college"] == "服装设计学院"  # the shared link's filter survived the login
    assert any("校级审核员" in m.value for m in app.sidebar.markdown)
    next(b for b in app.sidebar.button if b.label == "退出登录").click().run()
    assert app.title[0].value == "登录 · 档案登记看板" and any("已退出登录" in w.value for w in app.warning)
    for attempt in range(5):
        app.text_input[0].input("form01")
        app.text_input[1].input(f"bad{attempt}23456")
        app.button[0].click().run()
    assert [e.value for e in app.error] == [plain(accounts.REFUSED)]  # one answer, whatever the reason (#15)
    app.text_input[1].input("form12345")
    app.button[0].click().run()
    assert [e.value for e in app.error] == [plain(accounts.REFUSED)] and not app.metric  # locked for this client
    outcomes = [
        json.loads(d)["outcome"]
        for (d,) in sql(
            demo_store, "select detail from audit_log where action = 'login' and target = 'form01' order by audit_id"
        )
    ]
    assert outcomes == ["wrong_password", "ok", *["wrong_password"] * 4, "locked_now", "locked"]


def test_a_new_account_must_change_its_password_before_anything_else(demo_store: Store) -> None:
    accounts.add_user(demo_store, SYSTEM, "first01", "analyst", "initial123")  # must change: the default
    app = open_page(None, "first01")
    assert app.title[0].value == "首次登录：请修改密码" and not app.metric and not app.dataframe
    fields = {t.label.split("（")[0]: t for t in app.text_input}
    fields["原密码"].input("initial123")
    fields["新密码"].input("changed123")
    fields["再次输入新密码"].input("changed124")
    app.button[0].click().run()
    assert any("两次输入的新密码不一致" in e.value for e in app.error)
    fields = {t.label.split("（")[0]: t for t in app.text_input}
    fields["原密码"].input("initial123")
    fields["新密码"].input("changed123")
    fields["再次输入新密码"].input("changed123")
    app.button[0].click().run()
    assert not app.exception and app.title[0].value == "总览" and app.metric
    assert not accounts.login(demo_store, "first01", "changed123").must_change_password


def test_a_session_ends_when_the_account_is_reset_disabled_or_idle(demo_store: Store) -> None:
    accounts.add_user(demo_store, SYSTEM, "sess01", "school_reviewer", "sess12345", must_change_password=False)
    app = open_page(None, "sess01")
    assert app.metric
    accounts.reset_password(demo_store, SYSTEM, "sess01", "reset12345")
    app.run()
    assert app.title[0].value == "登录 · 档案登记看板" and any("密码或权限已变更" in w.value for w in app.warning)
    app = open_page(None, "sess01")
    accounts.update_user(demo_store, SYSTEM, "sess01", disabled=True)
    app.run()
    assert app.title[0].value == "登录 · 档案登记看板" and any("已停用" in w.value for w in app.warning)
    app = open_page(None, "analyst")
    app.session_state["seen_at"] = time.time() - 31 * 60
    app.run()
    assert app.title[0].value == "登录 · 档案登记看板" and any("30 分钟未操作" in w.value for w in app.warning)


def test_a_unified_identity_login_maps_to_its_account(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import auth

    accounts.add_user(
        demo_store,
        SYSTEM,
        "oidc01",
        "college_reviewer",
        None,
        colleges=[apptest.dean_college(demo_store)],
        must_change_password=False,
    )
    accounts.update_user(demo_store, SYSTEM, "oidc01", oidc_subject="T20240001")
    monkeypatch.setattr(auth, "oidc_configured", lambda: True)
    monkeypatch.setattr(auth, "_oidc_subject", lambda: "T20240001")
    app = open_page(None, user=None)
    assert not app.exception and app.title[0].value == "总览"
    assert any(apptest.dean_college(demo_store) in m.value for m in app.sidebar.markdown)
    monkeypatch.setattr(auth, "_oidc_subject", lambda: "T99999999")
    app = open_page(None, user=None)
    assert app.title[0].value == "登录 · 档案登记看板"
    assert any("T99999999 尚未在本系统开通" in w.value for w in app.warning)
    assert any(b.label == "退出统一身份认证" for b in app.button)


def test_a_graduate_sees_only_their_own_record_whatever_the_link_says(demo_store: Store, graduate: str) -> None:
    ((other,),) = sql(demo_store, "select min(student_id) from graduates where student_id <> ?", [graduate])
    app = open_page(None, graduate, student=other)
    assert app.title[0].value == "我的登记"
    assert app.header[0].value.endswith(f"（{graduate}）")
    assert not app.main.text_input  # no search box
    assert not any(b.label.startswith("查看完整身份证号") for b in app.button)


def test_an_analyst_sees_aggregates_but_no_list_of_people(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    risk = open_page("screens/progress/risk.py", "analyst", college=college)
    assert risk.metric and any("分析员只查看汇总数据" in i.value for i in risk.info)
    assert not any("学号" in d.value.columns for d in risk.dataframe)
    assert not any(b.label.startswith("下载") for b in risk.get("download_button"))
    page = open_page("screens/drill/college.py", "analyst", college=college)
    assert page.dataframe and not any("学号" in d.value.columns for d in page.dataframe)


# --- actions and exports -------------------------------------------------------------------------

ACTIONS = [
    "review:college",
    "review:school",
    "confirm",
    "report:issue",
    "reveal",
    "audit:read",
    "user:add",
    "import",
    "campaign:set",
    "export:chase_list",
    "export:review_results",
    "export:review_results_unmasked",
    "export:audit_log",
]
EXPECTED_ACTIONS = {
    "admin": set(ACTIONS),
    "school": {
        "review:school",
        "reveal",
        "export:chase_list",
        "export:review_results",
        "export:review_results_unmasked",
    },
    "dean": {
        "review:college",
        "reveal",
        "export:chase_list",
        "export:review_results",
        "export:review_results_unmasked",
    },
    "analyst": set(),
    "graduate": {"confirm", "report:issue"},  # for themself: the store shows them no one else
}


def _attempt(store: Store, actor: Actor, action: str, tmp: Any) -> None:
    """Try one action as `actor`; raises StoreError when refused."""
    college = actor.colleges[0] if actor.colleges else None
    ((student,),) = sql(
        store, "select min(student_id) from graduates where ? is null or college_name = ?", [college, college]
    )
    if action.startswith("review:"):
        level = action.split(":")[1]
        status = workflow.PENDING_COLLEGE if level == "college" else workflow.PENDING_SCHOOL
        ((registration_id,),) = sql(
            store,
            """select min(registration_id) from graduate_stages
                                            where status = ? and (? is null or college_name = ?)""",
            [status, college, college],
        )
        reviews.decide(store, actor, registration_id, workflow.Decision(level, "return", "测试退回"))
    elif action in ("confirm", "report:issue"):
        # someone the action can succeed for, if the role may: the graduate themself, or the
        # first approved (confirm) or confirmed (issue) graduate in scope
        wanted = "status = 'approved'" if action == "confirm" else "is_confirmed"
        ((subject,),) = sql(
            store,
            f"""select min(student_id) from graduate_stages where {wanted}
                                     and (? is null or college_name = ?) and (? is null or student_id = ?)""",
            [college, college, actor.student_id, actor.student_id],
        )
        if action == "confirm":
            reports.confirm(store, actor, subject)
        else:
            reports.issue(store, actor, subject, "archive", None)
    elif action == "reveal":
        privacy.reveal(store, actor, student)
    elif action == "audit:read":
        privacy.search_audit(
            store, actor, who=None, action=None, target=None, date_from=None, date_to=None, limit=1, offset=0
        )
    elif action == "user:add":
        accounts.add_user(store, actor, f"new_{actor.name}", "analyst", "new123456")
    elif action == "import":
        imports.import_file(store, actor, "roster", tmp / "missing.csv")
    elif action == "campaign:set":
        with store.reading(SYSTEM) as reader:
            found = reader.one("campaign", cohort=2024)
        assert found is not None
        campaigns.save_campaign(
            store,
            actor,
            campaigns.Campaign(**{k: v for k, v in found.items() if k in campaigns.Campaign.__dataclass_fields__}),
        )
    elif action == "export:chase_list":
        exports.chase_list_file(store, actor, 2024, Filters(college=college), None, date(2024, 6, 17), "c.xlsx")
    elif action.startswith("export:review_results"):
        exports.review_results_file(
            store, actor, 2024, Filters(college=college), "csv", "r.csv", unmasked=action.endswith("unmasked")
        )
    elif action == "export:audit_log":
        exports.audit_log_file(
            store, actor, {"who": None, "action": None, "target": None, "date_from": None, "date_to": None}, "a.csv"
        )


@pytest.mark.parametrize("role", list(EXPECTED_ACTIONS))
def test_each_role_may_do_exactly_its_actions_and_every_refusal_is_audited(
    demo_store: Store, graduate: str, role: str, tmp_path: Any
) -> None:
    actor = _actor(demo_store, _login_name(role, graduate))
    for action in ACTIONS:
        ((before,),) = sql(demo_store, "select count(*) from audit_log where actor = ?", [actor.name])
        try:
            _attempt(demo_store, actor, action, tmp_path)
        except (StoreError, FileNotFoundError) as exc:
            refused = not (action == "import" and "missing.csv" in str(exc))  # allowed, but no such file
        else:
            refused = False
        assert refused == (action not in EXPECTED_ACTIONS[role]), (role, action)
        ((after,),) = sql(demo_store, "select count(*) from audit_log where actor = ?", [actor.name])
        if refused:
            assert after == before + 1, (role, action)  # the refused attempt left a record


def test_the_chase_list_export_is_scoped_masked_and_audited(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    dean = _actor(demo_store, "dean")
    book, rows = exports.chase_list_file(
        demo_store, dean, 2024, Filters(college=college), None, date(2024, 6, 17), "催办名单.xlsx"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    ids = {
        row[1]
        for row in sheet.iter_rows(values_only=True)
        if isinstance(row[1], str) and row[1].isdigit() and len(row[1]) >= 8
    }
    ((at_risk,),) = sql(
        demo_store, "select count(*) from graduate_stages where college_name = ? and stage <> 'verified'", [college]
    )
    assert rows > 0 and len(ids) == rows
    allowed = {r[0] for r in sql(demo_store, "select student_id from graduates where college_name = ?", [college])}
    assert ids <= allowed
    phones = {r[0] for r in sql(demo_store, "select phone from graduates where phone is not null")}
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert not any(p in text for p in phones) and "****" in text
    ((actor, detail),) = sql(
        demo_store,
        """select actor, detail from audit_log where action = 'export:chase_list'
                                          order by audit_id desc limit 1""",
    )
    assert actor == "dean" and json.loads(detail)["rows"] == rows and len(json.loads(detail)["sha256"]) == 64
    other = sql(demo_store, "select min(college_name) from graduates where college_name <> ?", [college])[0][0]
    _, none = exports.chase_list_file(demo_store, dean, 2024, Filters(college=other), None, date(2024, 6, 17), "x.xlsx")
    assert none == 0 and at_risk >= rows


def test_opening_a_registration_in_the_review_pane_is_recorded_once_per_session(demo_store: Store) -> None:
    college = apptest.dean_college(demo_store)
    ((registration_id,),) = sql(
        demo_store,
        """select min(registration_id) from graduate_stages
                                             where status = 'pending_college' and college_name = ?""",
        [college],
    )
    app = open_page("screens/review/review.py", "dean", item=str(registration_id))
    app.run()  # a rerun in the same session adds no second record
    views = sql(
        demo_store,
        "select actor, detail from audit_log where action = 'view:registration' and target = ?",
        [str(registration_id)],
    )
    assert len(views) == 1 and views[0][0] == "dean"
    assert json.loads(views[0][1])["fields"] == ["address_detail", "phone", "proofs"]


def test_the_store_refuses_an_analyst_every_query_that_lists_people(demo_store: Store) -> None:
    from pipelines.rules.roles import PERSON_QUERIES

    analyst = _actor(demo_store, "analyst")
    names = {p.stem for p in (apptest.ROOT / "sql" / "queries").rglob("*.sql")}
    assert names >= PERSON_QUERIES  # every listed query exists
    with demo_store.reading(analyst) as reader:
        for name in sorted(PERSON_QUERIES):
            with pytest.raises(StoreError, match="只能查看汇总数据"):
                reader.query(name)
        assert reader.query("stats_by", by="school", cohort=2024, **Filters().params())["graduates"][0] > 0
    with demo_store.reading(_actor(demo_store, "school")) as reader:  # other roles are not affected
        assert (
            reader.query("graduate_list", cohort=2024, search=None, limit=5, offset=0, **Filters().params()).height == 5
        )


def test_an_analyst_sees_no_statistics_of_a_selection_too_small_to_hide_people(demo_store: Store) -> None:
    """(#15) A filter down to a handful of graduates would single them out: analysts get the
    reason instead of the numbers; the office still sees them."""
    from pipelines import statistics

    ((class_name, transfer_type, people),) = sql(
        demo_store,
        """
        select class_name, transfer_type, count(*) from graduate_stages where transfer_type is not null
        group by all having count(*) between 1 and 4 order by 3, 1, 2 limit 1""",
    )
    query = {"class": class_name, "type": transfer_type}
    analyst = open_page("screens/progress/overview.py", user="analyst", **query)
    assert any("所选范围不足 5 人" in i.value for i in analyst.info) and not analyst.metric
    office = open_page("screens/progress/overview.py", user="admin", **query)
    assert office.metric and int(office.metric[0].value.replace(",", "")) == people
    stats = open_page("screens/progress/stats.py", user="analyst", **query)
    assert not stats.exception and any(
        statistics.SUPPRESSION_NOTE[:10] in i.value or "所选范围不足" in i.value for i in stats.info
    )
