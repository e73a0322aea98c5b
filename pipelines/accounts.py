"""Built-in accounts: roles, salted scrypt password hashes, login with lockout.

Every account maps to an `Actor` (name, role, colleges): the store scopes every read and write
by it, so what a role may see and do is enforced below the pages. Passwords are never stored
or logged, only `scrypt$n$r$p$salt$hash`; a login compares in constant time and, for an unknown
user name, still spends the time of one hash so that names cannot be probed by timing. After
MAX_FAILURES failed logins in a row an account is locked for LOCK_MINUTES. Every login, failed
login and account change goes to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import access, columns, sources, text
from pipelines.store import Actor, Store, StoreError, Writer

ROLES = {
    "admin": "就业处管理员",
    "school_reviewer": "校级审核员",
    "college_reviewer": "学院审核员/院长",
    "analyst": "分析员",
    "graduate": "毕业生",
}
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
# scrypt cost: about 50 ms a hash on the 2-core CI machine, 16 MB of memory.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY_HASH: str | None = None


class AccountError(StoreError):
    """An account change or login that cannot be done; the message is Chinese and complete."""


class LoginRefused(AccountError):
    pass


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    colleges: tuple[str, ...] | None
    student_id: str | None
    must_change_password: bool

    @property
    def actor(self) -> Actor:
        """What the store acts as: college reviewers see their colleges only, a graduate their
        own record only."""
        return Actor(self.username, self.role, self.colleges if self.role == "college_reviewer" else None,
                     self.student_id if self.role == "graduate" else None)


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def password_matches(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位"
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        return "密码须同时包含字母和数字"
    if password.lower() == username.lower():
        return "密码不能与用户名相同"
    return None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    return _DUMMY_HASH


# --- accounts ----------------------------------------------------------------------------------


def add_user(store: Store, actor: Actor, username: str, role: str, password: str | None, *,
             display_name: str | None = None, colleges: list[str] | None = None, student_id: str | None = None,
             must_change_password: bool = True) -> User:
    """Create an account (the first-run command and the admin page). Only an admin (or the
    system, from the CLI) may; a college reviewer needs colleges that exist on the roster."""
    username = username.strip()
    access.require(store, actor, access.ADMINS, "user:add", username, "只有就业处管理员可以添加账号", AccountError)
    if not username or any(c.isspace() for c in username):
        raise AccountError("用户名不能为空，也不能含空格")
    chosen = _checked_scope(role, colleges, student_id)
    if password is not None and (problem := password_problem(password, username)):
        raise AccountError(problem)

    def work(writer: Writer) -> User:
        nonlocal display_name
        if writer.one("user_by_name", username=username):
            raise AccountError(f"用户名 {username} 已存在")
        _check_colleges_known(writer, chosen)
        if role == "graduate":  # a graduate account belongs to a roster graduate, named as there
            found = writer.one("graduate_for_submission", student_id=student_id)
            if found is None:
                raise AccountError(f"名单中没有学号 {student_id}")
            display_name = display_name or found["graduate_name"]
        now = writer.now()
        writer.insert("users", pl.DataFrame([{
            "user_id": int(writer.next_ids("user_ids", 1)[0]), "username": username,
            "display_name": (display_name or username).strip(), "role": role, "colleges": chosen or None,
            "student_id": student_id, "password_hash": hash_password(password) if password is not None else None,
            "must_change_password": must_change_password, "created_at": now, "updated_at": now,
        }], schema_overrides={"colleges": pl.List(pl.String), "student_id": pl.String, "password_hash": pl.String}))
        writer.touched_students = []
        writer.audit_target = username
        writer.audit_detail = {"role": role, "colleges": chosen, "student_id": student_id}
        return User(username, (display_name or username).strip(), role, tuple(chosen) or None, student_id,
                    must_change_password)

    return store.transaction(actor, "user:add", work, username)


def add_graduates(store: Store, actor: Actor, password: str, *, cohort: int | None = None,
                  college: str | None = None, oidc: bool = False) -> int:
    """An account for every roster graduate (of `cohort`, of `college`) who has none yet:
    user name = 学号, name from the roster, the given initial password, which must be changed
    at first login. One transaction, audited with the count; run again after a roster import to
    add the new graduates only. The batch shares one scrypt hash (one salt): the passwords are
    identical by design and each is replaced at first login, and hashing thousands separately
    would take minutes (about 50 ms each).

    `oidc`: the school's 统一身份认证 names graduates by 学号, so each new account is mapped to
    the identity whose claim is its 学号 (one already mapped to another account is left unmapped)."""
    access.require(store, actor, access.ADMINS, "user:add_graduates", college or "全校",
                   "只有就业处管理员可以添加账号", AccountError)
    if problem := password_problem(password, ""):
        raise AccountError(problem)
    shared = hash_password(password)

    def work(writer: Writer) -> int:
        missing = writer.query("graduates_without_account", cohort=cohort, college=college)
        writer.touched_students = []
        writer.audit_target = college or "全校"
        writer.audit_detail = {"cohort": cohort, "college": college, "accounts": missing.height, "oidc": oidc}
        if missing.height == 0:
            return 0
        taken = {r["oidc_subject"] for r in writer.rows("oidc_subjects_in", ids=missing["student_id"].to_list())}
        subject = pl.when(pl.lit(oidc) & ~pl.col("student_id").is_in(list(taken))).then(pl.col("student_id"))
        now = writer.now()
        writer.insert("users", missing.select(
            writer.next_ids("user_ids", missing.height).alias("user_id"), pl.col("student_id").alias("username"),
            pl.col("name").alias("display_name"), pl.lit("graduate").alias("role"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("colleges"), "student_id",
            pl.lit(shared).alias("password_hash"), pl.lit(True).alias("must_change_password"),
            subject.otherwise(None).cast(pl.String).alias("oidc_subject"),
            pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at")))
        return missing.height

    return store.transaction(actor, "user:add_graduates", work, college or "全校")


# --- initial passwords from a file ---------------------------------------------------------------

PASSWORD_FILE = columns.PASSWORDS
MAX_LISTED = 20  # problems listed in a refusal; the rest are counted
# scrypt takes 16 MB a hash: enough threads for the cores, not a gigabyte on a big server.
MAX_HASH_WORKERS = 8


@dataclass(frozen=True)
class InitialPasswords:
    """What `initial_passwords` did with a file."""

    file: str
    created: int  # accounts opened with the row's password
    reset: int  # existing graduate accounts, never used yet, given the row's password
    kept: int  # existing accounts whose owner already chose a password: left alone

    def summary(self) -> str:
        kept = f"；{self.kept:,} 人已自行修改密码，未覆盖" if self.kept else ""
        return (f"{self.file}：新开通 {self.created:,} 个毕业生账号，为 {self.reset:,} 个尚未使用的账号设置初始密码"
                f"{kept}（用户名为学号，首次登录须修改密码）")


@dataclass
class _Plan:
    create: list[tuple[str, str]] = field(default_factory=list)  # (学号, name)
    reset: list[tuple[str, int]] = field(default_factory=list)  # (学号, user_id)
    kept: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, reason)


def initial_passwords(store: Store, actor: Actor, path: str | Path, *, workers: int | None = None,
                      progress: Callable[[int, int], None] | None = None) -> InitialPasswords:
    """Each graduate in the file (学号, 初始密码) gets that row's password: a graduate without an
    account gets one (user name = 学号, name from the roster); a graduate account never used yet
    (still to change its password) gets the new password; an account whose owner already chose
    a password is left alone and counted as kept. Every row is checked before anything is
    written; any bad row refuses the whole file, naming the row and column. Each password gets
    its own salted hash, computed before the transaction in `workers` threads (scrypt releases
    the GIL; default: one per core). One transaction, audited with the counts and the file's
    sha256, never a password. `progress(done, total)` follows the hashing."""
    path = Path(path)
    access.require(store, actor, access.ADMINS, "user:initial_passwords", path.name,
                   "只有就业处管理员可以设置初始密码", AccountError)
    try:
        source = sources.read_source(path, PASSWORD_FILE)
    except sources.SourceError as exc:
        raise AccountError(str(exc)) from None
    if source.frame.height == 0:
        raise AccountError(f"文件 {source.file_name} 中没有数据行")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rows, problems = _password_rows(source.frame)
    incoming = pl.DataFrame({"student_id": list(rows)}, schema={"student_id": pl.String})
    with store.reading(actor) as reader:
        plan = _plan(reader.query("initial_password_accounts", frames={"incoming": incoming}), rows)
    if problems or plan.problems:
        raise AccountError(_refusal(source, problems + plan.problems))
    chosen = [sid for sid, _ in plan.create] + [sid for sid, _ in plan.reset]
    hashes = dict(zip(chosen, _hash_many([rows[sid][1] for sid in chosen], workers, progress), strict=True))

    def work(writer: Writer) -> InitialPasswords:
        # Read again inside the transaction: an account may have changed since the check.
        now_plan = _plan(writer.query("initial_password_accounts", frames={"incoming": incoming}), rows)
        if now_plan.problems:
            raise AccountError(_refusal(source, now_plan.problems))
        if any(sid not in hashes for sid, _ in now_plan.create + now_plan.reset):
            raise AccountError(f"{source.file_name}：处理期间有账号被修改，未写入任何数据；请重新提交文件")
        now = writer.now()
        writer.insert("users", pl.DataFrame({
            "user_id": writer.next_ids("user_ids", len(now_plan.create)),
            "username": [sid for sid, _ in now_plan.create],
            "display_name": [name for _, name in now_plan.create],
            "role": "graduate",
            "colleges": pl.Series([None] * len(now_plan.create), dtype=pl.List(pl.String)),
            "student_id": [sid for sid, _ in now_plan.create],
            "password_hash": [hashes[sid] for sid, _ in now_plan.create],
            "must_change_password": True, "created_at": now, "updated_at": now,
        }, schema_overrides={"username": pl.String, "display_name": pl.String, "student_id": pl.String,
                             "password_hash": pl.String}))
        if now_plan.reset:
            writer.execute("user_set_initial_passwords", now=now, frames={"incoming": pl.DataFrame({
                "user_id": [user_id for _, user_id in now_plan.reset],
                "password_hash": [hashes[sid] for sid, _ in now_plan.reset],
            }, schema={"user_id": pl.Int64, "password_hash": pl.String})})
        done = InitialPasswords(source.file_name, len(now_plan.create), len(now_plan.reset), now_plan.kept)
        writer.touched_students = []
        writer.audit_target = source.file_name
        writer.audit_detail = {"sha256": digest, "rows": len(rows), "created": done.created, "reset": done.reset,
                               "kept": done.kept}
        return done

    return store.transaction(actor, "user:initial_passwords", work, source.file_name)


def _password_rows(frame: pl.DataFrame) -> tuple[dict[str, tuple[int, str]], list[tuple[int, str, str]]]:
    """The file's good rows as 学号 -> (row number, password), and the problems of the others.
    Passwords are taken exactly as written (no trimming) and never appear in a message."""
    good: dict[str, tuple[int, str]] = {}
    first_row: dict[str, int] = {}
    problems: list[tuple[int, str, str]] = []
    for row, raw_id, password in frame.select(sources.ROW, "student_id", "password").iter_rows():
        student_id = text.compact(raw_id)
        bad = len(problems)
        if not student_id:
            problems.append((row, "student_id", "学号不能为空"))
        elif "***" in student_id:
            problems.append((row, "student_id", "是脱敏后的值（含 ***），请使用完整的学号"))
        elif student_id in first_row:
            problems.append((row, "student_id", f"学号 {student_id} 与第 {first_row[student_id]} 行重复"))
        else:
            first_row[student_id] = row
        if not password:
            problems.append((row, "password", "初始密码不能为空"))
        elif "***" in password:
            problems.append((row, "password", "是脱敏后的值（含 ***），请填写真实的初始密码"))
        elif password != password.strip():
            problems.append((row, "password", "密码首尾不能有空格"))
        elif problem := password_problem(password, student_id):
            problems.append((row, "password", problem))
        if len(problems) == bad:
            good[student_id] = (row, password)
    return good, problems


def _plan(found: pl.DataFrame, rows: dict[str, tuple[int, str]]) -> _Plan:
    """What to do with each good row, given the roster and the accounts as they are now."""
    plan = _Plan()
    for r in found.iter_rows(named=True):
        student_id = r["student_id"]
        row = rows[student_id][0]
        if r["name"] is None:
            plan.problems.append((row, "student_id", f"名单中没有学号 {student_id}，请先导入毕业生名单"))
        elif r["own_user_id"] is not None:
            if r["own_must_change"]:
                plan.reset.append((student_id, int(r["own_user_id"])))
            else:
                plan.kept += 1
        elif r["taken_role"] is not None:
            plan.problems.append((row, "student_id", f"用户名 {student_id} 已被{ROLES.get(r['taken_role'], r['taken_role'])}"
                                                     "账号使用，不能用作毕业生账号"))
        else:
            plan.create.append((student_id, r["name"]))
    plan.create.sort()
    plan.reset.sort()
    return plan


def _refusal(source: sources.Source, problems: list[tuple[int, str, str]]) -> str:
    order = list(PASSWORD_FILE.by_key)
    problems = sorted(problems, key=lambda p: (p[0], order.index(p[1])))
    lines = [f"  {source.file_name} 第 {row} 行「{source.headers.get(column) or PASSWORD_FILE.by_key[column].label}」："
             f"{reason}" for row, column, reason in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ……共 {len(problems)} 处")
    return "\n".join([f"{source.file_name}：设置初始密码被拒绝，未写入任何数据。共 {len(problems)} 处问题：", *lines])


def _hash_many(passwords: list[str], workers: int | None,
               progress: Callable[[int, int], None] | None = None) -> list[str]:
    """One salted scrypt hash per password, in order; hashlib.scrypt releases the GIL, so
    threads use every core."""
    workers = workers or min(os.cpu_count() or 1, MAX_HASH_WORKERS)
    report = progress or (lambda _done, _total: None)
    if workers <= 1 or len(passwords) <= 1:
        hashes = []
        for password in passwords:
            hashes.append(hash_password(password))
            report(len(hashes), len(passwords))
        return hashes
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scrypt") as pool:
        hashes = []
        for digest in pool.map(hash_password, passwords):
            hashes.append(digest)
            report(len(hashes), len(passwords))
        return hashes


def _checked_scope(role: str, colleges: list[str] | None, student_id: str | None) -> list[str]:
    """The account's colleges, sorted, if they fit its role."""
    if role not in ROLES:
        raise AccountError(f"未知的角色：{role}（可用：{'、'.join(f'{k} {v}' for k, v in ROLES.items())}）")
    chosen = sorted({c.strip() for c in colleges or [] if c.strip()})
    if role == "college_reviewer" and not chosen:
        raise AccountError("学院审核员/院长须指定至少一个学院（--college）")
    if role != "college_reviewer" and chosen:
        raise AccountError(f"{ROLES[role]}不按学院限定范围，不能指定学院")
    if role == "graduate" and not student_id:
        raise AccountError("毕业生账号须指定学号")
    return chosen


