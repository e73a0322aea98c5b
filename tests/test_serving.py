"""The store under one owner (pipelines/serving.py, channel.py, store.py `own`): a `dangan`
command handed to the running server, another process borrowing the file, writers served in
arrival order, caches keyed by what changed, and a server killed in the middle of a command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from bench import files
from pipelines import accounts, imports, serving
from pipelines import store as store_module
from pipelines.store import SYSTEM, Store, StoreBusy, channel, locks
from tests.conftest import ROSTER_HEADER, data_snapshot, roster_row, table, write_csv

ROOT = Path(__file__).resolve().parent.parent


def dangan(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}, **(env or {})},
    )


def serve(db: Path) -> Store:
    """Serve the store from this process, as the dashboard does, and open it (ownership is
    published once the file is held)."""
    serving.serve(db)
    owned = Store(db, today="2024-06-10")
    owned.ensure_ready()
    return owned


def _file_is_held(db: Path) -> bool:
    """Whether another process is locked out of the file (DuckDB's own lock)."""
    probe = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return probe.returncode != 0 and "lock" in probe.stderr.lower()


def test_a_command_runs_inside_the_server_that_owns_the_store(store: Store, tmp_path: Path) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    serve(store.path)
    assert _file_is_held(store.path), "the owner holds the file: a command could not open it itself"

    # a relative path, from the command's own working directory
    work = tmp_path / "elsewhere"
    work.mkdir()
    write_csv(work / "more.csv", ROSTER_HEADER, [roster_row(1), roster_row(2)])
    done = dangan("--db", str(store.path), "--today", "2024-06-10", "import", "roster", "more.csv", cwd=work)
    assert done.returncode == 0, done.stderr
    assert "新增 2" in done.stdout or "2" in done.stdout
    assert table(store, "select count(*) from graduates") == [(3,)]

    # a refusal keeps its exit code and its Chinese message, on stderr
    refused = dangan("--db", str(store.path), "import", "roster", str(work / "missing.csv"))
    assert refused.returncode == 1 and "missing.csv" in refused.stderr and refused.stdout == ""

    # the command's environment travels with it: DANGAN_PASSWORD for --as, here a wrong one
    accounts.add_user(store, SYSTEM, "office", "admin", "Str0ng-passphrase!", must_change_password=False)
    wrong = dangan("--db", str(store.path), "--as", "office", "stats", env={"DANGAN_PASSWORD": "nope"})
    assert wrong.returncode == 1 and accounts.REFUSED in wrong.stderr
    right = dangan(
        "--db",
        str(store.path),
        "--as",
        "office",
        "stats",
        "--format",
        "json",
        env={"DANGAN_PASSWORD": "Str0ng-passphrase!"},
    )
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)


def test_a_password_prompt_is_answered_at_the_commands_own_terminal(store: Store) -> None:
    """`user add --password-stdin` read inside the server: the line comes from the caller's stdin."""
    serve(store.path)
    done = dangan(
        "--db",
        str(store.path),
        "user",
        "add",
        "--username",
        "office2",
        "--role",
        "admin",
        "--password-stdin",
        "--no-change-required",
        stdin="An0ther-passphrase!\n",
    )
    assert done.returncode == 0, done.stderr
    assert accounts.login(store, "office2", "An0ther-passphrase!").username == "office2"


