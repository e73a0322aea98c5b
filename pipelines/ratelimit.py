"""A sliding-window rate limit, for the public verification look-up (so 核验编号 cannot be
guessed by trying many). In memory: one dashboard process serves the page."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimit:
    def __init__(self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """Record an attempt by `key` if it is allowed; (allowed, seconds until the next one is)."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            if len(seen) >= self.attempts:
                return False, seen[0] + self.window_s - now
            seen.append(now)
            if len(self._seen) > 100_000:  # forget idle clients rather than grow without bound
                for idle in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.window_s]:
                    del self._seen[idle]
            return True, 0.0
