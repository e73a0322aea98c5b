"""Built-in accounts: roles, salted scrypt password hashes, login with lockout.

Every account maps to an `Actor` (name, role, colleges): the store scopes every read and write
by it, so what a role may see and do is enforced below the pages. Passwords are never stored
or logged, only `scrypt$n$r$p$salt$hash`; a login compares in constant time and, for an unknown
user name, still spends the time of one hash so that names cannot be probed by timing.

A refused login gets one answer whatever the reason (unknown, wrong password, disabled, locked,
throttled): only the audit log knows which. Locks and throttles are read from the audit log
itself, so they hold across sessions, processes and restarts:
- MAX_FAILURES wrong passwords for one account *from one client* lock that pair for
  LOCK_MINUTES: anyone can no longer lock an account for its owner, who logs in from their own
  client; each lock is shown to the admin on the 账号 page.
- One client failing CLIENT_FAILURES_LIMIT times, or trying more than CLIENT_ACCOUNTS_LIMIT
  accounts, within LOCK_MINUTES is throttled (a classmate walking through 学号).
Every login, failed login and account change goes to the audit log; a user name that is not an
account is logged as a hash (it may be a password typed into the wrong box).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from pipelines import access
from pipelines.rules import roles
from pipelines.store import Actor, Store, StoreError, Writer

MAX_FAILURES = 5  # per account and client
LOCK_MINUTES = 15
CLIENT_FAILURES_LIMIT = 20  # per client, any accounts
CLIENT_ACCOUNTS_LIMIT = 10  # distinct accounts one client may try
REFUSED = "用户名或密码错误，或暂时不能登录（多次失败后请稍后再试，或联系就业处）"
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
        return Actor(
            self.username,
            self.role,
            self.colleges if self.role == "college_reviewer" else None,
            self.student_id if self.role == "graduate" else None,
        )


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def password_matches(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
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


def add_user(
    store: Store,
    actor: Actor,
    username: str,
    role: str,
    password: str | None,
    *,
    display_name: str | None = None,
    colleges: list[str] | None = None,
    student_id: str | None = None,
    must_change_password: bool = True,
) -> User:
    """Create an account (the first-run command and the admin page). Only an admin (or the
    system, from the CLI) may; a college reviewer needs colleges that exist on the roster."""
    username = username.strip()
    access.require(store, actor, roles.ADMINS, "user:add", username, "只有就业处管理员可以添加账号", AccountError)
    if not username or any(c.isspace() for c in username):
        raise AccountError("用户名不能为空，也不能含空格")
    chosen = _checked_scope(role, colleges, student_id)
    if role == "graduate" and password is not None and actor.role != "system":
        # (#15) No password the office chose opens a graduate's account: activation codes do.
        raise AccountError(
            "毕业生账号不设初始密码：添加后生成激活码（账号页或 dangan user add-graduates），由毕业生本人激活并设置密码"
        )
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
        writer.insert(
            "users",
            pl.DataFrame(
                [
                    {
                        "user_id": int(writer.next_ids("user_ids", 1)[0]),
                        "username": username,
                        "display_name": (display_name or username).strip(),
                        "role": role,
                        "colleges": chosen or None,
                        "student_id": student_id,
                        "password_hash": hash_password(password) if password is not None else None,
                        "must_change_password": must_change_password,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
                schema_overrides={"colleges": pl.List(pl.String), "student_id": pl.String, "password_hash": pl.String},
            ),
        )
        writer.touched_students = []
        writer.audit_target = username
        writer.audit_detail = {"role": role, "colleges": chosen, "student_id": student_id}
        return User(
            username, (display_name or username).strip(), role, tuple(chosen) or None, student_id, must_change_password
        )

    return store.transaction(actor, "user:add", work, username)


def _checked_scope(role: str, colleges: list[str] | None, student_id: str | None) -> list[str]:
    """The account's colleges, sorted, if they fit its role."""
    if role not in roles.ROLES:
        raise AccountError(f"未知的角色：{role}（可用：{'、'.join(f'{k} {v}' for k, v in roles.ROLES.items())}）")
    chosen = sorted({c.strip() for c in colleges or [] if c.strip()})
    if role == "college_reviewer" and not chosen:
        raise AccountError("学院审核员/院长须指定至少一个学院（--college）")
    if role != "college_reviewer" and chosen:
        raise AccountError(f"{roles.ROLES[role]}不按学院限定范围，不能指定学院")
    if role == "graduate" and not student_id:
        raise AccountError("毕业生账号须指定学号")
    return chosen


