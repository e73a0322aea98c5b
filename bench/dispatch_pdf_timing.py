"""The dispatch papers' printing speed (#19): slips for N synthetic archives in one PDF (goal:
5,000 in ≤ 30 s), with the address labels and the post office's list beside them.

    .venv/bin/python bench/dispatch_pdf_timing.py [--counts 500,5000]

`time_slips(n)` is what `bench/bench_dispatch.py` calls. The yardstick is timed before each row;
timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import yardstick  # noqa: E402
from pipelines import dispatch_pdf  # noqa: E402
from pipelines.rules import dispatch  # noqa: E402

SURNAMES, GIVEN = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜", "子涵梓轩浩宇欣怡一诺雨泽俊熙"
UNITS = ("南昌市人才服务中心", "中共南昌市委组织部", "九江市人力资源和社会保障局", "赣州市章贡区人才交流服务中心")
CAMPAIGN: dict[str, Any] = {
    "school_name": "江西财经职业学院",
    "cohort": 2024,
    "notice_number": "赣财院〔2024〕12号",
    "sender": {
        "school_name": "江西财经职业学院",
        "office": "就业指导中心",
        "address": "江西省九江市濂溪区前进东路 1 号",
        "postcode": "332000",
        "phone": "0792-8888888",
    },
}


def synthetic_rows(n: int) -> list[dict[str, Any]]:
    """`n` archives with names and units that differ, as the store's batch rows would be."""
    return [
        {
            "batch_no": 1,
            "channel": dispatch.EMS if i % 4 == 0 else dispatch.JIYAO,
            "student_id": f"2020{i:06d}",
            "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)],
            "gender": "男" if i % 2 else "女",
            "college_name": "信息工程学院",
            "class_name": f"计算机{i % 40 + 1}班",
            "transfer_number": f"36{i:016d}",
            "origin_name": "江西省南昌市",
            "employer_name": f"南昌{GIVEN[i % len(GIVEN)]}科技有限公司",
            "transfer_type_label": "转至就业单位所在地人才服务中心",
            "unit_name": UNITS[i % len(UNITS)],
            "province": "江西省",
            "city": "南昌市",
            "district": "红谷滩区",
            "address_detail": f"凤凰中大道 {i % 900 + 1} 号",
            "postcode": "330038",
            "contact": "李老师",
            "phone": "0791-83881234",
            "id_number": f"360102199901{i % 28 + 1:02d}123X",
            "bag_items": [dispatch.REPORT_ITEM, *dispatch.DEFAULT_BAG_ITEMS],
            "waybill": None,
        }
        for i in range(n)
    ]


def _timed(work: Callable[[], bytes]) -> tuple[float, int]:
    started = time.perf_counter()
    data = work()
    return time.perf_counter() - started, len(data)


def time_slips(n: int) -> float:
    """Seconds to print the slips of `n` synthetic archives as one PDF."""
    rows = synthetic_rows(n)
    return _timed(lambda: dispatch_pdf.slips_pdf(rows, CAMPAIGN))[0]


def _papers(rows: list[dict[str, Any]]) -> list[tuple[float, int]]:
    """(seconds, bytes) of the slips, the labels and the list of these rows."""
    return [
        _timed(lambda: dispatch_pdf.slips_pdf(rows, CAMPAIGN)),
        _timed(lambda: dispatch_pdf.labels_pdf(rows, CAMPAIGN["sender"])),
        _timed(lambda: dispatch_pdf.batch_list_pdf(rows, {"batch_no": 1}, CAMPAIGN)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="500,5000", help="comma-separated numbers of archives")
    args = parser.parse_args(argv)
    print("| archives | yardstick ms | slips s | slips/s | slips MB | labels s | list s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count in (int(c) for c in args.counts.split(",") if c.strip()):
        ruler = yardstick.yardstick_ms()
        (slips_s, size), (labels_s, _), (list_s, _) = _papers(synthetic_rows(count))
        print(
            f"| {count:,} | {ruler:.0f} | {slips_s:.1f} | {count / slips_s:,.0f} | {size / 1e6:.1f} | "
            f"{labels_s:.1f} | {list_s:.1f} |",
            flush=True,
        )
    print(f"\n{yardstick.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