def _check_colleges_known(writer: Writer, chosen: list[str]) -> None:
    known = {r["college_name"] for r in writer.rows("known_colleges")}
    if unknown := [c for c in chosen if c not in known]:
        raise AccountError(f"名单中没有这些学院：{'、'.join(unknown)}")


def update_user(store: Store, actor: Actor, username: str, *, role: str | None = None,
                colleges: list[str] | None = None, display_name: str | None = None,
                disabled: bool | None = None, oidc_subject: str | None = None) -> User:
    """An admin changes an account's role and colleges, its name, its 统一身份认证 mapping
    (`oidc_subject`; "" removes it) or disables/enables it. Arguments left None keep their
    value. An admin cannot disable or demote their own account (no office locks itself out)."""
    access.require(store, actor, access.ADMINS, "user:update", username, "只有就业处管理员可以修改账号", AccountError)

    def work(writer: Writer) -> User:
        found = writer.one("user_by_name", username=username.strip())
        if found is None:
            raise AccountError(f"没有用户 {username}")
        new_role = role or found["role"]
        if role is not None and colleges is None and new_role != "college_reviewer":
            scope: list[str] | None = []
        else:
            scope = colleges if colleges is not None else list(found["colleges"] or [])
        chosen = _checked_scope(new_role, scope, found["student_id"])
        _check_colleges_known(writer, chosen)
        if found["username"] == actor.name and (disabled or new_role != found["role"]):
            raise AccountError("不能停用自己的账号或修改自己的角色，请由另一位管理员操作")
        subject = found["oidc_subject"] if oidc_subject is None else (oidc_subject.strip() or None)
        if subject and (other := writer.one("user_by_oidc", subject=subject)) and other["user_id"] != found["user_id"]:
            raise AccountError(f"统一身份认证账号 {subject} 已对应用户 {other['username']}")
        changed = {
            "display_name": (display_name or found["display_name"]).strip(), "role": new_role,
            "colleges": chosen or None, "student_id": found["student_id"], "oidc_subject": subject,
            "disabled": found["disabled"] if disabled is None else disabled,
        }
        writer.execute("user_update", user_id=found["user_id"], now=writer.now(), **changed)
        writer.touched_students = []
        writer.audit_target = found["username"]
        writer.audit_detail = {k: v for k, v in changed.items() if v != found[k]}
        return from_row({**found, **changed})

    return store.transaction(actor, "user:update", work, username)


