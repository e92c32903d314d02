"""Command line: `python -m bot ask|chat|check|run`, each with `--notes DIR` (repeatable) and `--config FILE`."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence, TextIO

from knowledge.engine import Engine
from knowledge.i18n import Catalog, knowledge_catalog
from knowledge.render import answer_json, render_text

from .config import ConfigError, load_config

CONFIG_ENV = "NOTES_BOT_CONFIG"


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--notes", action="append", metavar="DIR",
                        help="a folder of markdown notes (repeatable); replaces notes.folders of the config")
    common.add_argument("--config", metavar="FILE",
                        help=f"a config.yaml (default: ${CONFIG_ENV}, else built-in defaults with the bundled notes)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="notes-bot", description="Answer questions from a blog's markdown notes, in the asker's language.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = commands.add_parser("ask", parents=[common], help="answer questions (arguments, else one per line on stdin)")
    ask.add_argument("questions", nargs="*", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="one JSON object per question (the format of eval/score.py)")
    ask.add_argument("--locale", help="the asker's locale, used when a question is too short to tell (e.g. es-ES)")
    chat = commands.add_parser("chat", parents=[common], help="an interactive session in the terminal")
    chat.add_argument("--locale", help="the asker's locale (e.g. es-ES)")
    commands.add_parser("check", parents=[common], help="load the notes, print counts and every problem")
    commands.add_parser("run", parents=[common], help="start the Discord bot (token from $DISCORD_TOKEN)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config or os.environ.get(CONFIG_ENV) or None, args.notes)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        from .stopping import install

        install()  # `python -m bot` did it on its first line; the `notes-bot` script gets here first
        from .runner import run_bot  # imports discord: only the Discord subcommand pays for it

        return run_bot(config)
    engine = Engine.build(config.notes.folders, config.engine_options())  # the command line keeps no cache
    catalog = knowledge_catalog()
    if args.command == "check":
        return check(engine, sys.stdout)
    if args.command == "chat":
        return chat(engine, catalog, args.locale, sys.stdin, sys.stdout)
    questions = args.questions or (line.rstrip("\n") for line in sys.stdin)
    return ask(engine, catalog, questions, args.json, args.locale, sys.stdout)


def ask(engine: Engine, catalog: Catalog, questions: Iterable[str], as_json: bool, locale: str | None,
        out: TextIO) -> int:
    for question in questions:
        answer = engine.ask(question, locale=locale)
        if as_json:
            out.write(json.dumps(answer_json(answer, catalog), ensure_ascii=False) + "\n")
        else:
            out.write(render_text(answer, catalog) + "\n\n")
        out.flush()
    return 0


def chat(engine: Engine, catalog: Catalog, locale: str | None, stdin: TextIO, out: TextIO) -> int:
    stats = engine.stats()
    out.write(f"{stats['notes']} notes loaded. Ask a question (empty line or Ctrl-D to quit).\n")
    interactive = stdin.isatty()
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = stdin.readline()
        if not line or not line.strip():
            return 0
        started = time.perf_counter()
        answer = engine.ask(line, locale=locale)
        elapsed_ms = 1000 * (time.perf_counter() - started)
        out.write(render_text(answer, catalog) + f"\n  [{answer.language}, confidence {answer.score:.2f}, "
                  f"{elapsed_ms:.1f} ms]\n\n")
        out.flush()


def check(engine: Engine, out: TextIO) -> int:
    stats = engine.stats()
    folders = ", ".join(str(Path(f)) for f in engine.folders)
    out.write(f"notes folders: {folders}\n")
    out.write(f"{stats['notes']} notes in {stats['groups']} translation groups, {stats['passages']} passages\n")
    for lang, count in stats["languages"].items():  # type: ignore[union-attr]
        out.write(f"  {lang:<8} {count}\n")
    multi = [g for g in engine.groups if len(g.notes) > 1]
    out.write(f"{len(multi)} notes have translations:\n")
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