def _check_colleges_known(writer: Writer, chosen: list[str]) -> None:
    known = {r["college_name"] for r in writer.rows("known_colleges")}
    if unknown := [c for c in chosen if c not in known]:
        raise AccountError(f"名单中没有这些学院：{'、'.join(unknown)}")


def update_user(
    store: Store,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    colleges: list[str] | None = None,
    display_name: str | None = None,
    disabled: bool | None = None,
    oidc_subject: str | None = None,
) -> User:
    """An admin changes an account's role and colleges, its name, its 统一身份认证 mapping
    (`oidc_subject`; "" removes it) or disables/enables it. Arguments left None keep their
    value. An admin cannot disable or demote their own account (no office locks itself out)."""
    access.require(store, actor, roles.ADMINS, "user:update", username, "只有就业处管理员可以修改账号", AccountError)

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
            "display_name": (display_name or found["display_name"]).strip(),
            "role": new_role,
            "colleges": chosen or None,
            "student_id": found["student_id"],
            "oidc_subject": subject,
            "disabled": found["disabled"] if disabled is None else disabled,
        }
        writer.execute("user_update", user_id=found["user_id"], now=writer.now(), **changed)
        writer.touched_students = []
        writer.audit_target = found["username"]
        writer.audit_detail = {k: v for k, v in changed.items() if v != found[k]}
        return from_row({**found, **changed})

    return store.transaction(actor, "user:update", work, username)


def login_target(username: str, known: bool) -> str:
    """How a login attempt is named in the audit log: the account, or for a name that is no
    account a hash of it (it may be a password typed into the user-name box)."""
    return username if known else "?" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:16]


_AGAIN = object()  # the account changed between the password check and the write: check again


def login(store: Store, username: str, password: str, *, client: str = "") -> User:
    """The account, if the password is right, the account usable and neither it (from this
    client) nor the client is locked; LoginRefused with the one REFUSED answer otherwise.
    Audited either way, with the real outcome.

    The password is hashed before the write transaction, outside any writer's turn (scrypt
    takes tens of milliseconds): the transaction then checks that the account's hash is still
    the one checked, and if not (reset meanwhile) the login is checked again."""
    username = username.strip()
    who = Actor("login", "login")
    for _attempt in range(3):
        with store.reading(who) as reader:
            checked = reader.one("user_by_name", username=username) if username else None
        checked_hash = checked["password_hash"] if checked else None
        matches = password_matches(password, checked_hash or _dummy_hash())  # every answer costs one hash

        def work(writer: Writer, checked_hash: str | None = checked_hash, matches: bool = matches) -> object:
            writer.touched_students = []
            found = writer.one("user_by_name", username=username) if username else None
            if (found["password_hash"] if found else None) != checked_hash:
                writer.audit_detail = {"outcome": "changed_meanwhile", "client": client}
                return _AGAIN
            target = login_target(username, found is not None)
            writer.actor = Actor(target, "login")  # the audit row's actor: never a typed secret
            writer.audit_target = target
            since = datetime.now() - timedelta(minutes=LOCK_MINUTES)
            seen = writer.one("login_history", target=target, client=client, since=since) or {}

            def refuse(outcome: str, **more: Any) -> None:
                writer.audit_detail = {"outcome": outcome, "client": client, **more}

            if (
                (seen.get("client_failures") or 0) >= CLIENT_FAILURES_LIMIT
                or (seen.get("client_accounts") or 0) >= CLIENT_ACCOUNTS_LIMIT
                and not seen.get("pair_seen")
            ):
                refuse("throttled")
                return None
            if found is None:
                refuse("unknown_user")
                return None
            if (seen.get("pair_failures") or 0) >= MAX_FAILURES:
                refuse("locked")
                return None
            if not matches:
                failures = (seen.get("pair_failures") or 0) + 1
                refuse("locked_now" if failures >= MAX_FAILURES else "wrong_password", failures=failures)
                return None
            if found["disabled"]:
                refuse("disabled")
                return None
            writer.execute(
                "user_login_result", user_id=found["user_id"], failed_logins=0, locked_until=None, now=writer.now()
            )
            writer.touched_users = [found["username"]]  # other sessions keep their cached accounts
            writer.audit_detail = {"outcome": "ok", "client": client}
            return from_row(found)

        result = store.transaction(who, "login", work, combine=True)
        if result is not _AGAIN:
            break
    if not isinstance(result, User):
        raise LoginRefused(REFUSED)
    return result


