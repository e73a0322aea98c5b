"""Accounts: hashes, roles and scope, login with lockout, password changes, the CLI, and an
audit record for every attempt."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines import accounts, cli, imports
from pipelines.filters import Filters
from pipelines.store import SYSTEM, Actor, Store
from tests.conftest import ROSTER_HEADER, roster_row, table, write_csv, write_xlsx

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
    with pytest.raises(accounts.LoginRefused, match="账号已停用"):
        accounts.login(roster, "rev02", "review123")
    changes = [json.loads(d) for (d,) in table(roster, "select detail from audit_log where action = 'user:update' "
                                                       "and target = 'rev02' order by audit_id")]
    assert changes == [{"role": "college_reviewer", "colleges": ["商学院"]}, {"role": "analyst", "colleges": None},
                       {"oidc_subject": "T2024001"}, {"disabled": True}]


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
    outcomes = [(t, json.loads(d)["outcome"]) for t, d in table(
        roster, "select target, detail from audit_log where action = 'login' order by audit_id")]
    assert outcomes == [("T9", "oidc_unknown"), ("rev03", "wrong_password"), ("rev03", "ok"), ("rev03", "disabled")]


def test_a_graduate_account_sees_only_their_own_record_on_every_path(roster: Store) -> None:
    graduate = accounts.add_user(roster, SYSTEM, "0024000001", "graduate", "first1234", student_id="0024000001")
    assert graduate.actor == Actor("0024000001", "graduate", None, "0024000001")
    for use_cache in (True, False):
        with roster.reading(graduate.actor) as reader:
            if not use_cache:
                reader.conn.execute("set variable use_stage_cache = false")
                reader.conn.execute("set variable use_count_cache = false")
                reader.conn.execute("drop view if exists temp.graduate_stages")
            assert reader.conn.execute("select student_id from graduate_stages").fetchall() == [("0024000001",)]
            assert reader.conn.execute("select student_id from scoped_graduates").fetchall() == [("0024000001",)]
            stats = reader.query("stats_by", by="school", cohort=None, **Filters().params())
            assert stats["graduates"].to_list() == [1]
            found = reader.query("graduate_list", cohort=None, search=None, limit=50, offset=0, **Filters().params())
            assert found["student_id"].to_list() == ["0024000001"]
            assert reader.query("graduate_detail", student_id="0024000002").height == 0


def test_the_cli_acts_as_an_account_with_its_scope(roster: Store, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    accounts.add_user(roster, SYSTEM, "dean04", "college_reviewer", "dean12345", colleges=["商学院"],
                      must_change_password=False)
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
    refused = table(roster, "select actor, action from audit_log where detail->>'outcome' = 'refused' order by audit_id")
    assert refused == [("dean04", "user:list"), ("dean04", "import:roster"), ("ana04", "export:review_results")]


def test_every_roster_graduate_gets_an_account_once_with_a_password_to_change(roster: Store) -> None:
    accounts.add_user(roster, SYSTEM, "0024000001", "graduate", "own123456", student_id="0024000001")
    dean = accounts.add_user(roster, SYSTEM, "dean05", "college_reviewer", "dean12345", colleges=["商学院"])
    with pytest.raises(accounts.AccountError, match="只有就业处管理员可以添加账号"):
        accounts.add_graduates(roster, dean.actor, "first1234")
    with pytest.raises(accounts.AccountError, match="至少 8 位"):
        accounts.add_graduates(roster, SYSTEM, "short1")
    assert accounts.add_graduates(roster, SYSTEM, "first1234", college="服装设计学院") == 2  # 0, 2 (even students)
    assert accounts.add_graduates(roster, SYSTEM, "first1234") == 1  # 3; 1 already had an account
    assert accounts.add_graduates(roster, SYSTEM, "first1234") == 0
    (count,), = table(roster, "select count(*) from users where role = 'graduate'")
    assert count == 4
    graduate = accounts.login(roster, "0024000002", "first1234")
    assert graduate.must_change_password and graduate.display_name == "学生2"
    assert graduate.actor == Actor("0024000002", "graduate", None, "0024000002")
    with pytest.raises(accounts.LoginRefused):
        accounts.login(roster, "0024000001", "first1234")  # an existing account keeps its own password
    audit = [(a, json.loads(d)) for a, d in table(roster, "select actor, detail from audit_log "
                                                          "where action = 'user:add_graduates' order by audit_id")]
    assert [d.get("accounts", d.get("outcome")) for _, d in audit] == ["refused", 2, 1, 0]
    db = ["--db", str(roster.path), "--today", "2024-06-10"]
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "add-graduates", "--password-stdin"],
                         input="first1234\n", cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and "都已有账号" in run.stdout


def test_a_graduate_account_belongs_to_a_roster_graduate_and_may_use_the_schools_login(roster: Store) -> None:
    with pytest.raises(accounts.AccountError, match="名单中没有学号 9999"):
        accounts.add_user(roster, SYSTEM, "9999", "graduate", "own123456", student_id="9999")
    one = accounts.add_user(roster, SYSTEM, "0024000001", "graduate", "own123456", student_id="0024000001")
    assert one.display_name == "学生1"  # from the roster
    accounts.add_user(roster, SYSTEM, "teacher", "school_reviewer", "teach1234")
    accounts.update_user(roster, SYSTEM, "teacher", oidc_subject="0024000003")  # a clash: left unmapped
    assert accounts.add_graduates(roster, SYSTEM, "first1234", oidc=True) == 3
    mapped = table(roster, "select username, oidc_subject from users where role = 'graduate' order by username")
    assert mapped == [("0024000000", "0024000000"), ("0024000001", None), ("0024000002", "0024000002"),
                      ("0024000003", None)]
    graduate = accounts.login_oidc(roster, "0024000002")
    assert graduate.actor == Actor("0024000002", "graduate", None, "0024000002")
    assert accounts.login_oidc(roster, "0024000003").username == "teacher"


PASSWORDS = {"0024000000": "Zero0000x", "0024000001": "One11111x", "0024000002": "Two22222x",
             "0024000003": "Three333x"}


def _password_file(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("学号", "初始密码"),
                   title: str | None = None) -> Path:
    records = [dict(zip(header, row, strict=True)) for row in rows]
    titles = [title] if title else None
    if path.suffix == ".xlsx":
        return write_xlsx(path, list(header), records, title_rows=titles)
    return write_csv(path, list(header), records, title_rows=titles)


def _users(store: Store) -> list[tuple[object, ...]]:
    return table(store, "select username, password_hash, must_change_password from users order by username")


def test_a_file_gives_each_graduate_their_own_initial_password(roster: Store, tmp_path: Path) -> None:
    accounts.add_user(roster, SYSTEM, "0024000001", "graduate", "first1234", student_id="0024000001")  # never used
    accounts.add_user(roster, SYSTEM, "0024000002", "graduate", "first1234", student_id="0024000002")
    accounts.change_password(roster, "0024000002", "first1234", "mine12345")  # already in use: not overwritten
    path = _password_file(tmp_path / "初始密码.xlsx", list(PASSWORDS.items()), title="2024届毕业生初始密码")
    done = accounts.initial_passwords(roster, SYSTEM, path)
    assert done == accounts.InitialPasswords("初始密码.xlsx", created=2, reset=1, kept=1)
    assert "已自行修改密码，未覆盖" in done.summary()
    hashes = set()
    for student_id in ("0024000000", "0024000001", "0024000003"):
        graduate = accounts.login(roster, student_id, PASSWORDS[student_id])
        assert graduate.must_change_password and graduate.actor == Actor(student_id, "graduate", None, student_id)
        with pytest.raises(accounts.LoginRefused):
            accounts.login(roster, student_id, PASSWORDS["0024000002"])  # each their own, not a shared one
        (stored,), = table(roster, "select password_hash from users where username = ?", [student_id])
        hashes.add(stored.split("$")[4])
    assert len(hashes) == 3  # a salt of its own each
    assert accounts.login(roster, "0024000000", PASSWORDS["0024000000"]).display_name == "学生0"
    assert not accounts.login(roster, "0024000002", "mine12345").must_change_password
    with pytest.raises(accounts.LoginRefused):
        accounts.login(roster, "0024000002", PASSWORDS["0024000002"])
    (detail,), = table(roster, "select detail from audit_log where action = 'user:initial_passwords'")
    assert {k: v for k, v in json.loads(detail).items() if k != "sha256"} == {"rows": 4, "created": 2, "reset": 1,
                                                                             "kept": 1}
    assert json.loads(detail)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    audit = json.dumps(table(roster, "select * from audit_log"), default=str)
    assert not any(p in audit for p in PASSWORDS.values())
    # The same file again: the accounts not used yet get their password again, nothing else.
    again = accounts.initial_passwords(roster, SYSTEM, path, workers=1)
    assert (again.created, again.reset, again.kept) == (0, 3, 1)


def test_a_csv_with_aliases_and_title_rows_is_read_the_same(roster: Store, tmp_path: Path) -> None:
    path = _password_file(tmp_path / "p.csv", [("００２４０００００３", "Three333x")], header=("账号", "密码"),
                          title="初始密码")
    assert accounts.initial_passwords(roster, SYSTEM, path).created == 1  # full-width digits cleaned
    assert accounts.login(roster, "0024000003", "Three333x").must_change_password


def test_any_bad_row_refuses_the_whole_file_naming_row_and_column(roster: Store, tmp_path: Path) -> None:
    accounts.add_user(roster, SYSTEM, "0024000003", "analyst", "ana123456")  # a staff account took the 学号
    before = _users(roster)
    path = _password_file(tmp_path / "初始密码.csv", [
        ("0024000000", "Zero0000x"),   # row 3: fine
        ("0024000001", "short1"),      # row 4
        ("0024000000", "Again000x"),   # row 5: duplicate
        ("0024999999", "Nobody00x"),   # row 6: not on the roster
        ("0024000002", ""),            # row 7: empty
        ("0024000002", "Ab1***xyz"),   # row 8: masked (and a duplicate)
        ("0024000003", "Three333x"),   # row 9: another role's account
        ("", "Lonely000x"),            # row 10: no 学号
        ("0024000001", " Space000x"),  # row 11: spaces (and a duplicate)
    ], title="2024届毕业生初始密码")
    with pytest.raises(accounts.AccountError) as refused:
        accounts.initial_passwords(roster, SYSTEM, path)
    message = str(refused.value)
    assert message.startswith("初始密码.csv：设置初始密码被拒绝，未写入任何数据。共 10 处问题：")
    for line in ["初始密码.csv 第 4 行「初始密码」：密码至少 8 位", "初始密码.csv 第 5 行「学号」：学号 0024000000 与第 3 行重复",
                 "初始密码.csv 第 6 行「学号」：名单中没有学号 0024999999", "初始密码.csv 第 7 行「初始密码」：初始密码不能为空",
                 "初始密码.csv 第 8 行「初始密码」：是脱敏后的值", "第 9 行「学号」：用户名 0024000003 已被分析员账号使用",
                 "第 10 行「学号」：学号不能为空", "第 11 行「初始密码」：密码首尾不能有空格"]:
        assert line in message, line
    assert "short1" not in message and "Ab1***xyz" not in message and "……共" not in message
    assert _users(roster) == before
    assert not table(roster, "select 1 from audit_log where action = 'user:initial_passwords'")
    many = _password_file(tmp_path / "many.csv", [(f"00240000{i:02d}", "short") for i in range(25)])
    with pytest.raises(accounts.AccountError, match=r"共 25 处问题：[\s\S]*\n  ……共 25 处$") as many_refused:
        accounts.initial_passwords(roster, SYSTEM, many)
    assert str(many_refused.value).count("\n") == 1 + 20  # twenty listed, then the count
    with pytest.raises(accounts.AccountError, match="缺少必需的列：初始密码|没有找到初始密码的表头行"):
        accounts.initial_passwords(roster, SYSTEM, write_csv(tmp_path / "x.csv", ["学号", "姓名"], [{"学号": "1"}]))
    assert _users(roster) == before


def test_only_an_admin_sets_initial_passwords_and_a_refusal_is_audited(roster: Store, tmp_path: Path) -> None:
    dean = accounts.add_user(roster, SYSTEM, "dean06", "college_reviewer", "dean12345", colleges=["商学院"])
    before = _users(roster)
    path = _password_file(tmp_path / "p.xlsx", [("0024000001", "One11111x")])
    with pytest.raises(accounts.AccountError, match="只有就业处管理员可以设置初始密码"):
        accounts.initial_passwords(roster, dean.actor, path)
    assert _users(roster) == before
    refused = table(roster, "select actor, target, detail->>'outcome' from audit_log "
                            "where action = 'user:initial_passwords'")
    assert refused == [("dean06", "p.xlsx", "refused")]


def test_the_cli_sets_initial_passwords_from_a_file_and_never_shows_them(roster: Store, tmp_path: Path) -> None:
    db = ["--db", str(roster.path), "--today", "2024-06-10"]
    path = _password_file(tmp_path / "初始密码.csv", list(PASSWORDS.items()))
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "add-graduates", "--passwords",
                          str(path)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "新开通 4 个毕业生账号" in run.stdout
    assert accounts.login(roster, "0024000003", PASSWORDS["0024000003"]).must_change_password
    bad = _password_file(tmp_path / "bad.csv", [("0024000001", "short1"), ("0024000002", "Two22222x")])
    refused = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "add-graduates", "--passwords",
                              str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "bad.csv 第 2 行「初始密码」：密码至少 8 位" in refused.stderr
    both = subprocess.run([sys.executable, "-m", "pipelines.cli", *db, "user", "add-graduates", "--passwords",
                           str(path), "--password-stdin"], input="first1234\n", cwd=ROOT, capture_output=True, text=True)
    assert both.returncode == 1 and "不能与 --password-stdin" in both.stderr
    audit = json.dumps(table(roster, "select * from audit_log"), default=str)
    for output in (run.stdout, run.stderr, refused.stdout, refused.stderr, audit):
        assert not any(p in output for p in [*PASSWORDS.values(), "short1"])


def test_an_account_changed_while_hashing_refuses_the_file(roster: Store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.add_user(roster, SYSTEM, "0024000002", "graduate", "first1234", student_id="0024000002",
                      must_change_password=False)  # in use: kept, so no hash is computed for it
    hash_many = accounts._hash_many

    def meanwhile(*args: object, **kwargs: object) -> list[str]:
        accounts.reset_password(roster, SYSTEM, "0024000002", "reset1234")  # now it would be set
        return hash_many(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts, "_hash_many", meanwhile)
    before = _users(roster)
    path = _password_file(tmp_path / "p.csv", [("0024000001", "One11111x"), ("0024000002", "Two22222x")])
    with pytest.raises(accounts.AccountError, match="处理期间有账号被修改，未写入任何数据"):
        accounts.initial_passwords(roster, SYSTEM, path)
    assert [u[0] for u in _users(roster)] == [u[0] for u in before]


def test_the_accounts_page_sets_initial_passwords_from_an_uploaded_file(roster: Store, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.apptest import page_alone

    accounts.add_user(roster, SYSTEM, "office", "admin", "office1234", must_change_password=False)
    monkeypatch.setenv("DANGAN_DB", str(roster.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    app = page_alone("screens/users.py", "office")
    bad = _password_file(tmp_path / "bad.csv", [("0024000001", "short1")])
    app.file_uploader[0].upload("bad.csv", bad.read_bytes(), "text/csv")
    next(b for b in app.button if b.label == "设置初始密码").click().run()
    assert any("bad.csv 第 2 行「初始密码」：密码至少 8 位" in e.value for e in app.error)
    good = _password_file(tmp_path / "初始密码.xlsx", list(PASSWORDS.items()))
    app.file_uploader[0].upload("初始密码.xlsx", good.read_bytes(), "application/octet-stream")
    next(b for b in app.button if b.label == "设置初始密码").click().run()
    assert any("新开通 4 个毕业生账号" in s.value for s in app.success), [e.value for e in app.error]
    assert accounts.login(roster, "0024000001", PASSWORDS["0024000001"]).must_change_password
