"""Command line: `python -m bot ask|chat|check|run|report`, each with `--notes DIR` (repeatable) and `--config FILE`.

`ask`, `chat` and `check` keep the same index cache as the bot (discord.data_dir/index), so
only the first build over a big blog parses every note; `--no-cache` builds afresh.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence

# At the top, not inside version(): a stop signal landing in a function's import left the name its
# `except` clause needs unbound (UnboundLocalError: exit 1 instead of a clean stop).
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TextIO

from knowledge.engine import Engine
from knowledge.i18n import Catalog, knowledge_catalog
from knowledge.indexing import build_engine
from knowledge.languages import canonical_language
from knowledge.model import NINE_LANGUAGES, OTHER_LANGUAGES
from knowledge.render import answer_json, render_text

from ..catalog import bot_catalog, ui_language
from ..config import Config, ConfigError, load_config
from .terminal import LineReader, Progress, is_terminal, terminal_width, wrap_text

CONFIG_ENV = "NOTES_BOT_CONFIG"
KNOWN_LANGUAGES = NINE_LANGUAGES + OTHER_LANGUAGES  # what a --locale may name (the detector knows these)
HELP_WORDS = frozenset({"help", "?", "/help"})
QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit"})


def locale_option(value: str) -> str:
    """--locale: a locale or language code the engine knows (es-ES, zh_TW, fr), else a usage error."""
    if canonical_language(value) not in KNOWN_LANGUAGES:
        raise argparse.ArgumentTypeError(
            f"unknown language {value!r}: use a locale or language code such as en, es-ES, zh-TW "
            f"(known: {' '.join(KNOWN_LANGUAGES)})")
    return value


def version() -> str:
    try:
        return installed_version("notes-bot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--notes", action="append", metavar="DIR",
                        help="a folder of markdown notes (repeatable); replaces notes.folders of the config")
    common.add_argument("--config", metavar="FILE",
                        help=f"a config.yaml (default: ${CONFIG_ENV}, else built-in defaults with the bundled notes)")
    return common


def _engine_options() -> argparse.ArgumentParser:
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument("--no-cache", action="store_true",
                        help="build the index afresh instead of from (and into) the bot's cache in discord.data_dir")
    return engine


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    local = [common, _engine_options()]  # the subcommands that answer here, not in Discord
    parser = argparse.ArgumentParser(
        prog="notes-bot", description="Answer questions from a blog's markdown notes, in the asker's language.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = commands.add_parser("ask", parents=local, help="answer questions (arguments, else one per line on stdin)")
    ask.add_argument("questions", nargs="*", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="one JSON object per question (the format of eval/score.py)")
    ask.add_argument("--locale", type=locale_option,
                     help="the asker's locale, used when a question is too short to tell (e.g. es-ES)")
    chat = commands.add_parser("chat", parents=local, help="an interactive session in the terminal")
    chat.add_argument("--locale", type=locale_option, help="the asker's locale (e.g. es-ES)")
    commands.add_parser("check", parents=local, help="load the notes, print counts and every problem")
    commands.add_parser("run", parents=[common], help="start the Discord bot (token from $DISCORD_TOKEN)")
    report = commands.add_parser("report", parents=[common], help="what the journal says: unanswered questions, usage")
    report.add_argument("kind", choices=("unanswered", "stats"))
    report.add_argument("--days", type=_days, default=7, help="how many days back, today included (default 7)")
    report.add_argument("--json", action="store_true", help="one JSON object instead of text")
    return parser


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 3650, got {text!r}")
    return days


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config or os.environ.get(CONFIG_ENV) or None, args.notes)
    except ConfigError as error:
        if getattr(args, "json", False):  # ask --json, report --json: the error is JSON too
            print(json.dumps({"error": f"config error: {error}"}, ensure_ascii=False))
        else:
            print(f"config error: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        from ..discord_app.stopping import install

        try:
            install()  # `python -m bot` did it on its first line; the `notes-bot` script gets here first
            from ..discord_app.runner import run_bot  # imports discord: only the Discord subcommand pays for it

            return run_bot(config)
        except KeyboardInterrupt:  # a stop signal while discord.py imports (bot.stopping): a normal end
            return 0
    if args.command == "report":
        from .report import report  # no engine: the journal alone answers

        return report(config, args.kind, args.days, args.json, sys.stdout, sys.stderr)
    try:
        return answer_questions(args, config)
    except KeyboardInterrupt:  # Ctrl-C while building or answering: leave quietly (the shell shows ^C)
        sys.stdout.write("\n")
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; nothing is wrong with us
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


def answer_questions(args: argparse.Namespace, config: Config) -> int:
    engine = engine_for(config, cached=not args.no_cache)
    if args.command == "check":
        return check(engine, sys.stdout)
    if not engine.notes:
        print(no_notes(engine), file=sys.stderr)  # said, not fatal: answers then say "I don't know"
    if args.command == "chat":
        history = None if args.no_cache else config.discord.data_dir / "chat-history"
        return chat(engine, bot_catalog(), args.locale, sys.stdin, sys.stdout, history)
    if not args.questions and is_terminal(sys.stdin):
        # Reading questions from a terminal looks like a hang unless someone says so.
        print(bot_catalog().text(ui_language(args.locale), "cli.ask_stdin_hint"), file=sys.stderr)
    questions = args.questions or (line.rstrip("\n") for line in sys.stdin)
    return ask(engine, knowledge_catalog(), questions, args.json, args.locale, sys.stdout)


def engine_for(config: Config, cached: bool) -> Engine:
    """The engine from the bot's cache (written back in the background), with progress on a terminal."""
    progress = Progress()
    try:
        return build_engine(config.notes.folders, config.engine_options(cached=cached), progress=progress)
    finally:
        progress.finish()


