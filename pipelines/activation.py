"""Graduate accounts are opened with a one-time activation code, never a password the office
chose (#15: one shared initial password let anyone take over classmates' accounts by 学号).

The office issues codes for a college, a class or the whole cohort (`issue_codes`): every roster
graduate without an account gets one (user name = 学号, no password at all), and every graduate
account not yet activated gets a fresh code (its older ones stop working). A code is 12 random
characters from the alphabet without look-alikes (31^12 ≈ 7.9·10^17), kept only as a salted
SHA-256, valid for VALID_DAYS days and once. The office prints one sheet per class for the class
advisor, or exports the codes; either is recorded like every export.

The graduate activates (`activate`) with 学号, the code and a second fact the code sheet does not
carry: the last six characters of their 身份证号 on the roster; then chooses their own password.
Every failure gets one answer, and attempts are throttled per graduate and client and per
client, from the audit log (like logins). 统一身份认证 stays the preferred way in where the
school has it (`oidc`: the new account is mapped to the identity named by its 学号).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from pipelines import access, accounts, exports, privacy
from pipelines.reports import ALPHABET
from pipelines.rules import roles, text
from pipelines.store import Actor, Store, Writer

CODE_LENGTH = 12
VALID_DAYS = 14
MAX_FAILURES = 5  # per graduate and client, in accounts.LOCK_MINUTES
REFUSED = "学号、激活码或身份证号后 6 位不正确，或激活码已失效、已使用；多次失败后请稍后再试，或联系学院重新领取激活码"


class ActivationRefused(accounts.AccountError):
    pass


@dataclass(frozen=True)
class IssuedCode:
    student_id: str
    name: str
    college_name: str
    class_name: str
    advisor: str
    code: str
    expires_at: datetime


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def _digest(code: str, salt: str) -> str:
    return hashlib.sha256((salt + text.compact(code).upper()).encode("utf-8")).hexdigest()


def shown(code: str) -> str:
    """How a code is printed: in groups of four (`ABCD-EFGH-JKMN`); typed with or without dashes."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue_codes(
    store: Store,
    actor: Actor,
    *,
    cohort: int | None = None,
    college: str | None = None,
    class_name: str | None = None,
    student_id: str | None = None,
    oidc: bool = False,
) -> list[IssuedCode]:
    """Open the missing graduate accounts of the scope and give every account not yet activated
    a fresh code (the plain codes are returned once; only their hashes are stored)."""
    scope = student_id or class_name or college or "全校"
    access.require(
        store, actor, roles.ADMINS, "user:issue_codes", scope, "只有就业处管理员可以生成激活码", accounts.AccountError
    )

    chosen = {"cohort": cohort, "college": college, "class_name": class_name, "student_id": student_id}
    return store.transaction(actor, "user:issue_codes", lambda writer: _issue(writer, chosen, oidc, scope), scope)


def _issue(writer: Writer, chosen: dict[str, Any], oidc: bool, scope: str) -> list[IssuedCode]:
    """issue_codes inside a transaction."""
    missing = writer.query("graduates_without_account", **chosen)
    now = writer.now()
    if missing.height:
        taken = {r["oidc_subject"] for r in writer.rows("oidc_subjects_in", ids=missing["student_id"].to_list())}
        subject = pl.when(pl.lit(oidc) & ~pl.col("student_id").is_in(list(taken))).then(pl.col("student_id"))
        writer.insert(
            "users",
            missing.select(
                writer.next_ids("user_ids", missing.height).alias("user_id"),
                pl.col("student_id").alias("username"),
                pl.col("name").alias("display_name"),
                pl.lit("graduate").alias("role"),
                pl.lit(None, dtype=pl.List(pl.String)).alias("colleges"),
                "student_id",
                pl.lit(None, dtype=pl.String).alias("password_hash"),
                pl.lit(False).alias("must_change_password"),
                subject.otherwise(None).cast(pl.String).alias("oidc_subject"),
                pl.lit(now).alias("created_at"),
                pl.lit(now).alias("updated_at"),
            ),
        )
    waiting = writer.query("graduates_to_activate", **chosen)
    codes = [new_code() for _ in range(waiting.height)]
    salts = [secrets.token_hex(8) for _ in codes]
    expires = now + timedelta(days=VALID_DAYS)
    writer.execute("void_activation_codes", now=now, frames={"incoming": waiting.select("user_id")})
    writer.insert(
        "activation_codes",
        pl.DataFrame(
            {
                "activation_id": writer.next_ids("activation_ids", waiting.height),
                "user_id": waiting["user_id"],
                "code_hash": [_digest(c, s) for c, s in zip(codes, salts, strict=True)],
                "salt": salts,
                "issued_at": [now] * waiting.height,
                "expires_at": [expires] * waiting.height,
                "issued_by": [writer.actor.name] * waiting.height,
            },
            schema_overrides={
                "user_id": pl.Int64,
                "code_hash": pl.String,
                "salt": pl.String,
                "issued_at": pl.Datetime("us"),
                "expires_at": pl.Datetime("us"),
                "issued_by": pl.String,
            },
        ),
    )
    writer.touched_students = []
    writer.audit_target = scope
    writer.audit_detail = {
        **chosen,
        "accounts_opened": missing.height,
        "codes": waiting.height,
        "valid_days": VALID_DAYS,
        "oidc": oidc,
    }
    return [
        IssuedCode(
            r["student_id"],
            r["name"],
            r["college_name"] or "",
            r["class_name"] or "",
            r["advisor"] or "",
            code,
            expires,
        )
        for r, code in zip(waiting.iter_rows(named=True), codes, strict=True)
    ]


