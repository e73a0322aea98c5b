"""What the protections of #15 cost: activation codes, their sheets, and the audit-log-based
limits of logins, activations and public look-ups as the audit log grows.

    python bench/bench_security.py [--graduates 1000,10000,50000] [--audit 10000,100000,1000000] [--runs 5]

* Codes: a roster of N graduates is imported into a fresh store; `activation.issue_codes` opens
  every account and draws every code in one transaction (codes/s), then the advisors' sheets
  are rendered (`codes_file`, one PDF page per class: pages/s) and the xlsx written.
* Limits: the audit log is filled with A synthetic rows (logins, look-ups and other actions;
  a tenth of them inside the 10- or 15-minute windows the limits read), then a successful
  login, a refused one, an activation and a public look-up are timed: each is one write
  transaction that reads its counts from the audit log and appends its own row.

Each figure is the median of `--runs` runs, beside the DuckDB yardstick of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import files, yardstick  # noqa: E402
from pipelines import accounts, activation, campaigns, imports, lookups  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402


def fresh(folder: Path, n: int) -> Store:
    store = Store(folder / f"s{n}.duckdb", today="2024-06-10")
    campaigns.save_campaign(
        store,
        SYSTEM,
        campaigns.Campaign(**{**campaigns.default_campaign(2024, "江西服装学院").__dict__, "school_code": "10001"}),
    )
    roster = files.write(files.roster_frame(n), folder / f"roster{n}.csv")
    imports.import_file(store, SYSTEM, "roster", roster)
    return store


def timed(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pad_audit(store: Store, rows: int) -> None:
    """`rows` synthetic audit rows: most older than an hour, a tenth inside the windows."""

    def work(writer: Any) -> None:
        writer._raw().execute(f"""
            insert into audit_log (audit_id, logged_at, actor, role, action, target, detail, write_token)
            select nextval('audit_ids'),
                   localtimestamp - case when i % 10 = 0 then interval (i % 600) second
                                           else interval 2 hour + interval (i % 86400) second end,
                   'bench', 'login',
                   case i % 3 when 0 then 'login' when 1 then 'verify:lookup' else 'export:stats' end,
                   'user' || (i % 5000)::varchar,
                   json_object('outcome', case when i % 4 = 0 then 'ok' else 'wrong_password' end,
                               'client', '10.0.' || (i % 250)::varchar || '.' || (i % 200)::varchar,
                               'name', md5((i % 7000)::varchar)),
                   null
            from range({rows}) t(i)""")
        writer.touched_students = []

    store.transaction(SYSTEM, "bench:pad_audit", work)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--graduates", default="1000,10000,50000")
    parser.add_argument("--audit", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(yardstick.line())
    print("\n| graduates | issue codes s | codes/s | classes | sheet PDF s | pages/s | sheet xlsx s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in (int(s) for s in args.graduates.split(",")):
            store = fresh(folder, n)
            started = time.perf_counter()
            issued = activation.issue_codes(store, SYSTEM)
            issue_s = time.perf_counter() - started
            classes = len({(c.college_name, c.class_name) for c in issued})
            pdf_s = timed(1, lambda s=store, i=issued: activation.codes_file(s, SYSTEM, i, "pdf", "codes.pdf"))
            xlsx_s = timed(1, lambda s=store, i=issued: activation.codes_file(s, SYSTEM, i, "xlsx", "codes.xlsx"))
            print(
                f"| {n:,} | {issue_s:.2f} | {n / issue_s:,.0f} | {classes:,} | {pdf_s:.2f} | {classes / pdf_s:,.0f} "
                f"| {xlsx_s:.2f} |",
                flush=True,
            )

        print(f"\nmedians of {args.runs} runs; one write transaction each (counts read from the audit log)\n")
        print("| audit rows | login ok ms | login refused ms | activation ms | public look-up ms |")
        print("|---:|---:|---:|---:|---:|")
        store = fresh(folder, 2000)
        accounts.add_user(store, SYSTEM, "office", "admin", "office2024", must_change_password=False)
        issued = {c.student_id: c for c in activation.issue_codes(store, SYSTEM)}
        with store.reading(SYSTEM) as reader:
            ids = dict(reader._conn.execute("select student_id, id_number from graduates").fetchall())
        people = iter(sorted(issued))
        padded = 0
        limits = lookups.Limits(
            per_client=10**9, per_number=10**9, per_name=10**9, global_slow=10**9, global_block=10**9
        )
        for rows in (int(s) for s in args.audit.split(",")):
            pad_audit(store, rows - padded)
            padded = rows

            def refused() -> None:
                with contextlib.suppress(accounts.LoginRefused):
                    accounts.login(store, "office", "wrong-2024", client=f"10.9.{time.perf_counter_ns() % 250}.1")

            def activate() -> None:
                sid = next(people)
                activation.activate(store, sid, issued[sid].code, ids[sid][-6:], "Mine2024x", client="10.8.0.1")

            ok = timed(args.runs, lambda: accounts.login(store, "office", "office2024", client="10.7.0.1")) * 1000
            bad = timed(args.runs, refused) * 1000
            act = timed(args.runs, activate) * 1000
            look = (
                timed(args.runs, lambda: lookups.look_up(store, "学生1", "2410001ABCDEFGH", "10.6.0.1", limits)) * 1000
            )
            print(f"| {rows:,} | {ok:.0f} | {bad:.0f} | {act:.0f} | {look:.0f} |", flush=True)
    print("\n" + yardstick.line())


if __name__ == "__main__":
    main()
