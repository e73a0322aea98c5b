"""The owner's side of the local channel (pipelines/channel.py): the dashboard server owns the
store file, and answers on an abstract Unix socket

* `cli`: a `dangan` command run inside this process, on its connection and in its writers'
  queue, with the command's output streamed back; the command's environment (DANGAN_*) and
  password travel with it;
* `lend`: the file closed for another process until that connection closes.

Only the same user may ask: the request carries the token from the owner file (0600), and the
peer's uid is checked.
"""

from __future__ import annotations

import atexit
import contextlib
import hmac
import io
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from pipelines import store as store_module
from pipelines.store import channel, config

log = logging.getLogger(__name__)

_SERVED: dict[Path, tuple[list[channel.Owner], socket.socket]] = {}
_SERVED_LOCK = threading.Lock()
_SERVING_NAMES: dict[str, Path] = {}  # the names serve() was called with

# Commands handed over and still running. A server that stops normally (SIGTERM, its main
# ending) first stops taking new ones, then lets these finish, for at most EXIT_WAIT_S.
_RUNNING = threading.Condition()
_running = [0]
EXIT_WAIT_S = 900.0
_at_exit_registered = [False]


# --- output of the commands run here -------------------------------------------------------


class _Routed(io.TextIOBase):
    """sys.stdout / sys.stderr of a serving process: a thread running a command writes to the
    command's client, every other thread to the real stream."""

    def __init__(self, real: TextIO, which: str):
        self.real = real
        self.which = which

    def _target(self) -> Any:
        return getattr(_local, self.which, None)

    def write(self, text: str) -> int:
        target = self._target()
        if target is None:
            return self.real.write(text)
        target(text)
        return len(text)

    def flush(self) -> None:
        if self._target() is None:
            self.real.flush()

    def isatty(self) -> bool:
        return False if self._target() is not None else self.real.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def fileno(self) -> int:
        return self.real.fileno()


_local = threading.local()
_ROUTED = threading.Lock()


def _route_output() -> None:
    with _ROUTED:
        if not isinstance(sys.stdout, _Routed):
            sys.stdout = _Routed(sys.stdout, "out")
        if not isinstance(sys.stderr, _Routed):
            sys.stderr = _Routed(sys.stderr, "err")


@contextlib.contextmanager
def _output_to(line: channel.Line) -> Iterator[None]:
    lock = threading.Lock()

    def sender(key: str) -> Any:
        def send(text: str) -> None:
            with lock, contextlib.suppress(OSError):
                line.send({key: text})

        return send

    _local.out, _local.err = sender("out"), sender("err")
    try:
        yield
    finally:
        _local.out = _local.err = None


# --- serving -----------------------------------------------------------------------------


def serve(path: str | os.PathLike[str] | None, who: str = "看板") -> None:
    """Own the store file in this process and answer the channel (idempotent, and cheap when
    already serving: every dashboard run calls it). When another live dashboard owns the file,
    this one does not: it borrows the file per operation, as a script does. Ownership is
    published (`<db>.owner`) only once the file is really held."""
    if isinstance(path, str) and path in _SERVING_NAMES:
        return
    db = config.db_path(path).resolve()
    if channel.read_owner(db) is not None:
        return  # another dashboard owns it
    with _SERVED_LOCK:
        if isinstance(path, str):
            _SERVING_NAMES[path] = db
        if db in _SERVED:
            return
        root = store_module.own(db, who)
        _route_output()
        address = channel.address_for(db)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen(64)
        published: list[channel.Owner] = []

        def on_open() -> None:
            if not published:
                published.append(channel.publish(db, address, who))
                threading.Thread(
                    target=_accept, args=(db, published[0], listener), name="dangan-channel", daemon=True
                ).start()

        def step_aside() -> None:
            log.warning("another dashboard owns %s: this one borrows it per operation", db)
            stop(db)

        root.on_open, root.step_aside, root.yield_to_owner = on_open, step_aside, True
        _SERVED[db] = (published, listener)
        if not _at_exit_registered[0]:
            atexit.register(_finish_commands)
            _at_exit_registered[0] = True


def _finish_commands() -> None:
    """At a normal exit: take no more commands (the owner files go, so a new command runs on its
    own once this process has let go of the file), and let the running ones finish."""
    for db in list(_SERVED):
        _stop_answering(db)
    with _RUNNING:
        if _running[0]:
            log.warning("the dashboard is stopping: finishing %d command(s) handed to it first", _running[0])
        _RUNNING.wait_for(lambda: _running[0] == 0, timeout=EXIT_WAIT_S)


def stop(path: str | os.PathLike[str] | None) -> None:
    """Stop answering and close the file (tests; a server's exit does the same by dying)."""
    db = config.db_path(path).resolve()
    _stop_answering(db)
    with _SERVED_LOCK:
        _SERVED.pop(db, None)
        for name in [n for n, d in _SERVING_NAMES.items() if d == db]:
            del _SERVING_NAMES[name]
    store_module.disown(db)


def _stop_answering(db: Path) -> None:
    """Withdraw the owner file and close the socket: no new requests (running ones go on)."""
    with _SERVED_LOCK:
        found = _SERVED.get(db)
    if found is not None:
        published, listener = found
        for owner in published:
            channel.withdraw(db, owner)
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()


def stop_all() -> None:
    for db in list(_SERVED):
        stop(db)


def _accept(db: Path, owner: channel.Owner, listener: socket.socket) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return  # stopped
        threading.Thread(target=_answer, args=(db, owner, conn), name="dangan-request", daemon=True).start()


def _answer(db: Path, owner: channel.Owner, conn: socket.socket) -> None:
    line = channel.Line(conn)
    try:
        request = line.receive()
        if (
            request is None
            or channel.peer_uid(conn) != os.getuid()
            or not hmac.compare_digest(str(request.get("token", "")), owner.token)
        ):
            line.send({"error": "未通过身份验证"})
            return
        if request.get("op") == "lend":
            _lend(db, line, float(request.get("wait") or config.lock_wait_seconds()))
        elif request.get("op") == "cli":
            _run_command(line, request)
        else:
            line.send({"error": "未知的请求"})
    except Exception:  # a broken request must not take the server down
        log.exception("dangan channel request failed")
    finally:
        line.close()


def _lend(db: Path, line: channel.Line, wait: float) -> None:
    root = store_module.owner_of(db)
    if root is None:
        line.send({"ok": True})  # nothing open here any more
        return
    if not root.lend(wait):
        line.send({"ok": False, "error": "看板上的操作长时间未结束"})
        return
    try:
        line.send({"ok": True})
        while line.receive() is not None:  # until the borrower closes the connection
            pass
    finally:
        root.give_back()


def _run_command(line: channel.Line, request: dict[str, Any]) -> None:
    from pipelines import cli  # the command line runs here; it does not import this module

    argv = [str(a) for a in request.get("argv", [])]
    environment = {str(k): str(v) for k, v in (request.get("env") or {}).items()}

    def ask(prompt: str, stdin: bool) -> str:
        line.send({"ask": prompt, "stdin": stdin})
        answer = line.receive()
        if answer is None or "answer" not in answer:
            raise KeyboardInterrupt  # the caller went away
        return str(answer["answer"])

    with _RUNNING:
        _running[0] += 1
    try:
        with _output_to(line), config.environment(environment):
            code = cli.run_here(argv, ask)
        line.send({"exit": code})
    finally:
        with _RUNNING:
            _running[0] -= 1
            _RUNNING.notify_all()