def activate(
    store: Store, student_id: str, code: str, id_last6: str, password: str, *, client: str = ""
) -> accounts.User:
    """A graduate opens their account: 学号 + code + the last six characters of their 身份证号;
    their own password from then on. ActivationRefused with one answer for every failure."""
    student_id = text.compact(student_id)
    if problem := accounts.password_problem(password, student_id):
        raise accounts.AccountError(problem)
    code = text.compact(code).replace("-", "").upper()
    id_last6 = text.compact(id_last6).upper()

    def work(writer: Writer) -> accounts.User | None:
        writer.touched_students = []
        found = writer.one("user_by_name", username=student_id) if student_id else None
        target = accounts.login_target(student_id, found is not None and found["role"] == "graduate")
        writer.actor = Actor(target, "login")
        writer.audit_target = target
        since = datetime.now() - timedelta(minutes=accounts.LOCK_MINUTES)
        seen = writer.one("login_history", target=target, client=client, since=since) or {}
        attempts = writer.one("activation_failures", target=target, client=client, since=since) or {}

        def refuse(outcome: str) -> None:
            writer.audit_detail = {"outcome": outcome, "client": client}

        if (seen.get("client_failures") or 0) + (
            attempts.get("client_failures") or 0
        ) >= accounts.CLIENT_FAILURES_LIMIT:
            refuse("throttled")
            return None
        if (attempts.get("pair_failures") or 0) >= MAX_FAILURES:
            refuse("locked")
            return None
        if found is None or found["role"] != "graduate" or found["disabled"]:
            refuse("unknown_user")
            return None
        if found["password_hash"] is not None:
            refuse("already_active")
            return None
        live = writer.rows("live_activation_codes", user_id=found["user_id"], now=writer.now())
        match = next((c for c in live if hmac.compare_digest(_digest(code, c["salt"]), c["code_hash"])), None)
        roster = writer.one("activation_facts", student_id=found["student_id"]) or {}
        expected = (roster.get("id_number") or "").upper()[-6:]
        if match is None:
            refuse("wrong_code")
            return None
        if len(expected) != 6 or not hmac.compare_digest(expected, id_last6):
            refuse("wrong_id" if expected else "no_id_on_roster")
            return None
        writer.execute(
            "user_set_password",
            user_id=found["user_id"],
            password_hash=accounts.hash_password(password),
            must_change=False,
            now=writer.now(),
        )
        writer.execute("use_activation_code", activation_id=match["activation_id"], now=writer.now())
        writer.audit_detail = {"outcome": "ok", "client": client}
        return accounts.from_row({**found, "must_change_password": False})

    user = store.transaction(Actor("login", "login"), "user:activate", work)
    if user is None:
        raise ActivationRefused(REFUSED)
    return user


