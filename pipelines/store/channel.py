"""The local channel to the process that owns a store file (the running dashboard).

The owner writes `<db>.owner` beside the store, readable by its user alone: its pid, the
abstract Unix socket it listens on, and a random token. A client proves it may use the store by
reading that file (it can, only as the same user) and sending the token; the owner also checks the
peer's uid (SO_PEERCRED). Messages are JSON lines. Two requests exist (pipelines/serving.py
answers them):

* `cli`: run one `dangan` command inside the owner and stream its output back;
* `lend`: close the store file until this connection closes, so that another process (a script,
  a test, a notebook using pipelines) can open it for one operation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ChannelError(RuntimeError):
    """The owner could not be reached or broke off; the message is Chinese and complete."""


@dataclass(frozen=True)
class Owner:
    pid: int
    address: str
    token: str
    who: str
    since: float


def owner_file(db: Path) -> Path:
    return db.with_name(db.name + ".owner")


def address_for(db: Path) -> str:
    """An abstract socket name (no file to leave behind), unique per store file and process."""
    digest = hashlib.sha256(str(db.resolve()).encode()).hexdigest()[:16]
    return f"\0dangan-{digest}-{os.getpid()}"


def publish(db: Path, address: str, who: str) -> Owner:
    """Write the owner file (0600, replaced atomically) for this process."""
    owner = Owner(os.getpid(), address, secrets.token_hex(16), who, time.time())
    path = owner_file(db)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(
            {
                "pid": owner.pid,
                "address": owner.address.encode("unicode_escape").decode("ascii"),
                "token": owner.token,
                "who": who,
                "since": owner.since,
            },
            out,
        )
    os.replace(tmp, path)
    return owner


def withdraw(db: Path, owner: Owner) -> None:
    """Remove the owner file if it is still this owner's."""
    found = read_owner(db, check_alive=False)
    if found is not None and found.token == owner.token:
        with contextlib.suppress(FileNotFoundError):
            owner_file(db).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_owner(db: Path, *, check_alive: bool = True, include_self: bool = False) -> Owner | None:
    """The live owner of a store file, or None (no owner file, or its process is gone)."""
    try:
        raw = json.loads(owner_file(db).read_text(encoding="utf-8"))
        owner = Owner(
            int(raw["pid"]),
            raw["address"].encode("ascii").decode("unicode_escape"),
            str(raw["token"]),
            str(raw.get("who", "")),
            float(raw.get("since", 0)),
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError, PermissionError):
        return None
    if owner.pid == os.getpid() and not include_self:
        return None  # this process itself: it uses its connection directly
    if check_alive and not _alive(owner.pid):
        return None
    return owner


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class Line:
    """JSON lines over a stream socket."""

    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.reader = conn.makefile("r", encoding="utf-8", newline="\n")

    def send(self, message: dict[str, Any]) -> None:
        self.conn.sendall((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))

    def receive(self) -> dict[str, Any] | None:
        """The next message, or None when the other side closed the connection."""
        try:
            text = self.reader.readline()
        except (OSError, ValueError):
            return None
        if not text:
            return None
        try:
            found = json.loads(text)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.reader.close()
        with contextlib.suppress(OSError):
            self.conn.close()


@contextlib.contextmanager
def connect(owner: Owner, request: dict[str, Any], timeout: float | None = None) -> Iterator[Line]:
    """A connection to the owner carrying `request` (with the token); ChannelError if it cannot
    be reached."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(owner.address)
    except OSError as exc:
        sock.close()
        raise ChannelError(f"无法连接正在运行的看板（进程 {owner.pid}）：{exc}") from None
    line = Line(sock)
    try:
        line.send({**request, "token": owner.token})
        yield line
    finally:
        line.close()


def owner_label(owner: Owner) -> str:
    return f"{owner.who}（进程 {owner.pid}）"


def holder_file(db: Path) -> Path:
    return db.with_name(db.name + ".holder")


def note_holder(db: Path, who: str) -> None:
    """Say who holds the store file now (a command that owns it for its run, or a dashboard),
    for those who wait for it."""
    with contextlib.suppress(OSError):
        fd = os.open(holder_file(db), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"pid": os.getpid(), "who": who, "since": time.time()}, out)


def read_holder(db: Path) -> str | None:
    """“命令 dangan import（进程 123，已 5 秒）”, or None if nobody alive is noted."""
    try:
        raw = json.loads(holder_file(db).read_text(encoding="utf-8"))
        pid, who, since = int(raw["pid"]), str(raw["who"]), float(raw["since"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or not _alive(pid):
        return None
    return f"{who}（进程 {pid}，已 {max(time.time() - since, 0):.0f} 秒）"