def no_notes(engine: Engine) -> str:
    folders = ", ".join(str(f) for f in engine.folders)
    return f"no notes found in {folders} (notes are *.md or *.markdown files, searched in subfolders too)"


def ask(engine: Engine, catalog: Catalog, questions: Iterable[str], as_json: bool, locale: str | None,
        out: TextIO) -> int:
    wrap = not as_json and out.isatty()
    for question in questions:
        answer = engine.ask(question, locale=locale)
        if as_json:
            out.write(json.dumps(answer_json(answer, catalog), ensure_ascii=False) + "\n")
        elif wrap:
            out.write(wrap_text(render_text(answer, catalog), terminal_width()) + "\n\n")
        else:  # a pipe or a file gets the text as it is
            out.write(render_text(answer, catalog) + "\n\n")
        out.flush()
    return 0


def chat(engine: Engine, catalog: Catalog, locale: str | None, stdin: TextIO, out: TextIO,
         history: Path | None = None) -> int:
    """Questions until an empty line, quit, Ctrl-D or Ctrl-C; answers wrapped to the terminal."""
    lang = ui_language(locale)
    reader = LineReader(stdin, out, history)
    try:
        out.write(catalog.text(lang, "chat.banner", notes=len(engine.notes)) + "\n")
        out.flush()
        while True:
            line = reader.read()
            if line is None or not line.strip() or line.strip().lower() in QUIT_WORDS:
                return 0
            if line.strip().lower() in HELP_WORDS:
                out.write(wrap_text(catalog.text(lang, "chat.help"), terminal_width()) + "\n\n")
                out.flush()
                continue
            started = time.perf_counter()
            answer = engine.ask(line, locale=locale)
            elapsed_ms = 1000 * (time.perf_counter() - started)
            text = render_text(answer, catalog) + f"\n  [{answer.language}, confidence {answer.score:.2f}, " \
                f"{elapsed_ms:.1f} ms]"
            out.write(wrap_text(text, terminal_width()) + "\n\n")
            out.flush()
    except KeyboardInterrupt:  # Ctrl-C at the prompt or during an answer: a clean goodbye
        out.write("\n")
        return 0
    finally:
        reader.close()


def check(engine: Engine, out: TextIO) -> int:
    stats = engine.stats()
    folders = ", ".join(str(Path(f)) for f in engine.folders)
    out.write(f"notes folders: {folders}\n")
    if not stats["notes"]:
        out.write(no_notes(engine) + "\n")
        for problem in engine.problems:
            out.write(f"  {problem}\n")
        return 1
    out.write(f"{stats['notes']} notes in {stats['groups']} translation groups, {stats['passages']} passages\n")
    for lang, count in stats["languages"].items():  # type: ignore[union-attr]
        out.write(f"  {lang:<8} {count}\n")
    multi = [g for g in engine.groups if len(g.notes) > 1]
    out.write(f"{len(multi)} notes have translations:\n" if multi else "no note has a translation\n")
    for group in multi:
        langs = " ".join(sorted(note.lang for note in group.notes))
        out.write(f"  {group.key:<50} {langs}\n")
    if engine.problems:
        out.write(f"{len(engine.problems)} problems:\n")
        for problem in engine.problems:
            out.write(f"  {problem}\n")
        return 1
    out.write("no problems\n")
    return 0
