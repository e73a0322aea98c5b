"""Who may hold the file: the lock file beside it for processes that own nothing, the turnstile
writers queue at in arrival order, and the opening of the file itself."""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from pipelines.store import channel, config
from pipelines.store.base import OwnerAppeared, StoreBusy, StoreError, WaitCallback

# --- locks -------------------------------------------------------------------------------


def _flock(
    fd: int,
    exclusive: bool,
    deadline: float,
    on_wait: WaitCallback | None,
    db: Path | None = None,
    yield_to_owner: bool = False,
) -> None:
    """Take a lock file's lock, waiting (and saying for whom) until the deadline; with
    `yield_to_owner`, give way (OwnerAppeared) when a dashboard begins to own `db` meanwhile."""
    op = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    told = False
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            owner = channel.read_owner(db) if db is not None and yield_to_owner else None
            if owner is not None:
                raise OwnerAppeared(f"看板已启动并接管数据库：{channel.owner_label(owner)}") from None
            if not told and on_wait is not None:
                holder = channel.read_holder(db) if db is not None else None
                on_wait(
                    f"数据库正被{holder or '另一个 dangan 进程（另一条命令或脚本）'}使用，等待其完成……"
                    if exclusive
                    else "数据库正在写入，等待写入完成……"
                )
                told = True
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    "等待数据库超时：另一个进程长时间占用数据库。请稍后重试，"
                    f"或设置 {config.ENV_LOCK_WAIT} 延长等待时间。"
                ) from None
            time.sleep(0.02)


@contextlib.contextmanager
def _held(path: Path, exclusive: bool, deadline: float, on_wait: WaitCallback | None) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _flock(fd, exclusive, deadline, on_wait, db=path.with_name(path.name.rsplit(".", 1)[0]))
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# --- the owner of the file ---------------------------------------------------------------


class _Entry:
    """One write waiting for its turn. A combinable one (`payload` set) may be run by the writer
    ahead of it, in the same transaction (`_Turns.run_combined`)."""

    __slots__ = ("who", "payload", "taken", "finished", "outcome")

    def __init__(self, who: str, payload: Any = None):
        self.who = who
        self.payload = payload
        self.taken = False  # a combiner took it from the queue and runs it
        self.finished = False
        self.outcome: tuple[Any, BaseException | None] | None = None  # (result, error)


# At most this many queued writes run as one transaction (a group commit).
COMBINE_MAX = 32


class _Turns:
    """Writers of one process, served in arrival order: each waits only for the writes queued
    ahead of it, and is told who writes now.

    Small writes that say they may be combined (a review decision, an audit record) and queue
    one behind another are run together by the first of them: one transaction, one stage
    refresh, one COMMIT for all (a group commit). Nobody is overtaken: a group is a run of
    consecutive arrivals, and it stops at the first write that must run alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[_Entry] = collections.deque()
        self._holder: tuple[str, float] | None = None
        self.groups = collections.Counter[int]()  # group size -> how many ran (benchmarks print it)

    def _who(self) -> str:
        if self._holder is None:
            return "另一个写入"
        name, since = self._holder
        return f"{name}（已 {time.monotonic() - since:.1f} 秒）"

    def _wait_for_turn(self, me: _Entry, deadline: float, on_wait: WaitCallback | None) -> bool:
        """Queue `me` and wait (holding the condition) until it is first and nobody writes:
        True. False when a combiner took it and has finished running it."""
        self._queue.append(me)
        try:
            if (self._queue[0] is not me or self._holder is not None) and on_wait is not None:
                ahead = self._queue.index(me) + (self._holder is not None)
                on_wait(f"数据库正在写入：{self._who()}；排在你前面的写入共 {ahead} 个，按到达顺序依次进行……")
            while not me.taken and (self._queue[0] is not me or self._holder is not None):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(
                        f"等待数据库超时：{self._who()} 正在写入，排队的写入共 {len(self._queue)} 个。"
                        f"请稍后重试，或设置 {config.ENV_LOCK_WAIT} 延长等待时间。"
                    )
                self._cond.wait(left)
        except BaseException:
            self._queue.remove(me)
            self._cond.notify_all()
            raise
        if me.taken:  # running inside another writer's transaction: it cannot be withdrawn now
            while not me.finished:
                self._cond.wait()
            return False
        self._queue.popleft()
        self._holder = (me.who, time.monotonic())
        return True

    def _release(self, group: list[_Entry]) -> None:
        with self._cond:
            for entry in group:
                entry.finished = True
            self._holder = None
            self._cond.notify_all()

    @contextlib.contextmanager
    def turn(self, who: str, deadline: float, on_wait: WaitCallback | None) -> Iterator[None]:
        me = _Entry(who)
        with self._cond:
            self._wait_for_turn(me, deadline, on_wait)
        try:
            yield
        finally:
            self._release([me])

    def run_combined(
        self, me: _Entry, deadline: float, on_wait: WaitCallback | None, run: Callable[[list[_Entry]], None]
    ) -> None:
        """Wait for `me`'s turn, then `run` it together with the combinable writes queued right
        behind it; or return once the writer ahead has run `me` in its group. `run` sets every
        entry's outcome."""
        with self._cond:
            if not self._wait_for_turn(me, deadline, on_wait):
                return
            group = [me]
            while self._queue and self._queue[0].payload is not None and len(group) < COMBINE_MAX:
                entry = self._queue.popleft()
                entry.taken = True
                group.append(entry)
            self.groups[len(group)] += 1
        try:
            run(group)
        except BaseException as exc:
            for entry in group:
                if entry.outcome is None:
                    entry.outcome = (None, exc)
            raise
        finally:
            self._release(group)


def _keep_private(path: Path) -> None:
    """The store holds personal data: its files are the owner's alone (0600), whatever the
    umask that created them (DuckDB creates the file and its WAL with the default)."""
    for found in (
        path,
        path.with_name(path.name + ".wal"),
        path.with_name(path.name + ".lock"),
        path.with_name(path.name + ".turnstile"),
    ):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if found.stat().st_mode & 0o077:
                os.chmod(found, 0o600)


def _connect(
    path: Path, *, read_only: bool, deadline: float, on_wait: WaitCallback | None
) -> duckdb.DuckDBPyConnection:
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"无法打开数据库 {path}：{exc}") from None
            # Someone outside dangan (a duckdb shell, a notebook) holds the file.
            if not told and on_wait is not None:
                on_wait(f"数据库文件 {path.name} 被其他程序占用，等待其释放……")
                told = True
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"数据库文件 {path} 被其他程序占用（不是 dangan 的看板或命令）。请关闭打开它的程序后重试。"
                ) from None
            time.sleep(0.1)
