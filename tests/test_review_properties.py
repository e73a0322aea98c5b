"""The review workflow as a state machine (hypothesis): submit, approve, return, resubmit and
decisions on stale revisions, against a real store, checked against a model after every step."""

from __future__ import annotations

import functools
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pipelines import campaigns, imports, reviews, submissions
from pipelines.rules import workflow
from pipelines.store import SYSTEM, Store
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    SUBMISSION_FORM,
    TODAY,
    registration_row,
    roster_row,
    write_csv,
)

STUDENTS = [f"00240{i:05d}" for i in range(3)]
DECISIONS = st.sampled_from(
    [("college", "approve"), ("college", "return"), ("school", "approve"), ("school", "return")]
)


@functools.cache
def _template() -> Path:
    """A store with the campaign and three graduates, built once per test run."""
    folder = Path(tempfile.mkdtemp(prefix="dangan-sm-"))
    store = Store(folder / "template.duckdb", today=TODAY)
    campaigns.save_campaign(
        store,
        SYSTEM,
        campaigns.Campaign(
            cohort=2024,
            school_name="江西服装学院",
            registration_deadline=date(2024, 6, 17),
            default_graduation_date=date(2024, 6, 30),
        ),
    )
    imports.import_file(
        store, SYSTEM, "roster", write_csv(folder / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(3)])
    )
    return store.path


class ReviewWorkflow(RuleBasedStateMachine):
    @initialize()
    def open_store(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="dangan-sm-run-"))
        shutil.copy(_template(), folder / "d.duckdb")
        self.folder = folder
        self.store = Store(folder / "d.duckdb", today=TODAY)
        # the model: each student's revisions (registration ids, oldest first) and current status
        self.revisions: dict[str, list[int]] = {s: [] for s in STUDENTS}
        self.status: dict[str, str] = {}
        # what the current revision holds: the submission form, or the nth import's row
        self.content: dict[str, str] = {}
        # reviews a revision had when it was replaced: it must never get another
        self.frozen: dict[int, int] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _reviews_of(self, registration_id: int) -> int:
        with self.store.reading(SYSTEM) as reader:
            return int(
                reader._conn.execute(
                    "select count(*) from reviews where registration_id = ?", [registration_id]
                ).fetchall()[0][0]
            )

    @rule(student=st.sampled_from(STUDENTS))
    def submit(self, student: str) -> None:
        waiting = self.status.get(student) in (workflow.PENDING_COLLEGE, workflow.PENDING_SCHOOL)
        try:
            new_id = submissions.submit(self.store, SYSTEM, student, SUBMISSION_FORM)
        except submissions.SubmissionRefused:
            assert waiting
            return
        assert not waiting
        # the same form sent again over a revision that is not returned writes nothing (a
        # returned one sent again as it was is the graduate's answer: a new revision)
        unchanged = self.content.get(student) == "form" and self.status.get(student) != workflow.RETURNED
        if new_id is None:
            assert unchanged, "a changed or returned registration was not saved"
            return
        assert not unchanged, "an unchanged save wrote a new revision"
        self.content[student] = "form"
        if self.revisions[student]:
            replaced = self.revisions[student][-1]
            self.frozen[replaced] = self._reviews_of(replaced)
        self.revisions[student].append(new_id)
        self.status[student] = workflow.PENDING_COLLEGE

    @rule(student=st.sampled_from(STUDENTS))
    def resubmit_by_import(self, student: str) -> None:
        """An export of the national system carries a newer revision: it replaces the current
        one whatever its status, even while it waits for review."""
        self.imported = getattr(self, "imported", 0) + 1
        i = STUDENTS.index(student)
        row = registration_row(i, 提交时间=f"2024-06-10 23:59:{self.imported:02d}", 详细地址=f"北京路{self.imported}号")
        imports.import_file(
            self.store,
            SYSTEM,
            "registrations",
            write_csv(self.folder / f"g{self.imported}.csv", REGISTRATION_HEADER, [row]),
        )
        if self.revisions[student]:
            replaced = self.revisions[student][-1]
            self.frozen[replaced] = self._reviews_of(replaced)
        with self.store.reading(SYSTEM) as reader:
            current = reader._conn.execute(
                "select registration_id from current_registrations where student_id = ?", [student]
            ).fetchall()
        self.revisions[student].append(int(current[0][0]))
        self.status[student] = workflow.PENDING_COLLEGE
        self.content[student] = f"import {self.imported}"

    @rule(student=st.sampled_from(STUDENTS), stale=st.booleans(), choice=DECISIONS)
    def decide(self, student: str, stale: bool, choice: tuple[str, str]) -> None:
        revisions = self.revisions[student]
        if not revisions or (stale and len(revisions) < 2):
            return
        target = revisions[-2] if stale else revisions[-1]
        level, verdict = choice
        decision = workflow.Decision(level, verdict, "原因" if verdict == "return" else "")
        try:
            expected = None if stale else workflow.next_status(self.status[student], decision)
        except workflow.WorkflowError:
            expected = None
        try:
            outcome = reviews.decide(self.store, SYSTEM, target, decision)
        except reviews.ReviewRefused as exc:
            assert expected is None, f"refused a decision the model allows: {exc}"
            if stale:
                assert "取代" in str(exc)
            return
        assert expected is not None, "a decision the model refuses took effect"
        assert outcome.status == expected
        self.status[student] = expected

    @invariant()
    def one_current_revision_and_the_stage_agrees_with_the_history(self) -> None:
        if not hasattr(self, "store"):
            return
        with self.store.reading(SYSTEM) as reader:
            current = reader._conn.execute(
                "select student_id, registration_id, status from current_registrations"
            ).fetchall()
            stages = dict(reader._conn.execute("select student_id, stage from graduate_stages").fetchall())
            live = dict(reader._conn.execute("select student_id, stage from graduate_stages_live").fetchall())
        assert len(current) == len({sid for sid, _, _ in current})  # exactly one current revision each
        assert {sid: (rid, status) for sid, rid, status in current} == {
            s: (r[-1], self.status[s]) for s, r in self.revisions.items() if r
        }
        expected_stages = {s: self.status.get(s, "not_registered") for s in STUDENTS}
        assert stages == live == expected_stages

    @invariant()
    def no_decision_ever_applies_to_a_replaced_revision(self) -> None:
        for registration_id, count in getattr(self, "frozen", {}).items():
            assert self._reviews_of(registration_id) == count


ReviewWorkflow.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=16,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_review_workflow = pytest.mark.slow(ReviewWorkflow.TestCase)
