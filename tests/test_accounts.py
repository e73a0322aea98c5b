"""Accounts: hashes, roles and scope, login with lockout, password changes, the CLI, and an
audit record for every attempt."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines import accounts, imports
from pipelines.store import SYSTEM, Actor, Store
from tests.conftest import ROSTER_HEADER, roster_row, table, write_csv

ROOT = Path(__file__).parent.parent


@pytest.fixture
def roster(store: Store, tmp_path: Path) -> Store:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(4)]))
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
    (stored,), = table(roster, "select password_hash from users where username = 'dean01'")
    assert stored.startswith("scrypt$") and "dean12345" not in json.dumps(table(roster, "select * from audit_log"), default=str)


def test_login_locks_after_five_failures_and_audits_every_attempt(roster: Store) -> None:
    accounts.add_user(roster, SYSTEM, "rev01", "school_reviewer", "review123")
    assert accounts.login(roster, "rev01", "review123").role == "school_reviewer"
    unknown = time.perf_counter()
    with pytest.raises(accounts.LoginRefused, match="^用户名或密码错误$"):
        accounts.login(roster, "nobody", "review123")
    unknown = time.perf_counter() - unknown
    for attempt in range(1, 5):
        with pytest.raises(accounts.LoginRefused, match="^用户名或密码错误$"):
            accounts.login(roster, "rev01", f"wrong{attempt}xx")
    with pytest.raises(accounts.LoginRefused, match="连续 5 次登录失败，账号锁定 15 分钟"):
        accounts.login(roster, "rev01", "wrong5xx")
    with pytest.raises(accounts.LoginRefused, match="账号已锁定至"):
        accounts.login(roster, "rev01", "review123")  # even the right password, while locked
    accounts.reset_password(roster, SYSTEM, "rev01", "newpass123")
    user = accounts.login(roster, "rev01", "newpass123")
    assert user.must_change_password
    outcomes = [json.loads(d)["outcome"] for (d,) in table(
        roster, "select detail from audit_log where action = 'login' order by audit_id")]
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
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "add", "--username", "admin",
                          "--role", "admin", "--display-name", "就业处", "--password-stdin"],
                         input="admin12345\n", cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "已添加 就业处管理员 admin" in run.stdout
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "add", "--username", "dean",
                          "--role", "college_reviewer", "--password-stdin"], input="dean12345\n", cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 1 and "须指定至少一个学院" in run.stderr and "Traceback" not in run.stderr
    listing = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "list"], cwd=ROOT,
                             capture_output=True, text=True)
    assert "admin" in listing.stdout and "就业处管理员" in listing.stdout and "scrypt" not in listing.stdout
    assert accounts.login(roster, "admin", "admin12345").role == "admin"