def reissue(store: Store, actor: Actor, student_id: str) -> IssuedCode:
    """A graduate who forgot their password (or never received a code) gets a new code; the
    account's password is cleared, so only the new code opens it again."""
    access.require(
        store,
        actor,
        roles.ADMINS,
        "user:issue_codes",
        student_id,
        "只有就业处管理员可以生成激活码",
        accounts.AccountError,
    )

    def work(writer: Writer) -> list[IssuedCode]:
        found = writer.one("user_by_name", username=student_id)
        if found is None or found["role"] != "graduate":
            raise accounts.AccountError(f"没有学号为 {student_id} 的毕业生账号")
        writer.execute("user_clear_password", user_id=found["user_id"], now=writer.now())
        issued = _issue(
            writer, {"cohort": None, "college": None, "class_name": None, "student_id": student_id}, False, student_id
        )
        writer.audit_detail |= {"password_cleared": True}
        return issued

    issued = store.transaction(actor, "user:reset_password", work, student_id)
    if not issued:
        raise accounts.AccountError(f"学号 {student_id} 的账号已停用，未生成激活码")
    return issued[0]


# --- the sheets for class advisors --------------------------------------------------------------


def masked_name(name: str) -> str:
    """`张*` / `欧阳**`: the advisor knows whose line it is; a lost sheet tells less."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def codes_table(issued: list[IssuedCode]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "学院": [c.college_name for c in issued],
            "班级": [c.class_name for c in issued],
            "班主任": [c.advisor for c in issued],
            "学号": [c.student_id for c in issued],
            "姓名": [masked_name(c.name) for c in issued],
            "激活码": [shown(c.code) for c in issued],
            "有效期至": [f"{c.expires_at:%Y-%m-%d}" for c in issued],
        },
        schema={k: pl.String for k in ("学院", "班级", "班主任", "学号", "姓名", "激活码", "有效期至")},
    )


def codes_file(store: Store, actor: Actor, issued: list[IssuedCode], fmt: str, file_name: str) -> tuple[bytes, int]:
    """The codes as one PDF page per class (to cut into slips and hand out), or as xlsx; the
    export is recorded (how many, not the codes)."""
    access.require_export(store, actor, "activation_codes", file_name)
    table = codes_table(issued).sort(["学院", "班级", "学号"])
    data = _sheets_pdf(table) if fmt == "pdf" else exports.table_xlsx(table, "激活码")
    privacy.record_export(
        store,
        actor,
        "export:activation_codes",
        file_name,
        data,
        table.height,
        {"classes": table["班级"].n_unique(), "format": fmt},
    )
    return data, table.height


def _sheets_pdf(table: pl.DataFrame) -> bytes:
    import pylopdf_fonts_zh_cn
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    from pipelines.report_pdf import FONT

    pdf = FPDF(format="A4")
    pdf.add_font(FONT, fname=str(pylopdf_fonts_zh_cn.sans_path()))
    pdf.set_auto_page_break(True, margin=15)
    widths = [32, 26, 48, 34]
    for (college, class_name), people in table.group_by(["学院", "班级"], maintain_order=True):
        pdf.add_page()
        pdf.set_font(FONT, size=15)
        pdf.cell(0, 10, f"毕业生账号激活码 · {college} {class_name}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=9)
        advisor = people["班主任"][0] or "（未填）"
        pdf.multi_cell(
            0,
            5,
            f"班主任：{advisor}　共 {people.height} 人　有效期至 {people['有效期至'][0]}。请逐人分发，"
            "不要公开张贴。毕业生在看板登录页选择“首次登录：激活账号”，输入学号、激活码和本人身份证号后 6 位，"
            "设置自己的密码；激活码只能使用一次。",
            wrapmode=WrapMode.CHAR,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(2)
        pdf.set_font(FONT, size=10)
        for header, width in zip(("学号", "姓名", "激活码", "签收"), widths, strict=True):
            pdf.cell(width, 8, header, border=1)
        pdf.ln()
        pdf.set_font(FONT, size=11)
        for sid, name, code in people.select("学号", "姓名", "激活码").iter_rows():
            for value, width in zip((sid, name, code, ""), widths, strict=True):
                pdf.cell(width, 9, value, border=1)
            pdf.ln()
    return bytes(pdf.output())


def summary(issued: list[IssuedCode]) -> str:
    classes = len({(c.college_name, c.class_name) for c in issued})
    return (
        f"已为 {len(issued):,} 名尚未激活的毕业生生成激活码（{classes} 个班，有效 {VALID_DAYS} 天；旧的激活码随之失效）"
    )
