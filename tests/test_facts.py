"""Facts that have rules (reviews, confirmations, reports) are written in bulk only through
`pipelines.facts`, which checks them with the product's own rules: the demo is no second writer.

Each case corrupts one fact in the demo's generated chunk, as a bug in the generator would, and
the demo must refuse the whole build with the rule's reason, writing nothing.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines import demo, facts
from pipelines.demo import write as demo_write
from pipelines.store import Store, StoreError
from tests.conftest import table

ROOT = Path(__file__).resolve().parents[1]
Corrupt = Callable[[Any], Any]


def _first(frame: pl.DataFrame, where: pl.Expr) -> int:
    return int(frame.with_row_index("_i").filter(where)["_i"][0])


def _set(frame: pl.DataFrame, index: int, **values: Any) -> pl.DataFrame:
    at = pl.int_range(pl.len()) == index
    return frame.with_columns(
        **{
            name: pl.when(at).then(pl.lit(value, dtype=frame.schema[name])).otherwise(pl.col(name))
            for name, value in values.items()
        }
    )


def school_before_college(chunk: Any) -> Any:
    """A school decision dated before the college's: replayed, the school decides a 待院审核 form."""
    reviews = chunk.reviews
    i = _first(reviews, pl.col("level") == "school")
    earlier = reviews["decided_at"][i] - timedelta(days=20)
    return dataclasses.replace(chunk, reviews=_set(reviews, i, decided_at=earlier))


def return_without_reason(chunk: Any) -> Any:
    i = _first(chunk.reviews, pl.col("decision") == "return")
    return dataclasses.replace(chunk, reviews=_set(chunk.reviews, i, reason="  "))


def confirms_a_returned_form(chunk: Any) -> Any:
    returned = int(chunk.reviews.filter(pl.col("decision") == "return")["_rkey"][0])
    i = _first(chunk.confirmations, pl.col("answer") == "confirmed")
    return dataclasses.replace(chunk, confirmations=_set(chunk.confirmations, i, _rkey=returned))


def valid_past_six_months(chunk: Any) -> Any:
    i = _first(chunk.reports, pl.col("valid_until").is_not_null())
    return dataclasses.replace(chunk, reports=_set(chunk.reports, i, valid_until=date(2025, 6, 30)))


def issued_before_confirmed(chunk: Any) -> Any:
    return dataclasses.replace(chunk, reports=_set(chunk.reports, 0, issued_at=datetime(2024, 1, 2, 9)))


def malformed_number(chunk: Any) -> Any:
    return dataclasses.replace(chunk, reports=_set(chunk.reports, 0, report_number="24-<b>0001</b>"))


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (school_before_college, "不能进行学校通过"),
        (return_without_reason, "退回必须填写原因"),
        (confirms_a_returned_form, "尚未通过审核"),
        (valid_past_six_months, "有效期不能晚于毕业时间加六个月"),
        (issued_before_confirmed, "早于其确认"),
        (malformed_number, "格式不对"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_demo_fact_that_breaks_a_rule_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corrupt: Corrupt, reason: str
) -> None:
    planned = demo_write._plan_chunk
    monkeypatch.setattr(demo_write, "_plan_chunk", lambda *a, **k: corrupt(planned(*a, **k)))
    store = Store(tmp_path / "d.duckdb", today="2024-06-10")
    with pytest.raises(StoreError, match=reason) as refused:
        demo.build_demo(store, graduates=600, seed=3, as_of=date(2024, 6, 10))
    assert "不符合规则" in str(refused.value)
    assert table(store, "select count(*) from graduates") == [(0,)]
    assert table(store, "select count(*) from reviews") == [(0,)]


def test_the_demo_as_generated_passes_every_rule(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.duckdb", today="2024-06-10")
    counts = demo.build_demo(store, graduates=600, seed=3, as_of=date(2024, 6, 10))
    assert counts["reviews"] > 0 and counts["confirmations"] > 0 and counts["verification_reports"] > 0
    # what the rules let through is what the product's views then show: approved, confirmed, verified
    ((confirmed_unapproved,),) = table(
        store,
        "select count(*) from confirmations c join registration_status r using (registration_id) "
        "where c.answer = 'confirmed' and r.status <> 'approved'",
    )
    assert confirmed_unapproved == 0


FACT_TABLES = {"reviews", "confirmations", "verification_reports"}
# The modules that record these facts, each through the rules: single actions, imports of the
# national system's outcomes (workflow.decisions_to_reach), bulk writers (facts.write), and the
# archive's return, which reopens the registration through the workflow's own transition.
FACT_WRITERS = {
    "pipelines/reviews.py",
    "pipelines/reports.py",
    "pipelines/imports.py",
    "pipelines/facts.py",
    "pipelines/dispatch.py",  # an archive return reopens the approved revision (workflow.next_status)
}


def test_only_the_rule_keepers_insert_facts() -> None:
    found = []
    for path in sorted((ROOT / "pipelines").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "insert"):
                continue
            first = node.args[0] if node.args else None
            named = first.value if isinstance(first, ast.Constant) else None
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if named is None and "demo" in path.relative_to(ROOT).parts:  # the demo's old generic insert loop
                found.append(f"{where} inserts into a table it does not name")
            elif named in FACT_TABLES and str(path.relative_to(ROOT)) not in FACT_WRITERS:
                found.append(f"{where} inserts {named}")
    assert found == []


def test_facts_refuses_with_the_rows_named() -> None:
    """The message names the registration and the rule (for an import of a past campaign, too)."""
    at = datetime(2024, 6, 1, 9)
    batch = facts.Facts(
        registrations=pl.DataFrame({"registration_id": [7], "student_id": ["0024000007"], "submitted_at": [at]}),
        reviews=pl.DataFrame(
            {
                "review_id": [1],
                "registration_id": [7],
                "level": ["school"],
                "decision": ["approve"],
                "reason": [None],
                "reviewer": ["x"],
                "decided_at": [at + timedelta(hours=1)],
                "batch_id": [1],
            },
            schema_overrides={"reason": pl.String},
        ),
        confirmations=pl.DataFrame(
            schema={
                "confirmation_id": pl.Int64,
                "student_id": pl.String,
                "answer": pl.String,
                "confirmed_at": pl.Datetime,
                "registration_id": pl.Int64,
            }
        ),
        reports=pl.DataFrame(
            schema={
                "report_id": pl.Int64,
                "student_id": pl.String,
                "kind": pl.String,
                "report_number": pl.String,
                "confirmation_id": pl.Int64,
                "issued_at": pl.Datetime,
                "valid_until": pl.Date,
            }
        ),
        graduation=pl.DataFrame({"student_id": ["0024000007"], "graduation_date": [date(2024, 6, 30)]}),
        default_graduation=date(2024, 6, 30),
    )
    assert facts.problems_of(batch) == ["登记 7 的审核：当前状态为“待院审核”，不能进行学校通过"]
