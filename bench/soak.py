"""Soak: the real bot process under a burst, a reload, gateway drops, a failing REST API and SIGTERM.

    .venv/bin/python -m bench.soak [--burst 2000] [--users 200] [--out bench/soak-results.md]

Drives `python -m bot run` (token in $DISCORD_TOKEN, endpoints in a temporary config) against
tests/fake_discord.py on 127.0.0.1; nothing leaves the machine. One bot process takes, in turn:
1. `--bursts` bursts of `--burst` /ask from `--users` users at once: every interaction acknowledged within
   3 s of its creation? first/p50/p99/max ack latency from creation; none lost or doubled;
2. /reload with 200 notes changed while 500 questions are in flight;
3. gateway drops (close 4000, then a cut connection: 1006) with questions in flight, then more;
4. 429, 500 and slow (2 s) REST answers on callbacks and followups;
5. SIGTERM under load: every question delivered before the signal answered, exit 0, no ERROR.
Then fresh processes get SIGTERM at points of start-up (loading, cache being written, logging
in): exit 0, the cache loads whole, no temporary file left (a stale one planted before is gone).
Every wait is bounded; the script stops by itself. Prints a table and writes --out.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import BUNDLED_NOTES
from knowledge.indexing.cache import CACHE_FILE, load_cache
from tests.fake_discord import FakeDiscord, FakeInteraction

TOKEN = "soak-token.not-a-real-one"
REPO = Path(__file__).resolve().parents[1]
ACK_LIMIT = 3.0  # Discord's
QUESTIONS = ("Does DeepSeek use vLLM in production?", "¿DeepSeek usa vLLM en producción?",
             "Does OpenAI use vLLM?", "What is the capital of Mongolia?")
ERROR_LINE = re.compile(r"\] \[(ERROR|CRITICAL)|Traceback|Task exception was never retrieved")


@dataclass
class Row:
    scenario: str
    figure: str
    value: str
    ok: bool | None = None  # None: a measurement, not a pass/fail check


# --------------------------------------------------------------------------- notes and process


def write_notes(folder: Path, count: int, version: int = 0) -> None:
    """The bundled notes and `count` small generated ones (topic-i), rewritten with `version`."""
    if not folder.exists():
        shutil.copytree(BUNDLED_NOTES, folder)
    topics = folder / "topics"
    topics.mkdir(exist_ok=True)
    for i in range(count):
        (topics / f"topic-{i:05d}-en.md").write_text(
            f"---\ntitle: Topic {i} handbook\nlang: en\n---\n\n# Topic {i} handbook\n\n"
            f"Topic {i} is served by engine {i % 7} in region {i % 13} (revision {version}).\n\n"
            f"## Setup\n\nInstall package topic{i} with `pip install topic{i}` and run it on port {8000 + i}.\n\n"
            f"| item | value |\n|---|---|\n| owner | team {i % 11} |\n| since | {2000 + i % 25} |\n",
            encoding="utf-8")


def write_config(folder: Path, notes: Path, fake: FakeDiscord) -> Path:
    path = folder / "bot.yaml"
    path.write_text("\n".join([
        "notes:", f"  folders: [{notes}]",
        "discord:", f"  api_url: {fake.api_base}", f"  gateway_url: {fake.gateway_url}", "  data_dir: state",
        "  cooldown:", "    rate: 100000", "    per_seconds: 1",
        "logging:", "  level: INFO",
    ]) + "\n", encoding="utf-8")
    return path


class BotProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = dict(os.environ, DISCORD_TOKEN=TOKEN)
        with open(self.log, "wb") as out:  # a file: the logs must carry no colour codes
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config),
                cwd=self.config.parent, env=env, stdout=out, stderr=out)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, timeout: float) -> int | None:
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            return None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def error_lines(self) -> list[str]:
        return [line for line in self.text().splitlines() if ERROR_LINE.search(line)]


async def wait_until(predicate, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())


# --------------------------------------------------------------------------- interactions


def ack_latency(inter: FakeInteraction) -> float | None:
    return inter.callback_times[0] - inter.created_at if inter.callback_times else None


def answered(inter: FakeInteraction) -> bool:
    return inter.is_complete() and not inter.rejected


def doubled(inter: FakeInteraction) -> bool:
    """Acknowledged twice, or the same message sent twice."""
    texts = [m.text for m in inter.messages if not m.loading]
    return len(inter.callbacks) > 1 or len(texts) != len(set(texts))


async def ask_many(fake: FakeDiscord, count: int, users: list[str], seed: int) -> list[FakeInteraction]:
    rng = random.Random(seed)

    async def one(i: int) -> FakeInteraction:
        question = rng.choice(QUESTIONS) if i % 3 else f"What port does topic {rng.randrange(400)} use?"
        return await fake.send_slash_command("ask", {"question": question}, user=users[i % len(users)],
                                             locale=rng.choice(("en-US", "es-ES", "fr", "ja")))

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def settle(inters: list[FakeInteraction], timeout: float) -> None:
    await wait_until(lambda: all(i.is_complete() or i.rejected for i in inters), timeout, 0.1)


def outcome_rows(name: str, inters: list[FakeInteraction]) -> list[Row]:
    lost = sum(1 for i in inters if not answered(i))
    twice = sum(1 for i in inters if doubled(i))
    return [Row(name, "answered / sent", f"{len(inters) - lost} / {len(inters)}", lost == 0),
            Row(name, "doubled", str(twice), twice == 0)]


def latency_rows(name: str, inters: list[FakeInteraction]) -> list[Row]:
    latencies = sorted(x for x in map(ack_latency, inters) if x is not None)
    late = sum(1 for i in inters if ack_latency(i) is None or ack_latency(i) > ACK_LIMIT)
    deferred = sum(1 for i in inters if i.deferred)
    rows = [Row(name, f"acknowledged within {ACK_LIMIT:.0f} s of creation", f"{len(inters) - late} / {len(inters)}",
                late == 0)]
    if latencies:
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
        rows.append(Row(name, "ack latency first / p50 / p99 / max",
                        f"{latencies[0]*1000:.0f} / {statistics.median(latencies)*1000:.0f} / "
                        f"{p(0.99)*1000:.0f} / {latencies[-1]*1000:.0f} ms"))
    rows.append(Row(name, "deferred", f"{deferred} / {len(inters)}"))
    sent = [i.delivered_at - i.created_at for i in inters if i.delivered_at is not None]
    if sent:
        rows.append(Row(name, "the fake's own delivery after creation, p50 / max",
                        f"{statistics.median(sent)*1000:.0f} / {max(sent)*1000:.0f} ms"))
    return rows


# --------------------------------------------------------------------------- scenarios


async def serving_scenarios(work: Path, burst: int, user_count: int, bursts: int) -> list[Row]:
    rows: list[Row] = []
    notes = work / "notes"
    write_notes(notes, 400)
    async with FakeDiscord(token=TOKEN) as fake:
        users = [(await fake.add_member(f"user{i:03d}"))["user"]["username"] for i in range(user_count)]
        bot = BotProcess(write_config(work, notes, fake), work / "serving.log")
        started = time.monotonic()
        await bot.start()
        ready = await wait_until(lambda: fake.command_syncs and any(s.live for s in fake._sessions), 120)
        rows.append(Row("start", "online (notes built, commands synced)", f"{time.monotonic() - started:.1f} s", ready))
        if not ready:
            bot.signal()
            await bot.wait(15)
            return rows + [Row("start", "log", bot.text()[-400:], False)]
        await asyncio.sleep(0.5)

        # 1. the burst, `bursts` times (the machine may be shared: one burst says little)
        name = f"burst {burst} from {user_count} users, x{bursts}"
        all_bursts: list[FakeInteraction] = []
        figures = []
        for n in range(bursts):
            inters = await ask_many(fake, burst, users, seed=1 + n)
            await settle(inters, 180)
            all_bursts += inters
            latencies = sorted(x for x in map(ack_latency, inters) if x is not None)
            figures.append([latencies[0], statistics.median(latencies),
                            latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], latencies[-1]])
            await asyncio.sleep(1.0)
        rows += [r for r in latency_rows(name, all_bursts) if r.ok is not None or r.figure == "deferred"]
        medians = [statistics.median(f[k] for f in figures) * 1000 for k in range(4)]
        rows.append(Row(name, "ack latency first / p50 / p99 / max, median of the bursts",
                        " / ".join(f"{m:.0f}" for m in medians) + " ms"))
        rows.append(Row(name, "max ack latency of each burst",
                        ", ".join(f"{f[3] * 1000:.0f}" for f in figures) + " ms"))
        rows += outcome_rows(name, all_bursts)

        # 2. reload while 500 questions are in flight
        write_notes(notes, 200, version=1)
        questions = asyncio.ensure_future(ask_many(fake, 500, users, seed=2))
        reload = await fake.send_slash_command("reload", user="admin")
        inters = await questions
        await settle(inters + [reload], 120)
        text = "\n".join(m.text for m in reload.messages if not m.loading)
        rows += outcome_rows("reload, 200 notes changed, 500 in flight", inters)
        rows.append(Row("reload, 200 notes changed, 500 in flight", "reload reported 200 updated",
                        "yes" if "200" in text else f"no: {text[:80]!r}", "200" in text))
        rows += [r for r in latency_rows("reload, 200 notes changed, 500 in flight", inters) if r.ok is not None]

        # 3. gateway drops (4000, then a cut connection) with questions in flight
        inters = []
        for drop in ("close 4000", "cut (1006)"):
            inters += await ask_many(fake, 100, users, seed=3)
            resumes = fake.resumes
            await (fake.disconnect_sessions(4000) if drop == "close 4000" else asyncio.sleep(0))
            if drop != "close 4000":
                fake.drop_sessions()
            back = await wait_until(
                lambda resumes=resumes: fake.resumes > resumes and any(s.live for s in fake._sessions), 60)
            rows.append(Row("gateway drops", f"{drop}: resumed", "yes" if back else "no", back))
            if back:
                inters += await ask_many(fake, 100, users, seed=4)
        await settle(inters, 60)
        rows += outcome_rows("gateway drops", inters)

        # 4. 429, 500 and slow REST on callbacks and followups
        fake.inject_error("POST", r"/callback$", status=429, code=0, message="You are being rate limited.",
                          json_body={"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
                          times=20)
        fake.inject_error("POST", r"^/webhooks/", status=500, code=0, message="Internal Server Error", times=5)
        fake.inject_delay("POST", r"/callback$", 2.0, times=20)
        fake.inject_delay("POST", r"^/webhooks/", 2.0, times=20)
        inters = await ask_many(fake, 300, users, seed=5)
        await settle(inters, 120)
        rows += outcome_rows("429 / 500 / slow REST", inters)
        rows += [r for r in latency_rows("429 / 500 / slow REST", inters) if r.ok is None]

        # 5. SIGTERM under load
        fake.rejected.clear()
        earlier = set(fake.interactions)
        inters = asyncio.ensure_future(ask_many(fake, 300, users, seed=6))
        await asyncio.sleep(0.05)
        delivered = set(fake.interactions) - earlier
        bot.signal()
        signalled = time.monotonic()
        try:
            inters = await inters
        except RuntimeError:  # the gateway closed under the sender: the rest were never delivered
            inters = []
        for i in range(50):  # asked while the bot stops: told to ask again, not left unanswered
            try:
                await fake.send_slash_command("ask", {"question": QUESTIONS[0]}, user=users[i])
            except RuntimeError:  # the bot has left the gateway
                break
            await asyncio.sleep(0.01)
        code = await bot.wait(60)
        took = time.monotonic() - signalled
        before = [i for i in fake.interactions.values() if i.id in delivered and i.name == "ask"]
        in_flight = [i for i in before if not i.is_complete()]
        notices = [i for i in fake.interactions.values() if i.id not in delivered | earlier and i.content
                   and "restarting" in i.content]
        await wait_until(lambda: all(i.is_complete() for i in fake.interactions.values() if i.id not in earlier), 5)
        lost = [i for i in fake.interactions.values() if i.name == "ask" and not i.is_complete() and not i.rejected]
        rows += [
            Row("SIGTERM under load", "exit code", str(code), code == 0),
            Row("SIGTERM under load", "stopped after", f"{took:.1f} s"),
            Row("SIGTERM under load", "questions delivered before the signal answered",
                f"{sum(answered(i) for i in before)} / {len(before)}", all(answered(i) for i in before)),
            Row("SIGTERM under load", "delivered after: told to ask again", str(len(notices))),
            Row("SIGTERM under load", "unanswered questions (all delivered)", str(len(lost)), not lost),
            Row("SIGTERM under load", "ERROR / Traceback lines in the log", str(len(bot.error_lines())),
                not bot.error_lines()),
            Row("logs", "colour codes in the log file", str(bot.text().count("\x1b[")), "\x1b[" not in bot.text()),
        ]
        del in_flight
    return rows


async def startup_scenarios(work: Path) -> list[Row]:
    """SIGTERM at points of start-up, each a fresh process; the state folder is shared, so a later
    start reads what an interrupted one left."""
    rows: list[Row] = []
    notes = work / "big-notes"
    write_notes(notes, 2000)
    state = work / "startup" / "state"
    delays = (0.15, 0.4, 0.8, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 6.0)
    exits, stray, broken, errors = [], [], 0, 0
    state.parent.mkdir(parents=True, exist_ok=True)
    async with FakeDiscord(token=TOKEN) as fake:
        config = write_config(state.parent, notes, fake)
        for n, delay in enumerate(delays):
            if n % 3 == 0:
                shutil.rmtree(state / "index", ignore_errors=True)  # a cold start: the cache gets written
            planted = None
            if n == len(delays) - 1:
                (state / "index").mkdir(parents=True, exist_ok=True)
                planted = state / "index" / f"{CACHE_FILE}stale123.tmp"
                planted.write_bytes(b"left by a killed process")
            bot = BotProcess(config, work / f"startup-{n}.log")
            await bot.start()
            await asyncio.sleep(delay)
            bot.signal()
            code = await bot.wait(60)
            exits.append(code)
            stray += [p for p in state.rglob("*.tmp")]
            errors += len(bot.error_lines())
            if (state / "index" / CACHE_FILE).exists() and not load_cache(state / "index").notes:
                broken += 1
            if planted is not None and planted.exists():
                stray.append(planted)
    rows += [
        Row("SIGTERM during start-up", f"runs (signal at {', '.join(f'{d:g}' for d in delays)} s)", str(len(delays))),
        Row("SIGTERM during start-up", "exit codes", " ".join(str(c) for c in exits), all(c == 0 for c in exits)),
        Row("SIGTERM during start-up", "stray temporary files (a planted stale one included)", str(len(stray)),
            not stray),
        Row("SIGTERM during start-up", "caches that do not load", str(broken), broken == 0),
        Row("SIGTERM during start-up", "ERROR / Traceback lines", str(errors), errors == 0),
    ]
    return rows


# --------------------------------------------------------------------------- report


def table(rows: list[Row]) -> str:
    lines = ["| scenario | figure | value | check |", "|---|---|---|---|"]
    for r in rows:
        check = "" if r.ok is None else ("pass" if r.ok else "FAIL")
        lines.append(f"| {r.scenario} | {r.figure} | {r.value} | {check} |")
    return "\n".join(lines)


async def soak(burst: int, users: int, bursts: int, keep: bool) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="notes-bot-soak-"))
    try:
        rows = await serving_scenarios(work, burst, users, bursts)
        print(table(rows), flush=True)
        rows += await startup_scenarios(work)
        return rows
    finally:
        if keep:
            print(f"logs and state kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=3, help="how many bursts (figures: their medians)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "soak-results.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, state)")
    args = parser.parse_args()
    started = time.monotonic()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = asyncio.run(soak(args.burst, args.users, args.bursts, args.keep))
    text = table(rows)
    print(text)
    failed = sum(1 for r in rows if r.ok is False)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    args.out.write_text(
        "# Soak results\n\n"
        f"`.venv/bin/python -m bench.soak --burst {args.burst} --users {args.users} --bursts {args.bursts}` on "
        f"{cores} cores (load average {load:.1f} when it started: the machine is shared), "
        f"{time.strftime('%Y-%m-%d')}, {time.monotonic() - started:.0f} s in all. Latencies are counted from each "
        "interaction's creation to its first callback reaching the fake; the burst's figures are the medians "
        "of its bursts, its checks cover all of them.\n\n"
        + text + f"\n\n{failed} check(s) failed.\n", encoding="utf-8")
    print(f"\n{failed} check(s) failed; written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