def recent_lockouts(store: Store, actor: Actor, hours: int = 24) -> list[dict[str, Any]]:
    """Accounts locked for a client in the last `hours` (the admin is told: 账号 page)."""
    access.require(store, actor, roles.ADMINS, "user:list", None, "只有就业处管理员可以查看账号", AccountError)
    with store.reading(actor) as reader:
        return reader.rows("login_lockouts", since=datetime.now() - timedelta(hours=hours))


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
        writer.execute(
            "user_login_result", user_id=found["user_id"], failed_logins=0, locked_until=None, now=writer.now()
        )
        writer.touched_users = [found["username"]]
        writer.audit_detail = {"outcome": "ok", "via": "oidc", "client": client}
        return from_row(found)

    result = store.transaction(Actor(subject or "?", "login"), "login", work, subject, combine=True)
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
        writer.execute(
            "user_set_password",
            user_id=found["user_id"],
            password_hash=hash_password(new),
            must_change=False,
            now=writer.now(),
        )
        writer.audit_detail = {"outcome": "ok"}
        return None

    if problem := store.transaction(Actor(username, "login"), "user:password", work, username):
        raise AccountError(problem)


def reset_password(store: Store, actor: Actor, username: str, new: str) -> None:
    """An admin sets a new password, which the user must change at their next login. Not for
    graduates: their accounts are reopened with a new activation code (activation.reissue)."""
    access.require(
        store, actor, roles.ADMINS, "user:reset_password", username, "只有就业处管理员可以重置密码", AccountError
    )
    if problem := password_problem(new, username):
        raise AccountError(problem)

    def work(writer: Writer) -> None:
        found = writer.one("user_by_name", username=username)
        if found is None:
            raise AccountError(f"没有用户 {username}")
        if found["role"] == "graduate":
            raise AccountError(
                "毕业生账号不能由就业处设置密码：请为其重新生成激活码（账号页，或 dangan user reset-password）"
            )
        writer.execute(
            "user_set_password",
            user_id=found["user_id"],
            password_hash=hash_password(new),
            must_change=True,
            now=writer.now(),
        )
        writer.touched_students = []
        writer.audit_target = username
        writer.audit_detail = {"reset": True, "unlocked": found["locked_until"] is not None}

    store.transaction(actor, "user:reset_password", work, username)


def list_users(store: Store, actor: Actor) -> list[dict[str, Any]]:
    access.require(store, actor, roles.ADMINS, "user:list", None, "只有就业处管理员可以查看账号", AccountError)
    with store.reading(actor) as reader:
        return reader.rows("users_list")


def from_row(row: dict[str, Any]) -> User:
    colleges = tuple(row["colleges"]) if row["colleges"] else None
    return User(
        row["username"],
        row["display_name"],
        row["role"],
        colleges,
        row["student_id"],
        bool(row["must_change_password"]),
    )
