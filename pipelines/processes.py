"""Work spread over fresh Python processes, results in order (#17: report PDFs on every core).

Why not multiprocessing: its spawn and forkserver children re-run the parent's main script,
and under Streamlit that is the page script (Streamlit runs each page as `__main__`), so every
worker would run the dashboard. Fork would copy the server's threads and DuckDB connections.
Here each worker is `python -c "…serve()"`, which imports only what the tasks name; tasks and
results go over its stdin and stdout, pickled, one task at a time per worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipelines.store import config

ROOT = Path(__file__).resolve().parent.parent  # where the `pipelines` package is
# A task (a chunk of report pages) takes a second or two; a worker silent this long is stuck.
TASK_TIMEOUT_S = 300.0


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, out of memory, …)."""


class WorkerStuck(WorkerDied):
    """A worker gave no answer in time (it is stopped, with the others)."""


def ordered_map(
    function: Callable[[Any], Any], tasks: list[Any], processes: int, timeout: float | None = None
) -> Iterator[Any]:
    """`function(task)` for every task, in `processes` worker processes, yielded in task order.
    `function` must be importable (a module-level function or a partial of one). An exception
    in a worker is raised here; a worker that dies, or gives no answer within `timeout`
    seconds of being asked, raises WorkerDied. Stopping early, or an error, stops the workers.

    The workers get the running command's environment (config.child_environment): a command
    handed to the dashboard server renders with its own DANGAN_* settings, not the server's."""
    timeout = TASK_TIMEOUT_S if timeout is None else timeout
    base = config.child_environment()
    env = {**base, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH")) if p)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", "from pipelines.processes import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for _ in range(max(1, min(processes, len(tasks))))
    ]
    finished = False

    def send(i: int) -> None:
        worker = workers[i % len(workers)]
        try:
            pickle.dump((function, tasks[i]), worker.stdin)  # type: ignore[arg-type]
            worker.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(f"worker {worker.pid} is gone") from exc

    try:
        for i in range(min(len(workers), len(tasks))):
            send(i)
        for i in range(len(tasks)):
            worker = workers[i % len(workers)]
            ready, _, _ = select.select([worker.stdout.fileno()], [], [], timeout)  # type: ignore[union-attr]
            if not ready:
                raise WorkerStuck(f"worker {worker.pid} gave no answer within {timeout:.0f} s")
            try:
                failed, result = pickle.load(worker.stdout)  # type: ignore[arg-type]
            except (EOFError, pickle.UnpicklingError) as exc:
                raise WorkerDied(f"worker {worker.pid} ended with {worker.wait()}") from exc
            if failed:
                raise result
            if i + len(workers) < len(tasks):
                send(i + len(workers))
            yield result
        finished = True
    finally:
        for worker in workers:
            if not finished:
                worker.kill()  # it may be in the middle of a task nobody will read
            with contextlib.suppress(OSError):  # a broken pipe to a worker that died
                worker.stdin.close()  # type: ignore[union-attr]
        for worker in workers:
            worker.wait()
            worker.stdout.close()  # type: ignore[union-attr]


def serve() -> None:
    """A worker's loop: (function, task) pickled on stdin, (failed, result) pickled on stdout,
    until stdin ends. Anything printed goes to stderr, not into the answers."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    while True:
        try:
            function, task = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (False, function(task))
        except Exception as exc:
            answer = (True, exc)
        try:
            data = pickle.dumps(answer)
        except Exception as exc:  # a result or an exception that does not pickle: say so
            data = pickle.dumps((True, RuntimeError(f"{type(exc).__name__}: {exc}")))
        answers.write(data)
        answers.flush()
