"""SIGTERM and SIGINT from the first line of start-up to the last: stop, never die half-way.

One handler for the whole life of the process, installed by `python -m bot` before anything
slow is imported:
- while start-up runs synchronously (imports, loading the notes), a signal raises
  KeyboardInterrupt in the main thread, which unwinds the build (a cache being written
  finishes first: bot.runner waits for its thread); where an exception would be dropped or
  leave a lock taken (an import's callbacks, the logging module) it is sent again a moment later;
- once the bot serves, a signal only calls the callback given to `serving()` (on the event
  loop), which stops taking new work and lets answers in flight finish.
A second signal while stopping is logged and ignored: the stop is bounded already, and an
exception raised into a cache write or a thread join would be the very damage it prevents.

Only stdlib imports here: this module is imported before discord.py and numpy.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

_log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
REDELIVER_SECONDS = 0.02
_LOGGING_DIR = os.path.dirname(logging.__file__)


class _State:
    installed = False
    requested: int | None = None  # the signal that asked to stop
    on_stop: Callable[[], None] | None = None  # while serving: called on the event loop
    loop: asyncio.AbstractEventLoop | None = None


_state = _State()


def install() -> None:
    """Take over SIGTERM and SIGINT for this process (idempotent; main thread only)."""
    if _state.installed or threading.current_thread() is not threading.main_thread():
        return
    _state.installed = True
    # Forked note readers must not run our handler (it would raise in them and print their
    # tracebacks): SIGTERM ends them at once, SIGINT (Ctrl+C reaches the whole process group)
    # is left to the parent, which ends them.
    os.register_at_fork(after_in_child=_reset_in_child)
    # Last: from the first handler on, a signal may raise KeyboardInterrupt right here, which the
    # caller's `except KeyboardInterrupt` must be around this call to catch.
    for sig in STOP_SIGNALS:
        signal.signal(sig, _handle)


def _reset_in_child() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _handle(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _state.requested is not None:
        _log.info("Got %s again: already stopping", name)
        return
    if _state.on_stop is None and _unraisable_in(frame):
        # Raised here, the KeyboardInterrupt would be dropped or leave a lock taken: the same
        # signal again in a moment, out of this frame.
        threading.Timer(REDELIVER_SECONDS, os.kill, (os.getpid(), signum)).start()
        return
    _state.requested = signum
    if _state.on_stop is not None and _state.loop is not None:
        _log.info("Got %s: stopping (answers in flight finish first)", name)
        _state.loop.call_soon_threadsafe(_state.on_stop)
        return
    _log.info("Got %s during start-up: stopping", name)
    # Unwinds the build; the note readers' pool then waits only for the shares being read
    # (the queued ones are cancelled), and the readers exit with it.
    raise KeyboardInterrupt


def _unraisable_in(frame: FrameType | None) -> bool:
    """True in a frame an exception must not come out of: the import system's weakref callbacks
    and finalizers, whose exceptions Python prints and drops, and the logging module, whose lock
    would stay taken (another thread's next log line then waits forever)."""
    if frame is None:
        return False
    file = frame.f_code.co_filename
    return file.startswith(("<frozen importlib", _LOGGING_DIR)) or frame.f_code.co_name == "__del__"


def stop_if_requested() -> None:
    """Between steps of start-up: stop now if a signal came and its interrupt was lost."""
    if _state.requested is not None and _state.on_stop is None:
        raise KeyboardInterrupt


@contextlib.contextmanager
def serving(loop: asyncio.AbstractEventLoop, on_stop: Callable[[], None]) -> Iterator[None]:
    """While the block runs, a stop signal calls `on_stop` on `loop` instead of raising.
    A signal that came before the block (and was absorbed) stops at once."""
    _state.loop, _state.on_stop = loop, on_stop
    try:
        if _state.requested is not None:
            loop.call_soon(on_stop)
        yield
    finally:
        _state.loop = _state.on_stop = None


# discord.py runs every command, component callback and event handler in a task of its own,
# named for what it runs: these are the work in flight that a stop lets finish.
_WORK_TASK_NAMES = ("CommandTree-invoker", "discord-ui-view-dispatch", "discord-ui-modal-dispatch", "discord.py: on_")


def work_in_flight() -> set[asyncio.Task]:
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks()
            if task is not current and not task.done() and task.get_name().startswith(_WORK_TASK_NAMES)}


async def finish_work(timeout: float) -> int:
    """Wait until no command or event handler runs (new ones included), at most `timeout`
    seconds; returns how many were still running then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending := work_in_flight():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return len(pending)
        await asyncio.wait(pending, timeout=remaining)
    return 0
