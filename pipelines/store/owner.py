"""The process that owns the store: one read-write connection for its lifetime, a cursor per
operation, lending the file to another process for one operation."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from pipelines.store import channel, config
from pipelines.store.base import StoreBusy, WaitCallback
from pipelines.store.locks import _connect, _flock, _keep_private, _Turns
from pipelines.store.versions import Versions


class _Root:
    """This process holds the store file read-write: one connection, a cursor per operation."""

    def __init__(self, path: Path, lock_path: Path, who: str):
        self.path = path
        self.lock_path = lock_path
        self.who = who
        self.turns = _Turns()
        self.versions = Versions()
        self._cond = threading.Condition()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._fd: int | None = None
        self._busy = 0
        self._lent = 0
        self.yield_to_owner = False  # a command gives way when a dashboard appears meanwhile
        # A dashboard that finds another dashboard owning the file steps aside (`step_aside`,
        # set by pipelines/serving.py) and works like a script; `on_open` publishes ownership
        # once the file is really held.
        self.step_aside: Callable[[], None] | None = None
        self.on_open: Callable[[], None] | None = None

    def _open(self, deadline: float, on_wait: WaitCallback | None) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _flock(fd, True, deadline, on_wait, db=self.path, yield_to_owner=self.yield_to_owner)
                self._conn = _connect(self.path, read_only=False, deadline=deadline, on_wait=on_wait)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            channel.note_holder(self.path, self.who)
            if self.on_open is not None:
                self.on_open()
            self.versions.bump(None)
            _keep_private(self.path)
        return self._conn

    @contextlib.contextmanager
    def cursor(self, deadline: float, on_wait: WaitCallback | None) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._cond:
            told = False
            while self._lent:
                if not told and on_wait is not None:
                    on_wait("数据库正借给另一个进程做一次操作，等待其完成……")
                    told = True
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(
                        "等待数据库超时：另一个进程借用数据库的时间过长。请稍后重试，"
                        f"或设置 {config.ENV_LOCK_WAIT} 延长等待时间。"
                    )
                self._cond.wait(left)
            conn = self._open(deadline, on_wait)
            self._busy += 1
        cursor = conn.cursor()
        try:
            yield cursor
        finally:
            with contextlib.suppress(duckdb.Error):
                cursor.close()
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(duckdb.Error):
                self._conn.close()
            self._conn = None
            _keep_private(self.path)
        if self._fd is not None:
            os.close(self._fd)  # releases the lock file
            self._fd = None

    def lend(self, timeout: float) -> bool:
        """Close the file for another process once the operations in flight have finished
        (new ones wait until `give_back`); False if they did not finish within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._lent += 1
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._lent -= 1
                    self._cond.notify_all()
                    return False
                self._cond.wait(left)
            self._close()
            return True

    def give_back(self) -> None:
        with self._cond:
            self._lent -= 1
            self.versions.bump(None)  # the borrower may have written anything
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            while self._busy:
                self._cond.wait(1.0)
            self._close()


# Every page run and every write has a cursor of its own on the owner's one connection, and
# their calls into DuckDB run at the same time, as DuckDB's model has it. (They were taken one at
# a time for a while, after a stall under load: every thread waited for the GIL. gdb later showed
# the cause, a polars Python function on polars' pool beside a to_pandas holding the GIL, fixed in
# `text.mapped`. Without the turns, 20 sessions at 100k served 10.9 views/s against 9.8, page p95
# 3.4-3.8 s against 4.0-8.6 s, and 50 sessions after four other levels ran with 0 errors.)


_ROOTS: dict[Path, _Root] = {}
_ROOTS_LOCK = threading.Lock()


def own(path: str | os.PathLike[str] | None, who: str) -> _Root:
    """Make this process the owner of a store file (opened at its first use)."""
    resolved = config.db_path(path).resolve()
    with _ROOTS_LOCK:
        root = _ROOTS.get(resolved)
        if root is None:
            root = _ROOTS[resolved] = _Root(resolved, resolved.with_name(resolved.name + ".lock"), who)
        return root


def owner_of(path: Path) -> _Root | None:
    return _ROOTS.get(path)


def disown(path: str | os.PathLike[str] | None) -> None:
    """Close the file this process owns (waiting for the operations in flight)."""
    resolved = config.db_path(path).resolve()
    with _ROOTS_LOCK:
        root = _ROOTS.pop(resolved, None)
    if root is not None:
        root.close()


def disown_all() -> None:
    for path in list(_ROOTS):
        disown(path)


@contextlib.contextmanager
def owning(path: str | os.PathLike[str] | None, who: str) -> Iterator[_Root]:
    """Own the store while inside (a command's run), unless this process owns it already."""
    resolved = config.db_path(path).resolve()
    if resolved in _ROOTS:
        yield _ROOTS[resolved]
        return
    root = own(resolved, who)
    try:
        yield root
    finally:
        disown(resolved)


@contextlib.contextmanager
def _borrowed(path: Path, deadline: float, on_wait: WaitCallback | None) -> Iterator[None]:
    """If another process owns the store (the dashboard), ask it to lend the file for one
    operation; the loan ends when this connection closes, whatever happens to this process."""
    owner = channel.read_owner(path)
    if owner is None:
        yield
        return
    if on_wait is not None:
        on_wait(f"看板 {channel.owner_label(owner)} 正在使用数据库，请它暂时借出……")
    try:
        with channel.connect(
            owner,
            {"op": "lend", "wait": max(deadline - time.monotonic(), 0.1)},
            timeout=max(deadline - time.monotonic(), 0.1),
        ) as line:
            answer = line.receive()
            if answer is None or not answer.get("ok"):
                raise StoreBusy(
                    f"看板 {channel.owner_label(owner)} 没能借出数据库："
                    f"{(answer or {}).get('error', '连接中断')}。请稍后重试。"
                )
            line.conn.settimeout(None)
            yield
    except channel.ChannelError:
        yield  # the owner is gone (its lock went with it): open the file as usual
