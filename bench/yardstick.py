"""The yardstick every benchmark prints beside its figures: the machine is shared and noisy, so
a figure means something only next to how fast the machine was at that moment.

A DuckDB group-by over 10M rows (100,000 groups), in memory, median of 3: about 160-180 ms on
an idle 2-core machine of this workplace.
"""

from __future__ import annotations

import statistics
import time

import duckdb

QUERY = "select range % 100000 as k, count(*), sum(range) from range(10000000) group by k"


def yardstick_ms(runs: int = 3) -> float:
    conn = duckdb.connect()
    try:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(QUERY).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        conn.close()


def line() -> str:
    return f"yardstick: DuckDB group-by over 10M rows (100k groups), median of 3: {yardstick_ms():.0f} ms (idle: about 160-180 ms)"
