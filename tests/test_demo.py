"""The demo builder: realistic, internally consistent, reproducible, and safe to run."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines import demo
from pipelines.rules import checks, identity, roles, verification
from pipelines.store import SYSTEM, Store, StoreError

AS_OF = date(2024, 6, 10)
AS_OF_END = datetime(2024, 6, 11)
GRADUATES = 2000
SEED = 7


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, int]]:
    store = Store(tmp_path_factory.mktemp("demo") / "d.duckdb", today="2024-06-10")
    counts = demo.build_demo(store, graduates=GRADUATES, seed=SEED, as_of=AS_OF)
    return store, counts


@pytest.fixture(scope="module")
def store(built: tuple[Store, dict[str, int]]) -> Store:
    return built[0]


def rows(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with store.reading(SYSTEM) as reader:
        return reader._conn.execute(sql, params or []).fetchall()


def frame(store: Store, sql: str) -> pl.DataFrame:
    with store.reading(SYSTEM) as reader:
        return reader._conn.sql(sql).pl()


def scalar(store: Store, sql: str) -> Any:
    return rows(store, sql)[0][0]


# --- the roster ------------------------------------------------------------------------------


def test_counts_are_what_the_store_holds(built: tuple[Store, dict[str, int]]) -> None:
    store, counts = built
    assert counts["graduates"] == GRADUATES
    for table, count in counts.items():
        assert scalar(store, f"select count(*) from {table}") == count, table
    assert rows(store, "select kind, rows_inserted from import_batches") == [("demo", GRADUATES)]
    assert rows(store, "select value from settings where key = 'as_of'") == [("2024-06-10",)]


def test_campaign_is_the_seed_notice(store: Store) -> None:
    campaign = frame(store, "select * from campaigns").to_dicts()
    assert len(campaign) == 1
    assert campaign[0]["cohort"] == 2024
    assert campaign[0]["school_name"] == "江西服装学院"
    assert campaign[0]["notice_number"] == "江服就发〔2024〕27号"
    assert campaign[0]["registration_deadline"] == date(2024, 6, 17)
    assert campaign[0]["change_deadline"] == date(2024, 8, 31)
    assert campaign[0]["default_graduation_date"] == date(2024, 6, 30)


def test_every_id_number_is_valid_and_matches_the_graduate(store: Store) -> None:
    graduates = frame(store, "select id_number, origin_code, gender from graduates")
    for id_number, origin_code, gender in graduates.iter_rows():
        assert identity.id_number_problem(id_number) is None, id_number
        assert id_number[:6] == origin_code
        born = identity.id_birth_date(id_number)
        assert born is not None and 2000 <= born.year <= 2003
        assert (int(id_number[16]) % 2 == 1) == (gender == "男")
    assert graduates["id_number"].n_unique() == graduates.height


def test_every_phone_is_valid(store: Store) -> None:
    for (phone,) in rows(store, "select phone from graduates"):
        assert re.fullmatch(identity.MOBILE_PATTERN, phone), phone
    for (phone,) in rows(store, "select phone from registrations"):
        assert identity.phone_problem(phone) is None, phone


def test_student_ids_are_unique_text(store: Store) -> None:
    ids = frame(store, "select student_id from graduates")["student_id"]
    assert ids.n_unique() == ids.len()
    assert ids.str.len_chars().is_between(10, 12).all()
    assert ids.str.starts_with("0").all()  # leading zeros survive


def test_roster_looks_like_a_fashion_institute(store: Store) -> None:
    colleges = {r[0] for r in rows(store, "select college_name from graduates")}
    assert {"服装设计学院", "服装工程学院", "商学院", "信息工程学院"} <= colleges
    assert len(colleges) == 8
    assert scalar(store, "select count(*) from graduates where class_name not like '%班'") == 0
    assert scalar(store, "select count(*) from graduates where advisor is null") == 0
    levels = dict(rows(store, "select education_level, count(*) from graduates group by 1"))
    assert set(levels) == {"31", "41"} and levels["31"] > 3 * levels["41"]
    jiangxi = scalar(store, "select avg((origin_code like '36%')::int) from graduates")
    assert 0.6 < jiangxi < 0.8
    assert scalar(store, "select count(*) from graduates where origin_code = '110108'") > 0
    hukou = scalar(store, "select avg(is_hukou_at_school::int) from graduates")
    assert 0.2 < hukou < 0.4


# --- registrations and reviews -----------------------------------------------------------------


def test_most_graduates_have_registered(store: Store) -> None:
    registered = scalar(store, "select count(distinct student_id) from registrations")
    assert 0.85 <= registered / GRADUATES <= 0.92


def test_all_six_transfer_types_are_present(store: Store) -> None:
    found = {r[0] for r in rows(store, "select distinct transfer_type from registrations")}
    assert found == {"origin", "employer", "custodian", "supervisor", "study_here", "study_elsewhere"}


def test_all_four_statuses_and_every_stage_are_present(store: Store) -> None:
    statuses = {r[0] for r in rows(store, "select distinct status from current_registrations")}
    assert statuses == {"pending_college", "pending_school", "returned", "approved"}
    stages = {r[0] for r in rows(store, "select distinct stage from graduate_stages")}
    assert stages == {
        "not_registered",
        "pending_college",
        "pending_school",
        "returned",
        "approved",
        "confirmed",
        "verified",
    }


def test_returned_forms_are_resubmitted_as_new_revisions(store: Store) -> None:
    assert scalar(store, "select count(*) from registrations where revision_no = 2") > 0
    # every later revision follows a return of the one before it
    assert (
        scalar(
            store,
            """
        select count(*)
        from registrations later
        join registrations earlier
            on earlier.student_id = later.student_id and earlier.revision_no = later.revision_no - 1
        left join reviews
            on reviews.registration_id = earlier.registration_id and reviews.decision = 'return'
        where reviews.decided_at is null or reviews.decided_at >= later.submitted_at
    """,
        )
        == 0
    )
    # revisions are numbered from 1 without gaps
    assert (
        scalar(
            store,
            """
        select count(*) from (
            select student_id, max(revision_no) as top, count(*) as n
            from registrations group by 1
        ) where top <> n
    """,
        )
        == 0
    )


def test_flags_are_exactly_what_the_checks_say(store: Store) -> None:
    registrations = frame(
        store,
        """
        select registrations.*, graduates.name as graduate_name,
            graduates.phone as graduate_phone, graduates.origin_code
        from registrations join graduates using (student_id)
        order by registration_id
    """,
    )
    recomputed = checks.with_flags(registrations.drop("flags"))["flags"]
    assert registrations["flags"].to_list() == recomputed.to_list()
    first = registrations.filter(pl.col("revision_no") == 1)
    flagged_share = (first["flags"].list.len() > 0).mean()
    assert 0.05 <= flagged_share <= 0.11
    kinds = {f for flags in first["flags"].to_list() for f in flags}
    assert {
        "address_incomplete",
        "contact_is_self_or_family",
        "unit_cannot_keep_archives",
        "postcode_province_mismatch",
        "proof_missing",
    } <= kinds


def test_clean_forms_are_consistent(store: Store) -> None:
    forms = frame(store, "select * from registrations where len(flags) = 0")
    assert (forms.filter(pl.col("transfer_type") == "origin")["proof_count"] == 0).all()
    others = forms.filter(pl.col("transfer_type") != "origin")["proof_count"]
    assert others.is_between(1, 3).all()
    assert forms["note"].str.len_chars().max() <= checks.NOTE_MAX_CHARS


def test_nothing_happens_after_as_of(store: Store) -> None:
    moments = {
        "graduates": "updated_at",
        "destinations": "recorded_at",
        "registrations": "submitted_at",
        "reviews": "decided_at",
        "hukou_registrations": "recorded_at",
        "confirmations": "confirmed_at",
        "verification_reports": "issued_at",
    }
    for table, column in moments.items():
        latest = scalar(store, f"select max({column}) from {table}")
        assert latest < AS_OF_END, table
    assert scalar(store, "select max(closed_at) from verification_reports") < AS_OF_END
    assert scalar(store, "select min(submitted_at) from registrations") >= datetime(2024, 4, 15)


def test_reviews_follow_their_revision(store: Store) -> None:
    assert (
        scalar(
            store,
            """
        select count(*) from reviews join registrations using (registration_id)
        where decided_at <= submitted_at or decided_at >= submitted_at + interval 11 day
    """,
        )
        == 0
    )
    # most decisions come within days; a few slow reviewers leave forms waiting longer
    slow = scalar(
        store,
        """
        select count(*) from reviews join registrations using (registration_id)
        where level = 'college' and decided_at >= submitted_at + interval 3 day""",
    )
    assert 0 < slow < scalar(store, "select count(*) from reviews where level = 'college'") * 0.2
    # the school decides only after the college approved, never on a returned revision
    assert (
        scalar(
            store,
            """
        select count(*) from reviews school
        left join reviews college
            on college.registration_id = school.registration_id and college.level = 'college'
        where school.level = 'school'
            and (college.decision is distinct from 'approve'
                 or college.decided_at >= school.decided_at)
    """,
        )
        == 0
    )
    assert (
        scalar(
            store,
            """
        select count(*) from (
            select registration_id, level from reviews group by all having count(*) > 1
        )
    """,
        )
        == 0
    )
    assert scalar(store, "select count(*) from reviews where decision = 'approve' and reason is not null") == 0
    assert scalar(store, "select count(*) from reviews where decision = 'return' and coalesce(reason, '') = ''") == 0


# --- confirmation, hukou, verification ---------------------------------------------------------


def test_confirmations_only_on_approved_revisions(store: Store) -> None:
    assert scalar(store, "select count(*) from confirmations") > 0
    assert (
        scalar(
            store,
            """
        select count(*) from confirmations
        left join registration_status using (registration_id)
        where registration_status.status is distinct from 'approved'
            or registration_status.approved_at >= confirmations.confirmed_at
            or registration_status.student_id <> confirmations.student_id
    """,
        )
        == 0
    )
    # the snapshot points at the graduate's own destination and hukou, recorded before
    assert (
        scalar(
            store,
            """
        select count(*) from confirmations c
        left join destinations d using (destination_id)
        left join hukou_registrations h using (hukou_id)
        where (c.destination_id is not null
               and (d.student_id <> c.student_id or d.recorded_at > c.confirmed_at))
           or (c.hukou_id is not null
               and (h.student_id <> c.student_id or h.recorded_at > c.confirmed_at))
    """,
        )
        == 0
    )
    answers = {r[0] for r in rows(store, "select distinct answer from confirmations")}
    assert answers == {"confirmed", "needs_update"}


def test_hukou_only_for_hukou_at_school(store: Store) -> None:
    assert scalar(store, "select count(*) from hukou_registrations") > 0
    assert (
        scalar(
            store,
            """
        select count(*) from hukou_registrations join graduates using (student_id)
        where not is_hukou_at_school
    """,
        )
        == 0
    )


def test_verification_reports(store: Store) -> None:
    reports = frame(
        store,
        """
        select verification_reports.*, confirmations.confirmed_at, confirmations.answer,
            confirmations.hukou_id
        from verification_reports join confirmations using (confirmation_id)
    """,
    )
    numbers = reports["report_number"]
    assert numbers.n_unique() == reports.height > 0
    assert (numbers.str.len_chars() == 15).all()
    assert numbers.str.starts_with("24").all()
    assert numbers.str.contains(r"^2410001[2-9A-HJKMNP-Z]{8}$").all()  # cohort + 院校代码 + 8
    assert (reports["issued_at"] > reports["confirmed_at"]).all()
    assert (reports["answer"] == "confirmed").all()
    cap = verification.latest_valid_until(date(2024, 6, 30))
    assert reports["valid_until"].drop_nulls().max() <= cap
    assert reports["valid_until"].null_count() > 0  # 未确认
    assert (reports["valid_until"].drop_nulls() < AS_OF).any()  # 已过期
    assert reports["closed_at"].drop_nulls().len() > 0  # 已关闭
    hukou_reports = reports.filter(pl.col("kind") == "hukou")
    assert hukou_reports.height > 0 and hukou_reports["hukou_id"].null_count() == 0


# --- reproducibility and safety ----------------------------------------------------------------


def build(path: Path, graduates: int, seed: int) -> tuple[Store, dict[str, int]]:
    store = Store(path, today="2024-06-10")
    return store, demo.build_demo(store, graduates=graduates, seed=seed, as_of=AS_OF)


def test_same_seed_same_graduates_other_seed_other(store: Store, tmp_path: Path) -> None:
    same, _ = build(tmp_path / "same.duckdb", GRADUATES, SEED)
    other, _ = build(tmp_path / "other.duckdb", GRADUATES, SEED + 1)
    sql = "select * from graduates order by student_id"
    assert frame(same, sql).equals(frame(store, sql))
    assert not frame(other, sql).equals(frame(store, sql))


def test_a_store_with_data_is_refused_and_left_alone(store: Store) -> None:
    before = scalar(store, "select count(*) from graduates")
    with pytest.raises(StoreError, match="库中已有数据"):
        demo.build_demo(store, graduates=10, seed=1, as_of=AS_OF)
    assert scalar(store, "select count(*) from graduates") == before
    assert scalar(store, "select count(*) from campaigns") == 1


def test_chunks_stream_and_stay_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.write, "CHUNK_SIZE", 300)
    calls: list[tuple[int, int]] = []
    store = Store(tmp_path / "chunks.duckdb", today="2024-06-10")
    counts = demo.build_demo(
        store, graduates=1000, seed=3, as_of=AS_OF, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(300, 1000), (600, 1000), (900, 1000), (1000, 1000)]
    assert counts["graduates"] == 1000
    for table, column in (
        ("graduates", "student_id"),
        ("graduates", "id_number"),
        ("verification_reports", "report_number"),
    ):
        assert scalar(store, f"select count(distinct {column}) = count(*) from {table}"), column
    assert scalar(store, "select count(*) from audit_log where action = 'demo'") == 6


def _first_college_and_major(store: Store) -> tuple[str, str]:
    found = rows(store, "select college_name, major from graduates order by student_id limit 1")
    return str(found[0][0]), str(found[0][1])


@pytest.mark.parametrize("actor_colleges", [None, "first"])
@pytest.mark.parametrize("day", [AS_OF, date(2024, 6, 9)])
def test_summed_counts_from_the_materialised_tables_equal_live_counts(
    store: Store, actor_colleges: str | None, day: date
) -> None:
    """总览 reads stage_count_cache and daily_count_cache; every filter they can answer must give
    what a live count over the graduates gives, for the store's day and the day before, within
    a dean's scope too."""
    from pipelines.rules.filters import Filters
    from pipelines.store import Actor

    college, major = _first_college_and_major(store)
    actor = SYSTEM if actor_colleges is None else Actor("院长", "college_reviewer", (college,))
    selections = [
        Filters(),
        Filters(college=college),
        Filters(transfer_type="employer"),
        Filters(stage="approved"),
        Filters(college=college, stage="pending_college"),
        Filters(major=major),
    ]
    with store.reading(actor, as_of=day) as reader:
        assert reader._conn.execute("select getvariable('use_count_cache')").fetchall() == [(True,)]
        for filters in selections:
            params = {"cohort": 2024, **filters.params()}
            cached = [
                reader.query("stats_breakdowns", **params),
                reader.query("daily_progress", start=date(2024, 5, 1), **params),
            ]
            reader._conn.execute("set variable use_count_cache = false")
            live = [
                reader.query("stats_breakdowns", **params),
                reader.query("daily_progress", start=date(2024, 5, 1), **params),
            ]
            reader._conn.execute("set variable use_count_cache = true")
            for got, expected in zip(cached, live, strict=True):
                assert got.equals(expected), filters
            assert cached[0].filter(pl.col("dimension") == "school")["graduates"][0] > 0, filters
            assert cached[1]["registered"][-1] > 0, filters


