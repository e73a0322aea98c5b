"""Accounts: hashes, roles and scope, login with lockout, password changes, the CLI, and an
audit record for every attempt."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines import accounts, cli, imports
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Actor, Store
from tests.conftest import ROSTER_HEADER, roster_row, table, write_csv

ROOT = Path(__file__).parent.parent


@pytest.fixture
def roster(store: Store, tmp_path: Path) -> Store:
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(4)])
    )
    return store


def test_passwords_are_salted_scrypt_hashes_compared_in_full() -> None:
    first, second = accounts.hash_password("secret123"), accounts.hash_password("secret123")
    assert first != second and first.startswith("scrypt$16384$8$1$") and "secret123" not in first
    assert accounts.password_matches("secret123", first) and accounts.password_matches("secret123", second)
    assert not accounts.password_matches("secret124", first) and not accounts.password_matches("secret123", None)
    assert not accounts.password_matches("secret123", "md5$abc") and not accounts.password_matches("x", "scrypt$bad")
    assert accounts.password_problem("short1", "u") and accounts.password_problem("allletters", "u")
    assert accounts.password_problem("zhang123x", "zhang123x") and accounts.password_problem("good1234", "u") is None


def test_an_admin_adds_accounts_and_each_maps_to_its_scope(roster: Store) -> None:
    dean = accounts.add_user(roster, SYSTEM, "dean01", "college_reviewer", "dean12345", colleges=["商学院"])
    assert dean.actor == Actor("dean01", "college_reviewer", ("商学院",))
    analyst = accounts.add_user(roster, SYSTEM, "ana01", "analyst", "ana123456")
    assert analyst.actor.colleges is None
    with pytest.raises(accounts.AccountError, match="已存在"):
        accounts.add_user(roster, SYSTEM, "dean01", "analyst", "ana123456")
    with pytest.raises(accounts.AccountError, match="名单中没有这些学院：理学院"):
        accounts.add_user(roster, SYSTEM, "dean02", "college_reviewer", "dean12345", colleges=["理学院"])
    with pytest.raises(accounts.AccountError, match="须指定至少一个学院"):
        accounts.add_user(roster, SYSTEM, "dean03", "college_reviewer", "dean12345")
    with pytest.raises(accounts.AccountError, match="不能指定学院"):
        accounts.add_user(roster, SYSTEM, "ana02", "analyst", "ana123456", colleges=["商学院"])
    with pytest.raises(accounts.AccountError, match="只有就业处管理员可以添加账号"):
        accounts.add_user(roster, dean.actor, "x1", "admin", "admin12345")
    with pytest.raises(accounts.AccountError, match="未知的角色"):
        accounts.add_user(roster, SYSTEM, "x2", "root", "admin12345")
    ((stored,),) = table(roster, "select password_hash from users where username = 'dean01'")
    assert stored.startswith("scrypt$") and "dean12345" not in json.dumps(
        table(roster, "select * from audit_log"), default=str
    )


def test_login_locks_after_five_failures_and_audits_every_attempt(roster: Store) -> None:
    accounts.add_user(roster, SYSTEM, "rev01", "school_reviewer", "review123")
    assert accounts.login(roster, "rev01", "review123").role == "school_reviewer"
    unknown = time.perf_counter()
    with pytest.raises(accounts.LoginRefused, match=f"^{re.escape(accounts.REFUSED)}$"):
        accounts.login(roster, "nobody", "review123")
    unknown = time.perf_counter() - unknown
    for attempt in range(1, 6):  # one answer for every refusal (#15): the audit log knows why
        with pytest.raises(accounts.LoginRefused, match=f"^{re.escape(accounts.REFUSED)}$"):
            accounts.login(roster, "rev01", f"wrong{attempt}xx")
    with pytest.raises(accounts.LoginRefused, match=f"^{re.escape(accounts.REFUSED)}$"):
        accounts.login(roster, "rev01", "review123")  # even the right password, while locked
    accounts.reset_password(roster, SYSTEM, "rev01", "newpass123")
    user = accounts.login(roster, "rev01", "newpass123")
    assert user.must_change_password
    outcomes = [
        json.loads(d)["outcome"]
        for (d,) in table(roster, "select detail from audit_log where action = 'login' order by audit_id")
    ]
    assert outcomes == ["ok", "unknown_user", *["wrong_password"] * 4, "locked_now", "locked", "ok"]
    assert unknown > 0.01  # an unknown name still costs a hash: names cannot be probed by timing


def test_a_user_changes_their_password(roster: Store) -> None:
    accounts.add_user(roster, SYSTEM, "s0024000001", "graduate", "first1234", student_id="0024000001")
    with pytest.raises(accounts.AccountError, match="原密码错误"):
        accounts.change_password(roster, "s0024000001", "nope12345", "second1234")
    with pytest.raises(accounts.AccountError, match="须同时包含字母和数字"):
        accounts.change_password(roster, "s0024000001", "first1234", "onlyletters")
    accounts.change_password(roster, "s0024000001", "first1234", "second1234")
    assert not accounts.login(roster, "s0024000001", "second1234").must_change_password
    with pytest.raises(accounts.LoginRefused):
        accounts.login(roster, "s0024000001", "first1234")


def test_the_cli_adds_the_first_admin_without_a_password_on_the_command_line(roster: Store) -> None:
    db = ["--db", str(roster.path), "--today", "2024-06-10"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            *db,
            "user",
            "add",
            "--username",
            "admin",
            "--role",
            "admin",
            "--display-name",
            "就业处",
            "--password-stdin",
        ],
        input="admin12345\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "已添加 就业处管理员 admin" in run.stdout
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            *db,
            "user",
            "add",
            "--username",
            "dean",
            "--role",
            "college_reviewer",
            "--password-stdin",
        ],
        input="dean12345\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "须指定至少一个学院" in run.stderr and "Traceback" not in run.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *db, "user", "list"], cwd=ROOT, capture_output=True, text=True
    )
    assert "admin" in listing.stdout and "就业处管理员" in listing.stdout and "scrypt" not in listing.stdout
    assert accounts.login(roster, "admin", "admin12345").role == "admin"


def test_an_admin_changes_role_colleges_oidc_and_disables_but_not_their_own(roster: Store) -> None:
    admin = accounts.add_user(roster, SYSTEM, "office", "admin", "office1234")
    accounts.add_user(roster, SYSTEM, "rev02", "school_reviewer", "review123", must_change_password=False)
    dean = accounts.update_user(roster, admin.actor, "rev02", role="college_reviewer", colleges=["商学院"])
    assert dean.actor == Actor("rev02", "college_reviewer", ("商学院",))
    assert accounts.login(roster, "rev02", "review123").actor.colleges == ("商学院",)
    with pytest.raises(accounts.AccountError, match="须指定至少一个学院"):
        accounts.update_user(roster, admin.actor, "rev02", colleges=[])
    assert accounts.update_user(roster, admin.actor, "rev02", role="analyst").colleges is None
    accounts.update_user(roster, admin.actor, "rev02", oidc_subject="T2024001")
    with pytest.raises(accounts.AccountError, match="已对应用户 rev02"):
        accounts.update_user(roster, admin.actor, "office", oidc_subject="T2024001")
    with pytest.raises(accounts.AccountError, match="不能停用自己的账号"):
        accounts.update_user(roster, admin.actor, "office", disabled=True)
    with pytest.raises(accounts.AccountError, match="只有就业处管理员可以修改账号"):
        accounts.update_user(roster, dean.actor, "office", disabled=True)
    accounts.update_user(roster, admin.actor, "rev02", disabled=True)
    with pytest.raises(accounts.LoginRefused, match="^用户名或密码错误，或暂时不能登录"):
        accounts.login(roster, "rev02", "review123")
    changes = [
        json.loads(d)
        for (d,) in table(
            roster, "select detail from audit_log where action = 'user:update' and target = 'rev02' order by audit_id"
        )
    ]
    assert changes == [
        {"role": "college_reviewer", "colleges": ["商学院"]},
        {"role": "analyst", "colleges": None},
        {"oidc_subject": "T2024001"},
        {"disabled": True},
    ]


def test_a_unified_identity_logs_in_only_when_mapped_and_enabled(roster: Store) -> None:
    accounts.add_user(roster, SYSTEM, "rev03", "school_reviewer", None)  # OIDC only: no password at all
    with pytest.raises(accounts.LoginRefused, match="尚未在本系统开通"):
        accounts.login_oidc(roster, "T9")
    with pytest.raises(accounts.LoginRefused, match="用户名或密码错误"):
        accounts.login(roster, "rev03", "")  # a password login never works without a password
    accounts.update_user(roster, SYSTEM, "rev03", oidc_subject="T9")
    assert accounts.login_oidc(roster, "T9").username == "rev03"
    accounts.update_user(roster, SYSTEM, "rev03", disabled=True)
    with pytest.raises(accounts.LoginRefused, match="账号已停用"):
        accounts.login_oidc(roster, "T9")
    outcomes = [
        (t, json.loads(d)["outcome"])
        for t, d in table(roster, "select target, detail from audit_log where action = 'login' order by audit_id")
    ]
    assert outcomes == [("T9", "oidc_unknown"), ("rev03", "wrong_password"), ("rev03", "ok"), ("rev03", "disabled")]


def test_a_graduate_account_sees_only_their_own_record_on_every_path(roster: Store) -> None:
    graduate = accounts.add_user(roster, SYSTEM, "0024000001", "graduate", "first1234", student_id="0024000001")
    assert graduate.actor == Actor("0024000001", "graduate", None, "0024000001")
    for use_cache in (True, False):
        with roster.reading(graduate.actor) as reader:
            if not use_cache:
                reader._conn.execute("set variable use_stage_cache = false")
                reader._conn.execute("set variable use_count_cache = false")
                reader._conn.execute("drop view if exists temp.graduate_stages")
            assert reader._conn.execute("select student_id from graduate_stages").fetchall() == [("0024000001",)]
            assert reader._conn.execute("select student_id from scoped_graduates").fetchall() == [("0024000001",)]
            stats = reader.query("stats_by", by="school", cohort=None, **Filters().params())
            assert stats["graduates"].to_list() == [1]
            found = reader.query("graduate_list", cohort=None, search=None, limit=50, offset=0, **Filters().params())
            assert found["student_id"].to_list() == ["0024000001"]
            assert reader.query("graduate_detail", student_id="0024000002").height == 0


def test_the_cli_acts_as_an_account_with_its_scope(
    roster: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts.add_user(
        roster, SYSTEM, "dean04", "college_reviewer", "dean12345", colleges=["商学院"], must_change_password=False
    )
    accounts.add_user(roster, SYSTEM, "ana04", "analyst", "ana123456", must_change_password=False)
    db = ["--db", str(roster.path), "--today", "2024-06-10"]
    monkeypatch.setenv("DANGAN_PASSWORD", "dean12345")
    assert cli.main([*db, "--as", "dean04", "stats", "--by", "college", "--format", "json"]) == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == ["商学院"]
    assert cli.main([*db, "--as", "dean04", "user", "list"]) == 1
    assert "只有就业处管理员可以查看账号" in capsys.readouterr().err
    assert cli.main([*db, "--as", "dean04", "import", "roster", str(tmp_path / "none.csv")]) == 1
    assert "只有就业处管理员可以导入数据" in capsys.readouterr().err
    monkeypatch.setenv("DANGAN_PASSWORD", "ana123456")
    assert cli.main([*db, "--as", "ana04", "review", "export", "--out", str(tmp_path / "results.csv")]) == 1
    assert "不能导出" in capsys.readouterr().err and not (tmp_path / "results.csv").exists()
    monkeypatch.setenv("DANGAN_PASSWORD", "wrong12345")
    assert cli.main([*db, "--as", "ana04", "stats"]) == 1
    assert "用户名或密码错误" in capsys.readouterr().err
    refused = table(
        roster, "select actor, action from audit_log where detail->>'outcome' = 'refused' order by audit_id"
    )
    assert refused == [("dean04", "user:list"), ("dean04", "import:roster"), ("ana04", "export:review_results")]


def test_every_roster_graduate_gets_an_account_once_with_a_code_to_activate(roster: Store) -> None:
    from pipelines import activation

    dean = accounts.add_user(roster, SYSTEM, "dean05", "college_reviewer", "dean12345", colleges=["商学院"])
    with pytest.raises(accounts.AccountError, match="只有就业处管理员可以生成激活码"):
        activation.issue_codes(roster, dean.actor)
    assert len(activation.issue_codes(roster, SYSTEM, college="服装设计学院")) == 2  # 0, 2 (even students)
    assert len(activation.issue_codes(roster, SYSTEM)) == 4  # all four await activation: fresh codes for each
    ((count,),) = table(roster, "select count(*) from users where role = 'graduate' and password_hash is null")
    assert count == 4
    audit = [
        json.loads(d)
        for (d,) in table(roster, "select detail from audit_log where action = 'user:issue_codes' order by audit_id")
    ]
    assert [d.get("accounts_opened", d.get("outcome")) for d in audit] == ["refused", 2, 2]


def test_a_graduate_account_belongs_to_a_roster_graduate_and_may_use_the_schools_login(roster: Store) -> None:
    with pytest.raises(accounts.AccountError, match="名单中没有学号 9999"):
        accounts.add_user(roster, SYSTEM, "9999", "graduate", "own123456", student_id="9999")
    one = accounts.add_user(roster, SYSTEM, "0024000001", "graduate", "own123456", student_id="0024000001")
    assert one.display_name == "学生1"  # from the roster
    accounts.add_user(roster, SYSTEM, "teacher", "school_reviewer", "teach1234")
    accounts.update_user(roster, SYSTEM, "teacher", oidc_subject="0024000003")  # a clash: left unmapped
    from pipelines import activation

    assert len(activation.issue_codes(roster, SYSTEM, oidc=True)) == 3
    mapped = table(roster, "select username, oidc_subject from users where role = 'graduate' order by username")
    assert mapped == [
        ("0024000000", "0024000000"),
        ("0024000001", None),
        ("0024000002", "0024000002"),
        ("0024000003", None),
    ]
    graduate = accounts.login_oidc(roster, "0024000002")
    assert graduate.actor == Actor("0024000002", "graduate", None, "0024000002")
    assert accounts.login_oidc(roster, "0024000003").username == "teacher"
