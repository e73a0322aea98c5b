"""The store: one DuckDB file, and the only package that opens it or writes to it.

Split by job (see README, "架构"):

* `locks`: who may hold the file (the lock file, the writers' turnstile, opening the file);
* `owner`: the process that owns the store and lends it for one operation (`channel`);
* `session`: one operation's `Reader` or `Writer`, on behalf of one `Actor`;
* `transactions`: the `Store`: read snapshots, write transactions, group commit, checks after COMMIT;
* `stage_cache`: the materialised stages and counts;
* `versions`: what the owner has written, per table and part (the dashboard's cache keys);
* `schema`: migrations, reference tables, views; `sqlfiles`: the named SQL files; `config`.

It imports only `pipelines.rules`. Callers get no raw connection: they ask for a named query
(`Reader.query`) or a writer method.
"""

from pipelines.store.base import SYSTEM, Actor, OwnerAppeared, StoreBusy, StoreConflict, StoreError, WriteLost
from pipelines.store.owner import disown, disown_all, own, owner_of, owning
from pipelines.store.schema import applied_versions, migrate
from pipelines.store.session import Reader, Writer
from pipelines.store.stage_cache import STAGE_TABLES, stage_cache_days
from pipelines.store.transactions import Store
from pipelines.store.versions import GRADUATE_TABLES, PARTS_OF, TODAY_ONLY, Versions, parts_of

__all__ = [
    "GRADUATE_TABLES",
    "PARTS_OF",
    "STAGE_TABLES",
    "SYSTEM",
    "TODAY_ONLY",
    "Actor",
    "OwnerAppeared",
    "Reader",
    "Store",
    "StoreBusy",
    "StoreConflict",
    "StoreError",
    "Versions",
    "WriteLost",
    "applied_versions",
    "disown",
    "disown_all",
    "migrate",
    "own",
    "owner_of",
    "owning",
    "parts_of",
    "stage_cache_days",
    "Writer",
]
