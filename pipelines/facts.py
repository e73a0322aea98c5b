"""Facts with rules, written in bulk: review decisions, confirmations and verification reports.

The product records these one action at a time (`reviews.decide`, `reports.confirm`,
`reports.issue_many`), each checked by the rules. A writer of many at once (the demo today, an
import of a past campaign tomorrow) writes them here, never as plain rows: every batch is checked
with the same rule functions, and refused whole, naming the first rows that break a rule.

* each registration's decisions, in order, are replayed through `workflow.next_status` (levels,
  transitions, a reason for every return), and none comes before the submission;
* a confirmation answers with a known answer, and a 'confirmed' one names an approved revision;
* a report names a 'confirmed' confirmation of the same graduate and one of `reports.KINDS`, its
  核验编号 has the national layout and is new, and its validity date passes
  `verification.valid_until_problem` as of the day it was issued.

The rows are checked by pattern: the rule functions run once per distinct sequence of decisions
or per distinct date, so a batch of 200,000 costs a few polars joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines import reports
from pipelines.rules import verification, workflow
from pipelines.store import StoreError, Writer

SHOWN = 5  # problems named in a refusal


class FactsRefused(StoreError):
    pass


@dataclass(frozen=True)
class Facts:
    """One batch. `registrations` (registration_id, student_id, submitted_at) are the revisions
    the reviews and confirmations name (written before); `graduation` (student_id,
    graduation_date) dates the reports' validity limit."""

    registrations: pl.DataFrame
    reviews: pl.DataFrame
    confirmations: pl.DataFrame
    reports: pl.DataFrame
    graduation: pl.DataFrame
    default_graduation: date


def write(writer: Writer, facts: Facts) -> dict[str, int]:
    """Check the batch with the rules, then insert it; nothing is written if any row breaks one."""
    problems = problems_of(facts)
    if problems:
        more = f"等 {len(problems)} 处" if len(problems) > SHOWN else ""
        raise FactsRefused("批量写入的审核、确认或核验报告不符合规则：" + "；".join(problems[:SHOWN]) + more)
    return {
        "reviews": writer.insert("reviews", facts.reviews),
        "confirmations": writer.insert("confirmations", facts.confirmations),
        "verification_reports": writer.insert("verification_reports", facts.reports),
    }


def problems_of(facts: Facts) -> list[str]:
    """Every rule the batch breaks, as text for the office (empty: the batch may be written)."""
    status = _statuses(facts.registrations, facts.reviews)
    return [
        *_review_problems(facts.registrations, facts.reviews, status),
        *_confirmation_problems(facts.confirmations, status),
        *_report_problems(facts),
    ]


def _statuses(registrations: pl.DataFrame, reviews: pl.DataFrame) -> pl.DataFrame:
    """(registration_id, status, problem): each revision's decisions replayed in order through
    `workflow.next_status`, once per distinct sequence."""
    ordered = reviews.sort("registration_id", "decided_at", "review_id").with_columns(
        step=pl.concat_str(
            "level", "decision", (pl.col("reason").fill_null("").str.strip_chars() != "").cast(pl.String), separator=":"
        )
    )
    sequences = ordered.group_by("registration_id", maintain_order=True).agg(pl.col("step").str.join("|").alias("key"))
    outcome: dict[str, tuple[str | None, str | None]] = {"": (workflow.PENDING_COLLEGE, None)}
    for key in sequences["key"].unique().to_list():
        outcome[key] = _replay(key)
    every = registrations.select("registration_id").join(sequences, on="registration_id", how="left")
    keys = every["key"].fill_null("").to_list()
    return every.select("registration_id").with_columns(
        status=pl.Series([outcome[k][0] for k in keys], dtype=pl.String),
        problem=pl.Series([outcome[k][1] for k in keys], dtype=pl.String),
    )