def login(store: Store, username: str, password: str, *, client: str = "") -> User:
    """The account, if the password is right and the account usable; LoginRefused otherwise
    (the same message for an unknown name and a wrong password). Audited either way."""
    username = username.strip()
    refused = "用户名或密码错误"

    def work(writer: Writer) -> User | str:
        writer.touched_students = []
        writer.audit_target = username
        found = writer.one("user_by_name", username=username)
        now = writer.now()
        if found is None:
            password_matches(password, _dummy_hash())  # the same time as a real check
            writer.audit_detail = {"outcome": "unknown_user", "client": client}
            return refused
        if found["disabled"]:
            writer.audit_detail = {"outcome": "disabled", "client": client}
            return "账号已停用，请联系就业处"
        if found["locked_until"] is not None and found["locked_until"] > now:
            writer.audit_detail = {"outcome": "locked", "client": client}
            return f"连续登录失败次数过多，账号已锁定至 {found['locked_until']:%H:%M}，请稍后再试或联系就业处重置"
        if not password_matches(password, found["password_hash"]):
            failures = int(found["failed_logins"]) + 1
            locked = now + timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
            writer.execute("user_login_result", user_id=found["user_id"], failed_logins=0 if locked else failures,
                           locked_until=locked, now=now)
            writer.audit_detail = {"outcome": "locked_now" if locked else "wrong_password", "failures": failures,
                                   "client": client}
            return (f"连续 {MAX_FAILURES} 次登录失败，账号锁定 {LOCK_MINUTES} 分钟" if locked else refused)
        writer.execute("user_login_result", user_id=found["user_id"], failed_logins=0, locked_until=None, now=now)
        writer.audit_detail = {"outcome": "ok", "client": client}
        return from_row(found)

    result = store.transaction(Actor(username or "?", "login"), "login", work, username)
    if isinstance(result, str):
        raise LoginRefused(result)
    return result


