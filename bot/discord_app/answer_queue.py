"""Acknowledge first, answer second: how a burst of questions is answered without losing one.

Discord drops an interaction that is not acknowledged within 3 s of its creation. Answers
are pure-Python work: on threads they take the GIL from the event loop, and a loop that
waits for the GIL after every socket call sends acknowledgements late (the "convoy" of a
CPU-bound thread and an I/O thread). So:
- answers run on one thread of their own, one at a time (more threads would only fight
  for the same GIL), never on the default pool that other work (reloads) uses;
- no answer starts while a deferral is on its way to Discord;
- an interaction is deferred at once when its answer cannot be expected before its
  deadline (counted from the interaction's creation, not from when its handler runs).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime

    from knowledge.engine import Engine
    from knowledge.model import Answer

# The expected wait is the queue times this many mean answers: the loop's own work (sending
# each answer) is not in the mean, and a deferral that comes too late costs the answer.
SAFETY = 3.0
FIRST_GUESS = 0.005  # seconds per answer before any was measured


def defer_deadline(created_at: datetime.datetime, defer_after: float, now: float | None = None) -> float:
    """When (time.time()) an interaction not answered yet must be deferred: `defer_after` after
    its creation, or after now if our clock runs behind Discord's (then its creation time
    looks like the future)."""
    now = time.time() if now is None else now
    return min(created_at.timestamp(), now) + defer_after


class QueueClosed(RuntimeError):
    """The bot stopped before this question's turn came: nobody will answer it."""


class AnswerQueue:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="answer")
        self._turn = asyncio.Lock()  # one answer at a time, in arrival order
        self._deferring = 0
        self._no_deferrals = asyncio.Event()
        self._no_deferrals.set()
        self.waiting = 0  # questions queued or being answered
        self.seconds_per_answer = FIRST_GUESS  # moving average
        self.closed = False

    def expected_ready(self, now: float | None = None) -> float:
        """When (time.time()) a question asked now would be answered, pessimistically."""
        now = time.time() if now is None else now
        return now + (self.waiting + 1) * self.seconds_per_answer * SAFETY

    @contextlib.asynccontextmanager
    async def deferring(self) -> AsyncIterator[None]:
        """Around sending a deferral: answers wait until it is out."""
        self._deferring += 1
        self._no_deferrals.clear()
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring:
                self._no_deferrals.set()

    async def ask(self, engine: Engine, question: str, hint: str | None) -> Answer:
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            async with self._turn:
                await self._no_deferrals.wait()
                started = time.perf_counter()
                answer = await self._run(loop, engine, question, hint)
                took = time.perf_counter() - started
                self.seconds_per_answer = 0.9 * self.seconds_per_answer + 0.1 * took
                return answer
        finally:
            self.waiting -= 1

    async def _run(self, loop: asyncio.AbstractEventLoop, engine: Engine, question: str, hint: str | None) -> Answer:
        if self.closed:
            raise QueueClosed("the bot is stopping")
        try:
            return await loop.run_in_executor(self._executor, engine.ask, question, hint)
        except asyncio.CancelledError:
            # close() cancels the questions still queued on the thread: say so (the caller tells the
            # asker), unless this task itself was cancelled.
            current = asyncio.current_task()
            if self.closed and current is not None and not current.cancelling():
                raise QueueClosed("the bot is stopping") from None
            raise

    def close(self) -> None:
        """No new answers; the one being computed finishes on its thread, the queued ones raise QueueClosed."""
        self.closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
