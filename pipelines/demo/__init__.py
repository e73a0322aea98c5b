"""The demo campaign (江西服装学院 2024 届): `catalog` (the school, its places, destinations,
typical mistakes and return reasons), `generate` (vectorised graduates, forms and events) and
`write` (into the store, through the same writer checks as the product)."""

from pipelines.demo.dispatch import DISPATCH_AS_OF, add_dispatch
from pipelines.demo.generate import DEFAULT_AS_OF
from pipelines.demo.write import (
    DEMO_GRADUATE_STAGES,
    DEMO_PASSWORD,
    add_demo_accounts,
    add_past_snapshots,
    build_demo,
    demo_graduates,
    snapshot_days,
)

__all__ = [
    "DEFAULT_AS_OF",
    "DISPATCH_AS_OF",
    "add_dispatch",
    "DEMO_GRADUATE_STAGES",
    "DEMO_PASSWORD",
    "add_demo_accounts",
    "add_past_snapshots",
    "build_demo",
    "demo_graduates",
    "snapshot_days",
]