def _replay(key: str) -> tuple[str | None, str | None]:
    status = workflow.PENDING_COLLEGE
    for step in key.split("|"):
        level, decision, has_reason = step.split(":")
        try:
            status = workflow.next_status(
                status, workflow.Decision(level, decision, "·" if has_reason == "true" else "")
            )
        except workflow.WorkflowError as exc:
            return None, str(exc)
    return status, None


def _review_problems(registrations: pl.DataFrame, reviews: pl.DataFrame, status: pl.DataFrame) -> list[str]:
    found = [
        f"登记 {row['registration_id']} 的审核：{row['problem']}"
        for row in status.filter(pl.col("problem").is_not_null()).head(SHOWN).iter_rows(named=True)
    ]
    timed = reviews.join(registrations.select("registration_id", "submitted_at"), on="registration_id", how="left")
    found += [
        f"审核 {row['review_id']} 针对的登记不在本批中"
        for row in timed.filter(pl.col("submitted_at").is_null()).head(SHOWN).iter_rows(named=True)
    ]
    found += [
        f"审核 {row['review_id']} 早于登记 {row['registration_id']} 的提交时间"
        for row in timed.filter(pl.col("decided_at") < pl.col("submitted_at")).head(SHOWN).iter_rows(named=True)
    ]
    return found


def _confirmation_problems(confirmations: pl.DataFrame, status: pl.DataFrame) -> list[str]:
    found = [
        f"确认 {row['confirmation_id']} 的结果“{row['answer']}”不是已知的确认结果"
        for row in confirmations.filter(~pl.col("answer").is_in(list(reports.ANSWERS)))
        .head(SHOWN)
        .iter_rows(named=True)
    ]
    confirmed = confirmations.filter(pl.col("answer") == "confirmed").join(status, on="registration_id", how="left")
    found += [
        f"确认 {row['confirmation_id']} 针对的登记 {row['registration_id']} 尚未通过审核"
        for row in confirmed.filter(pl.col("status").fill_null("") != workflow.APPROVED)
        .head(SHOWN)
        .iter_rows(named=True)
    ]
    return found


def _report_problems(facts: Facts) -> list[str]:
    made = facts.reports.join(
        facts.confirmations.select(
            "confirmation_id", pl.col("student_id").alias("confirmed_student"), "answer", "confirmed_at"
        ),
        on="confirmation_id",
        how="left",
    ).join(facts.graduation, on="student_id", how="left")
    found = [
        f"核验报告 {row['report_number']} 的确认不是本人的“信息无误”确认"
        for row in made.filter(
            (pl.col("answer").fill_null("") != "confirmed") | (pl.col("confirmed_student") != pl.col("student_id"))
        )
        .head(SHOWN)
        .iter_rows(named=True)
    ]
    found += [
        f"核验报告 {row['report_number']} 早于其确认"
        for row in made.filter(pl.col("issued_at") < pl.col("confirmed_at")).head(SHOWN).iter_rows(named=True)
    ]
    found += [
        f"核验报告 {row['report_number']} 的种类“{row['kind']}”未知"
        for row in made.filter(~pl.col("kind").is_in(list(reports.KINDS))).head(SHOWN).iter_rows(named=True)
    ]
    numbers = made["report_number"].unique().to_list()
    bad = [n for n in numbers if not reports.looks_like_report_number(n)]
    found += [f"核验编号 {n} 格式不对" for n in bad[:SHOWN]]
    if made["report_number"].n_unique() != made.height:
        found.append("本批有重复的核验编号")
    dated = (
        made.filter(pl.col("valid_until").is_not_null())
        .select(
            "valid_until",
            pl.col("graduation_date").fill_null(facts.default_graduation).alias("graduation"),
            pl.col("issued_at").dt.date().alias("issued_on"),
        )
        .unique()
    )
    for row in dated.iter_rows(named=True):
        if problem := verification.valid_until_problem(row["valid_until"], row["graduation"], row["issued_on"]):
            found.append(f"有效期 {row['valid_until']:%Y-%m-%d}（{row['issued_on']:%Y-%m-%d} 生成）：{problem}")
            if len(found) >= SHOWN * 4:
                break
    return found
