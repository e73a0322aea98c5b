"""Group commit (issue #17): small writes that queue behind one another in the process that owns
the store run in one transaction. Each keeps its own actor, scope, audit row and outcome; a
failing one leaves the others as if they had never been grouped; a later write sees what an
earlier one of its group changed; and the stages and counts after the group are what a full
refill gives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines import reviews, submissions
from pipelines import store as store_module
from pipelines.rules import workflow
from pipelines.store import SYSTEM, Store, Writer
from tests.conftest import SUBMISSION_FORM, table
from tests.test_reviews import (
    APPROVE_COLLEGE,
    DEAN_BUSINESS,
    DEAN_FASHION,
    _stages_fresh_and_equal_live,
    _student,
)
from tests.test_reviews import pending as pending  # noqa: PLC0414 - the fixture, shared


class _Queue:
    """Writes started one after another while a first, slow write holds the turn, so that they
    queue in a known order; released together."""

    def __init__(self, owned: Store, root: Any):
        self.owned, self.root = owned, root
        self.release = threading.Event()
        self.outcomes: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []
        inside = threading.Event()

        def hold(writer: Writer) -> None:
            writer.touched_students = []
            inside.set()
            assert self.release.wait(30)

        self._start("hold", lambda: owned.transaction(SYSTEM, "hold", hold))
        assert inside.wait(30)

    def _start(self, name: str, call: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                self.outcomes[name] = call()
            except Exception as exc:  # noqa: BLE001 - the outcome the test reads
                self.outcomes[name] = exc

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()

    def add(self, name: str, call: Callable[[], Any]) -> None:
        queued = len(self.root.turns._queue)
        self._start(name, call)
        deadline = time.monotonic() + 30
        while len(self.root.turns._queue) <= queued and time.monotonic() < deadline:
            time.sleep(0.002)
        assert len(self.root.turns._queue) == queued + 1, f"{name} did not queue"

    def run(self) -> dict[str, Any]:
        self.root.turns.groups.clear()
        self.release.set()
        for thread in self.threads:
            thread.join(60)
        return self.outcomes


def _decide(owned: Store, actor: store_module.Actor, registration_id: int) -> Callable[[], Any]:
    return lambda: reviews.decide(owned, actor, registration_id, APPROVE_COLLEGE)


def _dean(i: int) -> store_module.Actor:
    return DEAN_FASHION if i % 2 == 0 else DEAN_BUSINESS


def test_decisions_queued_together_commit_once_each_in_its_own_scope_and_audited(
    store: Store, pending: dict[str, int]
) -> None:
    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        for i in range(6):
            queue.add(f"d{i}", _decide(owned, _dean(i), pending[_student(i)]))
        # a dean of the fashion college reaching a business student's registration (odd)
        queue.add("out_of_scope", _decide(owned, DEAN_FASHION, pending[_student(1)]))
        outcomes = queue.run()
        assert dict(root.turns.groups) == {7: 1}, "the seven queued decisions ran as one group"
        for i in range(6):
            assert isinstance(outcomes[f"d{i}"], reviews.Outcome), outcomes[f"d{i}"]
            assert outcomes[f"d{i}"].status == workflow.PENDING_SCHOOL
        assert isinstance(outcomes["out_of_scope"], reviews.ReviewRefused)
        assert "不在你的审核范围内" in str(outcomes["out_of_scope"])
        audit = table(
            owned,
            "select actor, detail, write_token from audit_log where action = 'review:college:approve' "
            "order by audit_id",
        )
        assert [a for a, _d, _t in audit] == [_dean(i).name for i in range(6)] + [DEAN_FASHION.name]
        assert len({t for _a, _d, t in audit}) == 7, "every write has its own token"
        assert [json.loads(d)["applied"] for _a, d, _t in audit][-1] == []
        assert table(owned, "select count(*) from reviews") == [(6,)]
        _stages_fresh_and_equal_live(owned)


def test_a_failing_write_in_a_group_fails_alone_and_the_others_land(store: Store, pending: dict[str, int]) -> None:
    def boom(writer: Writer) -> None:
        writer.touched_students = []
        writer.set_setting("half_written", "x")
        raise ValueError("坏的写入")

    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        queue.add("first", _decide(owned, DEAN_FASHION, pending[_student(0)]))
        queue.add("boom", lambda: owned.transaction(SYSTEM, "boom", boom, combine=True))
        queue.add("last", _decide(owned, DEAN_FASHION, pending[_student(2)]))
        outcomes = queue.run()
        assert dict(root.turns.groups) == {3: 1}
        assert isinstance(outcomes["boom"], ValueError) and str(outcomes["boom"]) == "坏的写入"
        assert outcomes["first"].status == outcomes["last"].status == workflow.PENDING_SCHOOL
        assert table(owned, "select count(*) from settings where key = 'half_written'") == [(0,)]
        assert (
            table(
                owned,
                "select action from audit_log where action in ('boom', 'review:college:approve') order by audit_id",
            )
            == [("review:college:approve",)] * 2
        )
        _stages_fresh_and_equal_live(owned)


def test_a_later_write_of_a_group_reads_the_stages_an_earlier_one_changed(
    store: Store, pending: dict[str, int]
) -> None:
    sid = _student(0)

    def peek(writer: Writer) -> str:
        writer.touched_students = []
        with writer.stages_for([sid]):
            found = writer._raw().execute("select status from graduate_stages where student_id = ?", [sid]).fetchall()
        return str(found[0][0])

    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        queue.add("decide", _decide(owned, DEAN_FASHION, pending[sid]))
        queue.add("peek", lambda: owned.transaction(SYSTEM, "peek", peek, combine=True))
        outcomes = queue.run()
        assert dict(root.turns.groups) == {2: 1}
        assert outcomes["peek"] == workflow.PENDING_SCHOOL, "the materialised row was not yet refreshed"


def test_a_write_that_must_run_alone_ends_a_group_and_arrival_order_holds(
    store: Store, pending: dict[str, int]
) -> None:
    def alone(writer: Writer) -> None:
        writer.touched_students = []
        writer.set_setting("alone", "x")

    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        queue.add("a", _decide(owned, DEAN_FASHION, pending[_student(0)]))
        queue.add("b", _decide(owned, DEAN_FASHION, pending[_student(2)]))
        queue.add("alone", lambda: owned.transaction(SYSTEM, "alone", alone))
        queue.add("c", _decide(owned, DEAN_FASHION, pending[_student(4)]))
        queue.run()
        assert dict(root.turns.groups) == {2: 1, 1: 1}, "a and b together; alone by itself; then c"
        order = table(
            owned,
            "select action, target from audit_log where action in ('alone', 'review:college:approve') "
            "order by audit_id",
        )
        assert order == [
            ("review:college:approve", str(pending[_student(0)])),
            ("review:college:approve", str(pending[_student(2)])),
            ("alone", None),
            ("review:college:approve", str(pending[_student(4)])),
        ]


@pytest.mark.slow
def test_twenty_threads_deciding_one_revision_in_groups_apply_exactly_one(
    store: Store, pending: dict[str, int]
) -> None:
    registration_id = pending[_student(0)]
    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        for n in range(20):
            queue.add(f"t{n}", _decide(owned, DEAN_FASHION, registration_id))
        outcomes = queue.run()
        assert dict(root.turns.groups) == {20: 1}
        applied = [o for o in outcomes.values() if isinstance(o, reviews.Outcome)]
        refused = [o for o in outcomes.values() if isinstance(o, reviews.ReviewRefused)]
        assert len(applied) == 1 and len(refused) == 19
        assert all("你的审核未生效" in str(r) for r in refused), refused[0]
        assert table(owned, "select count(*) from reviews where registration_id = ?", [registration_id]) == [(1,)]
        _stages_fresh_and_equal_live(owned)


def test_the_audit_of_a_view_waits_in_no_queue_longer_than_the_writes_ahead(store: Store, tmp_path: Path) -> None:
    """Audit records (a reveal, an export) combine too: ten queued behind a slow write land
    with it gone, in one commit."""
    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        for n in range(10):
            queue.add(f"r{n}", lambda n=n: owned.record(SYSTEM, "export", f"file-{n}", {"n": n}))
        queue.run()
        assert dict(root.turns.groups) == {10: 1}
        assert table(owned, "select target from audit_log where action = 'export' order by audit_id") == [
            (f"file-{n}",) for n in range(10)
        ]


def test_a_resubmission_queued_behind_the_return_it_answers_lands_in_the_same_group(
    store: Store, pending: dict[str, int]
) -> None:
    """A graduate's submission combines with other writes too, and runs after the ones ahead of
    it: queued behind the dean's return, it sees the return (a resubmission while 待院审核
    would be refused) and its new revision's stages are materialised after the group."""
    sid = _student(0)
    back = workflow.Decision("college", "return", "邮编与地址不符，请核对")
    with store_module.owning(store.path, "test") as root:
        owned = Store(store.path, today=store.explicit_today, lock_wait=60)
        queue = _Queue(owned, root)
        queue.add("return", lambda: reviews.decide(owned, DEAN_FASHION, pending[sid], back))
        queue.add("resubmit", lambda: submissions.submit(owned, SYSTEM, sid, SUBMISSION_FORM))
        queue.add("other", _decide(owned, DEAN_FASHION, pending[_student(2)]))
        outcomes = queue.run()
        assert dict(root.turns.groups) == {3: 1}
        assert outcomes["return"].status == workflow.RETURNED
        assert isinstance(outcomes["resubmit"], int), outcomes["resubmit"]
        assert table(owned, "select revision_no, status from current_registrations where student_id = ?", [sid]) == [
            (2, workflow.PENDING_COLLEGE)
        ]
        _stages_fresh_and_equal_live(owned)