def test_the_demo_has_one_account_per_role(store: Store) -> None:
    from pipelines import accounts

    users = {u["username"]: u for u in accounts.list_users(store, SYSTEM)}
    assert {u["role"] for u in users.values()} == set(roles.ROLES)
    dean = accounts.login(store, "dean", demo.DEMO_PASSWORD)
    assert dean.actor.colleges is not None and len(dean.actor.colleges) == 1
    graduate = next(u for u in users.values() if u["role"] == "graduate")
    assert accounts.login(store, graduate["username"], demo.DEMO_PASSWORD).student_id == graduate["student_id"]


def test_demo_accounts_cover_every_stage_of_the_graduates_side(store: Store) -> None:
    ((college,),) = rows(store, "select colleges[1] from users where username = 'dean'")
    graduates = rows(
        store,
        """select u.username, u.display_name, g.name, g.college_name, g.stage, g.is_hukou_at_school
                               from users u join graduate_stages g using (student_id)
                               where u.role = 'graduate' order by u.user_id""",
    )
    assert [g[4] for g in graduates] == list(demo.DEMO_GRADUATE_STAGES)
    for username, display_name, name, graduate_college, stage, _hukou_here in graduates:
        assert display_name == name and graduate_college == college
        ((first,),) = rows(
            store,
            "select min(student_id) from graduate_stages where stage = ? and college_name = ?"
            + (" and is_hukou_at_school" if stage == "not_registered" else ""),
            [stage, college],
        )
        assert username == first
    assert graduates[0][5]  # the one not registered yet has all five modules (hukou at the school)
    assert [r[0] for r in rows(store, "select username from users where role <> 'graduate' order by user_id")] == [
        "admin",
        "school",
        "dean",
        "analyst",
    ]
