"""Per-user rate limit shared by every way of asking (slash command, context menu, messages).

Only per user: a per-channel or per-guild limit would make a busy server wait
for its noisiest member.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from discord import app_commands


@dataclass
class UserCooldown:
    rate: int
    per: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, app_commands.Cooldown] = field(default_factory=dict, repr=False)
    _last_hit: dict[int, float] = field(default_factory=dict, repr=False)

    def hit(self, user_id: int) -> float | None:
        """Count one question; None if allowed, else the seconds until the user may ask again."""
        now = self.clock()
        self._prune(now)
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = app_commands.Cooldown(self.rate, self.per)
        self._last_hit[user_id] = now
        return bucket.update_rate_limit(now)

    def _prune(self, now: float) -> None:
        # Forget users whose window has passed, so the map does not grow with every member ever seen.
        if len(self._buckets) < 1024:
            return
        for user_id in [u for u, last in self._last_hit.items() if now > last + self.per]:
            del self._buckets[user_id], self._last_hit[user_id]