def test_a_script_borrows_the_file_from_the_owner_and_the_owner_sees_its_write(store: Store, tmp_path: Path) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    owned = serve(store.path)
    with owned.reading(SYSTEM) as reader:
        assert reader._conn.execute("select count(*) from graduates").fetchall() == [(1,)]
    key = owned.version(["graduates"])
    script = (
        "import sys; from pipelines.store import Store, SYSTEM\n"
        "from pipelines import imports\n"
        f"s = Store({str(store.path)!r}, today='2024-06-10', lock_wait=30)\n"
        f"imports.import_file(s, SYSTEM, 'roster', {str(write_csv(tmp_path / 'r2.csv', ROSTER_HEADER, [roster_row(0), roster_row(1)]))!r})\n"
        "with s.reading(SYSTEM) as r: print(r._conn.execute('select count(*) from graduates').fetchall()[0][0])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert owned.version(["graduates"]) != key, "after a loan every cached result is forgotten"
    with owned.reading(SYSTEM) as reader:
        assert reader._conn.execute("select count(*) from graduates").fetchall() == [(2,)]


def test_the_channel_refuses_a_caller_without_the_token(store: Store, tmp_path: Path) -> None:
    serve(store.path)
    owner = channel.read_owner(store.path, include_self=True)
    assert owner is not None and oct(channel.owner_file(store.path).stat().st_mode & 0o777) == "0o600"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(owner.address)
    line = channel.Line(sock)
    line.send(
        {
            "op": "cli",
            "argv": ["--db", str(store.path), "campaign", "set", "--cohort", "2030", "--school", "x"],
            "token": "0" * 32,
        }
    )
    assert line.receive() == {"error": "未通过身份验证"}
    line.close()
    assert table(store, "select count(*) from campaigns where cohort = 2030") == [(0,)]


def test_writers_are_served_in_arrival_order_and_a_late_one_says_who_writes() -> None:
    turns = locks._Turns()
    order: list[int] = []
    told: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def write(n: int) -> None:
        with turns.turn(f"writer-{n}", time.monotonic() + 30, told.append if n == 9 else None):
            if n == 0:
                first_in.set()
                release.wait(30)
            order.append(n)

    threads = [threading.Thread(target=write, args=(0,))]
    threads[0].start()
    assert first_in.wait(10)
    for n in range(1, 10):  # each arrives after the one before is queued
        threads.append(threading.Thread(target=write, args=(n,)))
        threads[-1].start()
        deadline = time.monotonic() + 10
        while len(turns._queue) < n and time.monotonic() < deadline:
            time.sleep(0.005)
    release.set()
    for thread in threads:
        thread.join(30)
    assert order == list(range(10))
    assert told and "writer-0" in told[0] and "9 个" in told[0]


def test_a_writer_waiting_too_long_gives_up_and_leaves_the_queue() -> None:
    turns = locks._Turns()
    inside = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with turns.turn("导入", time.monotonic() + 30, None):
            inside.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    with pytest.raises(StoreBusy, match="导入"), turns.turn("late", time.monotonic() + 0.2, None):
        pass
    assert len(turns._queue) == 0
    done.set()
    holder.join(10)
    with turns.turn("next", time.monotonic() + 5, None):  # the queue still works
        pass


def test_ten_owners_threads_deciding_at_once_lose_and_double_nothing(store: Store, tmp_path: Path) -> None:
    """Ten writers on one owner's connection, each with its own cursor: every write lands once."""
    serving.serve(store.path)
    owned = Store(store.path, lock_wait=60)
    owned.ensure_ready()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                owned.transaction(
                    SYSTEM, "race", lambda w, k=f"race_{n}_{i}": w.set_setting(k, "x"), refresh_stages=False
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert table(store, "select count(*) from settings where key like 'race_%'") == [(50,)]
    assert table(store, "select count(*), count(distinct write_token) from audit_log where action = 'race'") == [
        (50, 50)
    ]


def test_a_login_and_an_audit_row_leave_the_statistics_cached(store: Store, tmp_path: Path) -> None:
    from pipelines.store import sqlfiles

    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    accounts.add_user(store, SYSTEM, "office", "admin", "Str0ng-passphrase!", must_change_password=False)
    serving.serve(store.path)
    owned = Store(store.path)
    owned.ensure_ready()  # opened: the epoch moves once, when the owner opens the file
    stats = sqlfiles.reads("stats_by")
    assert "graduate_stage_cache" in stats and "users" not in stats and "audit_log" not in stats
    key = owned.version(stats)
    accounts.login(owned, "office", "Str0ng-passphrase!")
    owned.record(SYSTEM, "view:unmasked", "0024000000", {"fields": ["phone"]})
    assert owned.version(stats) == key
    assert owned.version(sqlfiles.reads("user_session")) != owned.version([])
    imports.import_file(owned, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", ROSTER_HEADER, [roster_row(1)]))
    assert owned.version(stats) != key


def _import_handed_to_a_server(
    store: Store, registrations: Path
) -> tuple[subprocess.Popen[str], subprocess.Popen[str]]:
    """A process serving the store (SIGTERM ends it normally) and `dangan import` handed to it,
    returned once the server has begun the command (its first progress line)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time; from pipelines import serving; "
            "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
            f"serving.serve({str(store.path)!r}); from pipelines.store import Store; Store({str(store.path)!r}).ensure_ready(); "
            "print('ready', flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    command = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "--db",
            str(store.path),
            "--today",
            "2024-06-10",
            "import",
            "registrations",
            str(registrations),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")},
    )
    assert command.stderr is not None
    assert command.stderr.readline(), "the command printed nothing"
    return server, command


def test_killing_the_server_in_the_middle_of_a_command_leaves_the_store_before_or_after(
    store: Store, tmp_path: Path
) -> None:
    roster = files.roster_frame(20_000)
    imports.import_file(store, SYSTEM, "roster", files.write(roster, tmp_path / "roster.csv"))
    registrations = files.write(files.registration_frame(roster), tmp_path / "registrations.csv")
    before = data_snapshot(store)
    store_module.disown_all()
    server, command = _import_handed_to_a_server(store, registrations)
    try:
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        _out, err = command.communicate(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
    assert command.returncode == 1
    assert "看板" in err and "停止" in err and "之前或之后" in err
    snapshot = data_snapshot(Store(store.path, today="2024-06-10"))
    assert snapshot == before or len(snapshot["registrations"]) == 20_000
    # and the store works again for a command run on its own
    again = dangan("--db", str(store.path), "--today", "2024-06-10", "stats", "--by", "school", "--format", "json")
    assert again.returncode == 0, again.stderr


def test_a_server_that_stops_normally_finishes_the_command_it_is_running_first(store: Store, tmp_path: Path) -> None:
    """A dashboard stopped (SIGTERM, or its main simply ending) while a handed-over command runs:
    the command finishes and says so; only a command arriving after the stop began runs on its
    own. Found in CI: a dashboard ending while an import ran in it cut the import off."""
    roster = files.roster_frame(20_000)
    imports.import_file(store, SYSTEM, "roster", files.write(roster, tmp_path / "roster.csv"))
    registrations = files.write(files.registration_frame(roster), tmp_path / "registrations.csv")
    store_module.disown_all()
    server, command = _import_handed_to_a_server(store, registrations)
    try:
        server.send_signal(signal.SIGTERM)
        out, err = command.communicate(timeout=120)
        assert server.wait(120) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert command.returncode == 0, err
    assert "停止" not in err
    assert table(Store(store.path, today="2024-06-10"), "select count(*) from registrations") == [(20_000,)]


def test_a_command_started_with_no_server_owns_the_file_for_its_run(store: Store, tmp_path: Path) -> None:
    """No server: the command opens the file once for its whole run (not once per query)."""
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    store_module.disown_all()
    opened: list[str] = []
    real = duckdb.connect

    def counting(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        opened.append(str(args[0]) if args else "")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    from pipelines import cli

    duckdb.connect = counting  # type: ignore[assignment]
    try:
        code = cli.main(["--db", str(store.path), "--today", "2024-06-10", "stats", "--by", "college"])
    finally:
        duckdb.connect = real  # type: ignore[assignment]
    assert code == 0
    assert opened.count(str(store.path)) == 1, opened


def test_a_command_waiting_for_another_says_who_holds_the_store_and_gives_up_cleanly(store: Store) -> None:
    """No server: one command owns the store for its run; another waits, names it, and after
    DANGAN_LOCK_WAIT gives up having written nothing."""
    before = data_snapshot(store)
    with store_module.owning(store.path, "命令 dangan import"):
        Store(store.path).ensure_ready()  # opened: the file and its lock are held
        done = dangan(
            "--db",
            str(store.path),
            "campaign",
            "set",
            "--cohort",
            "2031",
            "--school",
            "某学院",
            env={"DANGAN_LOCK_WAIT": "1.5"},
        )
    assert done.returncode == 1
    assert f"命令 dangan import（进程 {os.getpid()}" in done.stderr
    assert "等待数据库超时" in done.stderr
    assert data_snapshot(store) == before


def test_a_decision_in_one_college_keeps_another_colleges_numbers_cached(store: Store, tmp_path: Path) -> None:
    from pipelines import reviews
    from pipelines.rules import workflow
    from pipelines.store import sqlfiles
    from tests.conftest import REGISTRATION_HEADER, registration_row

    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(4)])
    )
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(4)]),
    )
    serving.serve(store.path)
    owned = Store(store.path, today="2024-06-10")
    owned.ensure_ready()
    stats = sqlfiles.reads("stats_by")
    design, business = ("服装设计学院",), ("商学院",)
    keys = {c: owned.version(stats, c) for c in (design, business, None)}
    ((registration_id,),) = table(
        store,
        "select min(registration_id) from registrations r join graduates g "
        "using (student_id) where g.college_name = '服装设计学院'",
    )
    reviews.decide(owned, SYSTEM, registration_id, workflow.Decision("college", "approve"))
    assert owned.version(stats, business) == keys[business], "the other college's numbers did not change"
    assert owned.version(stats, design) != keys[design]
    assert owned.version(stats, None) != keys[None], "the whole school's numbers changed"


def test_a_second_dashboard_on_the_same_store_borrows_it_instead_of_taking_it(store: Store, tmp_path: Path) -> None:
    """Two servers started over one file: the first owns it; the second finds it owned and works
    as a script does (borrowing per operation), and the first's owner file stays in place."""
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    first = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pipelines import serving; from pipelines.store import Store; "
            f"serving.serve({str(store.path)!r}); Store({str(store.path)!r}).ensure_ready(); "
            "print('ready', flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "ready"
        owner = channel.read_owner(store.path)
        assert owner is not None and owner.pid == first.pid
        serving.serve(store.path)  # this process as a second dashboard
        assert store_module.owner_of(store.path.resolve()) is None
        with Store(store.path, today="2024-06-10", lock_wait=20).reading(SYSTEM) as reader:
            assert reader._conn.execute("select count(*) from graduates").fetchall() == [(1,)]
        again = channel.read_owner(store.path)
        assert again is not None and again.pid == first.pid
    finally:
        first.kill()
        first.wait(30)


def test_a_login_keeps_every_other_sessions_cached_account(store: Store, tmp_path: Path) -> None:
    """Every run of every session reads its account (auth: a reset or a disabled account ends the
    session). A login writes its own account's row (the failure count), and under load (bench_load,
    N = 20, a login a second) that emptied every session's cached account: 369 reads of 38 ms in
    30 s. Keyed by the account, only that account's sessions read it again."""
    from pipelines.store import parts_of, sqlfiles

    for name in ("office", "dean"):
        accounts.add_user(store, SYSTEM, name, "admin", "Str0ng-passphrase!", must_change_password=False)
    serving.serve(store.path)
    owned = Store(store.path)
    owned.ensure_ready()
    reads = sqlfiles.reads("user_session")
    keys = {name: owned.version(reads, parts=parts_of(usernames=[name])) for name in ("office", "dean")}
    accounts.login(owned, "office", "Str0ng-passphrase!")
    assert owned.version(reads, parts=parts_of(usernames=["dean"])) == keys["dean"], "another account's login"
    assert owned.version(reads, parts=parts_of(usernames=["office"])) != keys["office"], "its own login"
    accounts.reset_password(owned, SYSTEM, "dean", "An0ther-passphrase!")
    assert owned.version(reads, parts=parts_of(usernames=["dean"])) != keys["dean"], "a reset ends the session"
