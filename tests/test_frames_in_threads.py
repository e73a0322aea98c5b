"""The served dashboard froze under load (bench_load, 100k, N = 20; issue #17): every session
stopped at once, the server at 0 % CPU. gdb showed why. `polars.Expr.map_elements` runs its
Python function on polars' thread pool, whose workers then wait for the GIL; at the same moment
another session's table went to Streamlit, whose `DataFrame.to_pandas` waits for that same pool
while holding the GIL. Nobody moves again.

So no value of ours is mapped through a Python function inside a polars expression: the rules
that turn cells into text (masking, the risk levels and reminders, formula guards, plain text for
st.table) run in the calling thread (`text.mapped`). These tests run those functions beside a
thread that keeps handing frames to pandas, in a child process (a GIL deadlock would freeze
pytest itself), and scan the code for the pattern."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent

RACE = """
import threading, time
from datetime import date
import polars as pl
from pipelines import exports, privacy
from pipelines.rules import progress

big = pl.DataFrame({"a": list(range(200_000)), "b": [str(i) for i in range(200_000)]})
n = 3000
risks = pl.DataFrame({
    "reason": ["not_registered", "returned", "waiting_review", "not_confirmed", "not_verified"] * (n // 5),
    "phone": [f"138{i:08d}" for i in range(n)], "name": [f"学生{i}" for i in range(n)],
})
people = pl.DataFrame({"id_number": [f"36010220010315{i:04d}" for i in range(n)],
                       "phone": [f"138{i:08d}" if i % 7 else None for i in range(n)],
                       "address_detail": [f"=八一大道{i}号" for i in range(n)]})
stop = time.monotonic() + float(__import__("sys").argv[1])
rounds, last = [0], {}

def to_pandas() -> None:
    while time.monotonic() < stop:
        big.to_pandas()

def rules() -> None:
    while time.monotonic() < stop:
        last["risks"] = progress.describe_risks(risks, date(2024, 6, 17), date(2024, 6, 10))
        last["masked"] = privacy.masked_frame(people)
        exports.table_csv(last["masked"])
        rounds[0] += 1

threads = [threading.Thread(target=to_pandas), threading.Thread(target=rules)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
described, masked = last["risks"], last["masked"]
print("rounds", rounds[0], described["level"].null_count(), described.height,
      masked["phone"].null_count(), masked["id_number"][0])
"""


def test_the_rules_that_map_cells_never_freeze_beside_a_table_going_to_pandas() -> None:
    seconds = 8
    try:
        done = subprocess.run(
            [sys.executable, "-c", RACE, str(seconds)], cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the process froze: a polars call waited for the GIL held by another") from None
    assert done.returncode == 0, done.stderr[-3000:]
    rounds, level_nulls, height, phone_nulls, id_number = done.stdout.split()[1:]
    assert int(rounds) > 0 and int(level_nulls) == 0 and int(height) == 3000
    assert int(phone_nulls) == 3000 // 7 + 1, "a missing phone stays missing, as map_elements left it"
    assert "****" in id_number


def test_no_python_function_runs_inside_a_polars_expression_in_the_product() -> None:
    pattern = re.compile(r"\.(map_elements|map_batches|map_rows|apply)\(")
    found = [
        f"{path.relative_to(ROOT)}:{no}"
        for folder in ("pipelines", "dashboard")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == [], f"use text.mapped (runs in the calling thread) instead: {found}"
