"""The findings of the attack run (#15), one test each: snapshot scope, the login's answers and
locks, masking and its re-import guard, file permissions, small cells, the public look-up's
limits, and graduate activation. Each failed on main before its fix."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from pipelines import accounts, cli, imports, privacy, statistics
from pipelines.rules import identity
from pipelines.store import SYSTEM, Actor, Store, StoreError
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    registration_row,
    roster_row,
    table,
    write_csv,
)

DEAN = Actor("dean", "college_reviewer", ("商学院",))


@pytest.fixture
def school(store: Store, tmp_path: Path) -> Store:
    """Ten graduates in two colleges, registered."""
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(10)])
    )
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(10)]),
    )
    return store


def _audits(store: Store, action: str) -> list[dict[str, object]]:
    return [
        json.loads(d)
        for (d,) in table(store, "select detail from audit_log where action = ? order by audit_id", [action])
    ]


# --- 1. the daily snapshot is the whole school's, taken by the office -------------------------------


def test_a_narrow_scope_cannot_write_the_schools_snapshot(school: Store) -> None:
    with pytest.raises(StoreError, match="就业处"):
        statistics.take_snapshot(school, DEAN)
    assert table(school, "select count(*) from stage_snapshots") == [(0,)]
    assert _audits(school, "snapshot")[-1]["outcome"] == "refused"
    graduate = Actor("0024000001", "graduate", None, "0024000001")
    with pytest.raises(StoreError, match="就业处"):
        statistics.take_snapshot(school, graduate)
    # an office account limited to one college still snapshots the whole school
    narrow_admin = Actor("商学院管理员", "admin", ("商学院",))
    statistics.take_snapshot(school, narrow_admin)
    assert table(school, "select count(distinct college_name), sum(graduates) from stage_snapshots") == [(2, 10)]


# --- 6. the login: one answer, locks per account and client ------------------------------------------


def _add(store: Store, name: str, role: str = "admin") -> None:
    accounts.add_user(store, SYSTEM, name, role, "office2024", must_change_password=False)


def test_unknown_disabled_and_locked_accounts_get_the_same_answer(school: Store) -> None:
    _add(school, "office")
    _add(school, "gone")
    accounts.update_user(school, SYSTEM, "gone", disabled=True)
    answers = set()
    for name, password in (("nobody", "x"), ("gone", "office2024"), ("gone", "wrong"), ("office", "wrong")):
        with pytest.raises(accounts.LoginRefused) as refused:
            accounts.login(school, name, password, client="10.0.0.9")
        answers.add(str(refused.value))
    for _ in range(6):
        with pytest.raises(accounts.LoginRefused) as refused:
            accounts.login(school, "office", "wrong", client="10.0.0.9")
        answers.add(str(refused.value))
    assert len(answers) == 1, answers


def test_five_failures_lock_that_client_only_and_the_owner_still_gets_in(school: Store) -> None:
    _add(school, "office")
    for _ in range(5):
        with pytest.raises(accounts.LoginRefused):
            accounts.login(school, "office", "wrong", client="203.0.113.7")
    with pytest.raises(accounts.LoginRefused):  # the right password, from the attacker's client: locked
        accounts.login(school, "office", "office2024", client="203.0.113.7")
    assert accounts.login(school, "office", "office2024", client="10.1.2.3").username == "office"
    outcomes = [d["outcome"] for d in _audits(school, "login")]
    assert "locked_now" in outcomes and "locked" in outcomes and outcomes[-1] == "ok"


def test_one_client_trying_many_accounts_is_throttled(school: Store) -> None:
    for i in range(accounts.CLIENT_ACCOUNTS_LIMIT + 3):
        name = f"00240{i:05d}"
        with pytest.raises(accounts.LoginRefused):
            accounts.login(school, name, "guess2024", client="198.51.100.4")
    assert _audits(school, "login")[-1]["outcome"] == "throttled"


def test_a_password_typed_as_the_user_name_is_not_stored(school: Store) -> None:
    with pytest.raises(accounts.LoginRefused):
        accounts.login(school, "MySecret2024!", "x", client="10.0.0.1")
    logged = table(school, "select actor, target, detail from audit_log where action = 'login'")
    assert "MySecret2024!" not in json.dumps(logged, ensure_ascii=False)


# --- 5. masking without gaps --------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["幸福路40号", "建设路667号3栋201室", "1栋", "八一大道 100 号"])
def test_a_masked_address_never_shows_the_house_number(address: str) -> None:
    masked = identity.mask_address(address)
    assert not any(ch.isdigit() for ch in masked) and identity.MASK in masked


def test_every_sensitive_field_is_masked_by_one_rule(school: Store) -> None:
    with school.reading(DEAN) as reader:
        row = reader.one("graduate_detail", student_id="0024000001")
    assert row is not None
    shown = privacy.masked(row)
    for field in privacy.DISCLOSURE:
        if row.get(field):
            assert shown[field] != row[field] and identity.MASK in shown[field], field
    assert "0791-86123456" not in json.dumps(shown, default=str, ensure_ascii=False)


def test_a_masked_export_cannot_be_imported_back(school: Store, tmp_path: Path) -> None:
    out = tmp_path / "masked.csv"
    assert cli.main(["--db", str(school.path), "--today", "2024-06-10", "review", "export", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert identity.MASK in text
    with pytest.raises(imports.ImportRefused, match="脱敏"):
        imports.import_file(school, SYSTEM, "registrations", out)
    # an older export's short masks (建设路667*) are refused too
    rows = [registration_row(1, 详细地址="建设路667*", 提交时间="2024-06-01 10:00:00")]
    with pytest.raises(imports.ImportRefused, match="脱敏"):
        imports.import_file(school, SYSTEM, "registrations", write_csv(tmp_path / "old.csv", REGISTRATION_HEADER, rows))


# --- 8. files only their owner reads --------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_store_and_an_unmasked_export_are_not_world_readable(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    old = os.umask(0o022)
    try:
        assert cli.main(["--db", str(db), "campaign", "set", "--cohort", "2024", "--school", "江西服装学院"]) == 0
        assert _mode(db) & 0o077 == 0, oct(_mode(db))
        out = tmp_path / "full.xlsx"
        assert cli.main(["--db", str(db), "review", "export", "--out", str(out), "--unmasked"]) == 0
        assert _mode(out) & 0o007 == 0, oct(_mode(out))
    finally:
        os.umask(old)


# --- 4. the public look-up's limits -------------------------------------------------------------------


@pytest.fixture
def reported(school: Store) -> tuple[Store, str]:
    """Graduate 0 confirmed with an archive report in force; (store, its number)."""
    from datetime import date

    from pipelines import reports, reviews, selfservice
    from pipelines.rules import workflow

    for level in ("college", "school"):
        reviews.decide_current(school, SYSTEM, "0024000000", workflow.Decision(level, "approve"))
    selfservice.record_destination(school, SYSTEM, "0024000000", "70", "", "")
    reports.confirm(school, SYSTEM, "0024000000")
    return school, reports.issue(school, SYSTEM, "0024000000", "archive", date(2024, 12, 30)).report_number


def test_clients_behind_a_trusted_proxy_are_told_apart_and_a_forged_header_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines import clients

    assert clients.client_address("10.0.0.2", "203.0.113.9") == "10.0.0.2"  # no trusted proxy: the header is ignored
    monkeypatch.setenv(clients.ENV_TRUSTED_PROXIES, "10.0.0.0/24")
    assert clients.client_address("10.0.0.2", "203.0.113.9") == "203.0.113.9"
    assert clients.client_address("10.0.0.2", "198.51.100.1, 203.0.113.9, 10.0.0.7") == "203.0.113.9"
    assert clients.client_address("192.0.2.50", "203.0.113.9") == "192.0.2.50"  # not our proxy: not believed
    # the dashboard listens on both stacks (Streamlit binds "::"): an IPv4 proxy's peer address
    # is IPv4-mapped, and one client is one address whichever way it arrived
    assert clients.client_address("::ffff:10.0.0.2", "203.0.113.9") == "203.0.113.9"
    assert clients.client_address("10.0.0.2", "::ffff:203.0.113.9, ::ffff:10.0.0.7") == "203.0.113.9"
    assert clients.client_address("::ffff:192.0.2.50", None) == "192.0.2.50"
    monkeypatch.setenv(clients.ENV_TRUSTED_PROXIES, "::ffff:10.0.0.0/120")  # written mapped, meant the same
    assert clients.client_address("10.0.0.2", "203.0.113.9") == "203.0.113.9"


def test_the_lookup_limit_holds_per_client_number_and_name_across_restarts(reported: tuple[Store, str]) -> None:
    from pipelines import lookups

    store, number = reported
    limits = lookups.Limits(per_client=4, per_number=3, per_name=5, global_slow=1000, global_block=2000)
    # three sessions behind one proxy are three clients: none blocks the others
    for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        assert lookups.look_up(store, "学生0", number, client, limits).verdict.valid  # type: ignore[union-attr]
    # the number has been tried 3 times: a 4th, from a new address, is limited
    assert lookups.look_up(store, "学生0", number, "203.0.113.4", limits).verdict is None
    # guessing numbers for one name, from many addresses, stops at the name's limit
    answers = [
        lookups.look_up(store, "学生1", f"2410001AAAAAAA{c}", f"198.51.100.{i}", limits).verdict
        for i, c in enumerate("BCDEFGH")
    ]
    assert [a is None for a in answers] == [False] * 5 + [True] * 2
    # the state is the audit log: a new limiter (a restarted server) sees it
    again = lookups.look_up(Store(store.path, today="2024-06-10"), "学生1", "2410001AAAAAAAZ", "198.51.100.99", limits)
    assert again.verdict is None and again.wait_minutes >= 1
    rows = _audits(store, "verify:lookup")
    assert len(rows) == 12 and {r["outcome"] for r in rows} == {"found", "not_found", "limited"}
    assert "学生1" not in json.dumps(rows, ensure_ascii=False)  # names are hashed


def test_a_flood_slows_everyone_before_it_blocks(reported: tuple[Store, str]) -> None:
    from pipelines import lookups

    store, number = reported
    limits = lookups.Limits(per_client=100, per_number=100, per_name=100, global_slow=2, global_block=5)
    answers = [lookups.look_up(store, "学生0", number, f"192.0.2.{i}", limits) for i in range(7)]
    assert [a.delayed_s > 0 for a in answers[:5]] == [False, False, False, True, True]
    assert [a.verdict is None for a in answers] == [False] * 5 + [True] * 2


# --- 2. graduate accounts open with one-time codes -------------------------------------------------


def _ids(store: Store) -> dict[str, str]:
    return dict(table(store, "select student_id, id_number from graduates"))


def test_no_shared_password_opens_a_graduate_account(school: Store, capsys: pytest.CaptureFixture[str]) -> None:
    office = Actor("office", "admin")
    with pytest.raises(accounts.AccountError, match="不设初始密码"):
        accounts.add_user(school, office, "0024000001", "graduate", "first1234", student_id="0024000001")
    db = ["--db", str(school.path), "--today", "2024-06-10"]
    import io
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO("first1234\n")
    try:
        assert cli.main([*db, "user", "add-graduates", "--password-stdin"]) != 0
    finally:
        sys.stdin = old
    assert "激活码" in capsys.readouterr().err
    assert table(school, "select count(*) from users where role = 'graduate' and password_hash is not null") == [(0,)]


def test_codes_are_per_graduate_hashed_and_work_once_with_the_id_number(school: Store, tmp_path: Path) -> None:
    from pipelines import activation

    issued = activation.issue_codes(school, SYSTEM, college="商学院")
    assert len(issued) == 5 and len({c.code for c in issued}) == 5 and all(len(c.code) == 12 for c in issued)
    stored = json.dumps(
        table(school, "select * from activation_codes") + table(school, "select * from audit_log"),
        default=str,
        ensure_ascii=False,
    )
    assert not any(c.code in stored for c in issued)  # only salted hashes
    ids = _ids(school)
    first = issued[0]
    with pytest.raises(accounts.LoginRefused):  # no password opens an account not yet activated
        accounts.login(school, first.student_id, "", client="c1")
    refusals = set()
    for code, last6 in (
        (issued[1].code, ids[first.student_id][-6:]),  # a classmate's code
        (first.code, "000000"),  # the wrong second fact
        ("X" * 12, ids[first.student_id][-6:]),
    ):
        with pytest.raises(activation.ActivationRefused) as refused:
            activation.activate(school, first.student_id, code, last6, "Mine2024x", client="c1")
        refusals.add(str(refused.value))
    assert len(refusals) == 1
    user = activation.activate(
        school,
        first.student_id,
        activation.shown(first.code).lower(),
        ids[first.student_id][-6:],
        "Mine2024x",
        client="c1",
    )
    assert user.username == first.student_id and not user.must_change_password
    assert accounts.login(school, first.student_id, "Mine2024x", client="c1").role == "graduate"
    with pytest.raises(activation.ActivationRefused):  # once
        activation.activate(school, first.student_id, first.code, ids[first.student_id][-6:], "Other2024x", client="c2")
    outcomes = [d["outcome"] for d in _audits(school, "user:activate")]
    assert outcomes == ["wrong_code", "wrong_id", "wrong_code", "ok", "already_active"]


def test_activation_attempts_are_throttled_and_a_new_code_voids_the_old(school: Store) -> None:
    from pipelines import activation

    (code,) = activation.issue_codes(school, SYSTEM, student_id="0024000002")
    last6 = _ids(school)["0024000002"][-6:]
    for _ in range(activation.MAX_FAILURES):
        with pytest.raises(activation.ActivationRefused):
            activation.activate(school, "0024000002", "WRONGWRONG22", last6, "Mine2024x", client="evil")
    with pytest.raises(activation.ActivationRefused):  # the right code, from that client: locked
        activation.activate(school, "0024000002", code.code, last6, "Mine2024x", client="evil")
    again = activation.reissue(school, SYSTEM, "0024000002")
    with pytest.raises(activation.ActivationRefused):  # the old code no longer works anywhere
        activation.activate(school, "0024000002", code.code, last6, "Mine2024x", client="home")
    assert (
        activation.activate(school, "0024000002", again.code, last6, "Mine2024x", client="home").username
        == "0024000002"
    )


def test_the_advisors_sheet_has_a_page_per_class_and_is_recorded(school: Store, tmp_path: Path) -> None:
    import subprocess

    from pipelines import activation

    issued = activation.issue_codes(school, SYSTEM)
    data, rows = activation.codes_file(school, SYSTEM, issued, "pdf", "激活码.pdf")
    (tmp_path / "codes.pdf").write_bytes(data)
    printed = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "codes.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    classes = {c.class_name for c in issued}
    assert rows == 10 and printed.count("毕业生账号激活码") == len({(c.college_name, c.class_name) for c in issued})
    assert all(activation.shown(c.code) in printed for c in issued) and all(cls in printed for cls in classes)
    assert "学生1" not in printed and "学*" in printed  # names masked: a lost sheet tells less
    assert table(school, "select target from audit_log where action = 'export:activation_codes'") == [("激活码.pdf",)]


# --- 7. an analyst cannot single people out through small cells ------------------------------------


def test_small_cells_are_hidden_from_analysts_with_totals_kept(school: Store) -> None:
    from pipelines import statistics
    from pipelines.rules.filters import Filters

    analyst = Actor("ana", "analyst")
    with school.reading(analyst) as reader:
        long = statistics.pivot_rows(reader, 2024, Filters(), "class", "gender")
    assert statistics.suppressed_any(long)
    visible = long.filter(~pl.col("suppressed"))
    assert visible.is_empty() or visible["graduates"].min() >= 5  # type: ignore[operator]
    rows_with_one_hidden = long.group_by("row_key").agg(pl.col("suppressed").sum()).filter(pl.col("suppressed") == 1)
    assert rows_with_one_hidden.height == 0  # no hidden cell can be had back from its row's total
    table = statistics.pivot_table(long, "class", "gender", "graduates")
    assert table["合计"].to_list() == [None, None, None, 10]  # the total stays right; classes under 5 stay hidden
    with school.reading(SYSTEM) as reader:  # the office sees every cell
        assert not statistics.suppressed_any(statistics.pivot_rows(reader, 2024, Filters(), "class", "gender"))
    data, _ = __import__("pipelines.exports", fromlist=["x"]).stats_file(
        school, analyst, 2024, Filters(), "csv", "s.csv"
    )
    exported = data.decode("utf-8-sig")
    assert "人数过少已隐藏" in exported