def login_oidc(store: Store, subject: str, *, client: str = "") -> User:
    """The account a 统一身份认证 identity (the configured claim's value) is mapped to;
    LoginRefused if none is, or it is disabled. Audited either way."""

    def work(writer: Writer) -> User | str:
        writer.touched_students = []
        found = writer.one("user_by_oidc", subject=subject)
        writer.audit_target = found["username"] if found else subject
        if found is None:
            writer.audit_detail = {"outcome": "oidc_unknown", "subject": subject, "client": client}
            return f"统一身份认证账号 {subject} 尚未在本系统开通，请联系就业处"
        if found["disabled"]:
            writer.audit_detail = {"outcome": "disabled", "via": "oidc", "client": client}
            return "账号已停用，请联系就业处"
        writer.execute("user_login_result", user_id=found["user_id"], failed_logins=0, locked_until=None,
                       now=writer.now())
        writer.audit_detail = {"outcome": "ok", "via": "oidc", "client": client}
        return from_row(found)

    result = store.transaction(Actor(subject or "?", "login"), "login", work, subject)
    if isinstance(result, str):
        raise LoginRefused(result)
    return result


def change_password(store: Store, username: str, old: str, new: str) -> None:
    """A user changes their own password (at first login, or at any time)."""
    if problem := password_problem(new, username):
        raise AccountError(problem)
    if old == new:
        raise AccountError("新密码不能与原密码相同")

    def work(writer: Writer) -> str | None:
        writer.touched_students = []
        found = writer.one("user_by_name", username=username)
        if found is None or not password_matches(old, found["password_hash"]):
            writer.audit_detail = {"outcome": "wrong_password"}
            return "原密码错误"
        writer.execute("user_set_password", user_id=found["user_id"], password_hash=hash_password(new),
                       must_change=False, now=writer.now())
        writer.audit_detail = {"outcome": "ok"}
        return None

    if problem := store.transaction(Actor(username, "login"), "user:password", work, username):
        raise AccountError(problem)


