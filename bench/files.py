"""Synthetic roster and registration files for the import benchmark (vectorised, seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from pipelines.rules.identity import id_check_char

COLLEGES = ["服装设计学院", "服装工程学院", "时尚传播学院", "商学院", "艺术与设计学院", "信息工程学院"]
TYPES = ["转回生源地", "签约单位接收", "托管单位接收", "上级主管单位接收", "升学本校接收", "升学外校接收"]


def roster_frame(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ids17 = [
        f"360102{y}{m:02d}{d:02d}{s:03d}"
        for y, m, d, s in zip(
            rng.integers(2000, 2004, n),
            rng.integers(1, 13, n),
            rng.integers(1, 29, n),
            rng.integers(0, 1000, n),
            strict=True,
        )
    ]
    return pl.DataFrame(
        {
            "学号": [f"{24000000 + i:010d}" for i in range(n)],
            "姓名": [f"学生{i}" for i in range(n)],
            "性别": rng.choice(["男", "女"], n),
            "身份证号": [s + id_check_char(s) for s in ids17],
            "学院": rng.choice(COLLEGES, n),
            "专业": "服装与服饰设计",
            "班级": [f"服设{20 + i % 4}{i % 30:02d}班" for i in range(n)],
            "学历层次": "31",
            "毕业时间": "2024-06-30",
            "生源地代码": "360102",
            "生源地": "江西省南昌市东湖区",
            "户口是否迁入学校": rng.choice(["是", "否"], n),
            "手机号码": [f"13{p:09d}" for p in rng.integers(0, 10**9, n)],
            "班主任": "王老师",
        }
    )


def registration_frame(roster: pl.DataFrame, seed: int = 2) -> pl.DataFrame:
    """The registrations of every roster graduate, as the national system exports them: a
    submission time to the second and a 转递编号 of its own on every row, contact phones and
    house numbers that vary from row to row (a file of a few distinct values validates much
    faster than a real one, #17)."""
    n = roster.height
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 50 * 86400, n)
    landline = rng.random(n) < 0.6
    numbers = rng.integers(0, 10**8, n)
    return pl.DataFrame(
        {
            "学号": roster["学号"],
            "姓名": roster["姓名"],
            "档案转递类型": rng.choice(TYPES, n),
            "档案转递单位名称": rng.choice(
                ["南昌市人才服务中心", "江西财经大学研究生院", "赣州市人力资源和社会保障局"], n
            ),
            "档案转递单位地址": "江西省南昌市东湖区",
            "详细地址": [
                f"八一大道{k}号{b}栋{r}室"
                for k, b, r in zip(
                    rng.integers(1, 999, n), rng.integers(1, 30, n), rng.integers(101, 2000, n), strict=True
                )
            ],
            "档案转递单位邮编": "330000",
            "档案转递联系人/联系部门": "档案室",
            "档案转递联系电话": [
                f"0791-8{x % 10**7:07d}" if fixed else f"13{x:09d}" for x, fixed in zip(numbers, landline, strict=True)
            ],
            "情况说明": "按要求转递",
            "证明材料数": rng.integers(0, 4, n).astype(str),
            "转递编号": [f"2410001{x:011X}" for x in rng.permutation(n) + 7 * 16**9],
            "提交时间": pl.Series(seconds * 1_000_000 + 1_711_929_600_000_000, dtype=pl.Datetime("us")).dt.strftime(
                "%Y-%m-%d %H:%M:%S"
            ),  # from 2024-04-01
            "审核状态": rng.choice(["待院审核", "待校审核", "已通过", "已退回"], n),
            "退回原因": "",
        }
    )


def write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".xlsx":
        frame.write_excel(path, autofit=False)
    else:
        frame.write_csv(path)
    return path