def reset_password(store: Store, actor: Actor, username: str, new: str) -> None:
    """An admin sets a new password, which the user must change at their next login."""
    access.require(store, actor, access.ADMINS, "user:reset_password", username, "只有就业处管理员可以重置密码",
                   AccountError)
    if problem := password_problem(new, username):
        raise AccountError(problem)

    def work(writer: Writer) -> None:
        found = writer.one("user_by_name", username=username)
        if found is None:
            raise AccountError(f"没有用户 {username}")
        writer.execute("user_set_password", user_id=found["user_id"], password_hash=hash_password(new),
                       must_change=True, now=writer.now())
        writer.touched_students = []
        writer.audit_target = username
        writer.audit_detail = {"reset": True, "unlocked": found["locked_until"] is not None}

    store.transaction(actor, "user:reset_password", work, username)


def list_users(store: Store, actor: Actor) -> list[dict[str, Any]]:
    access.require(store, actor, access.ADMINS, "user:list", None, "只有就业处管理员可以查看账号", AccountError)
    with store.reading(actor) as reader:
        return reader.rows("users_list")


def from_row(row: dict[str, Any]) -> User:
    colleges = tuple(row["colleges"]) if row["colleges"] else None
    return User(row["username"], row["display_name"], row["role"], colleges, row["student_id"],
                bool(row["must_change_password"]))
