"""The bot's configuration: one YAML file, validated up front, read into frozen dataclasses.

    config = load_config("config.yaml", notes=["extra/notes"])
    engine = build_engine(config.notes.folders, config.engine_options())

Validation happens once, at start: an unknown key, a wrong type or a missing notes
folder raises `ConfigError` naming the key path (``discord.channels[1]: ...``), so a
typo never silently turns a feature off and a broken config never reaches Discord.
Nothing here touches the network or the token itself: only the *name* of the
environment variable that holds the token is configuration.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from knowledge.engine import EngineOptions
from knowledge.languages import canonical_language

from .journal.voter_key import VOTER_KEY_FILE

# The package folder; computed from this file so that it works whether or not
# `bot` is installed, and never depends on the working directory.
PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_NOTES = PACKAGE_DIR / "notes"

Trigger = Literal["question", "every"]
UnknownPolicy = Literal["quiet", "react"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A configuration problem; the message starts with the key path it is about."""


def default_data_dir() -> Path:
    """`$XDG_STATE_HOME/notes-bot`, else `~/.local/state/notes-bot`.

    State (the command-tree hash, later a database) is machine-local and
    regenerable, which is what the XDG *state* directory is for; it must never
    live inside the installed package, which may be read-only.
    """
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    # The XDG spec says a relative value is invalid and must be ignored.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "notes-bot"


# The engine owns its defaults; the config only overrides them, so tuning the
# engine never leaves a stale copy of a number here.
_ENGINE_DEFAULTS = EngineOptions()


@dataclass(frozen=True)
class GitConfig:
    """`git pull --ff-only` of the notes before each reload; no repository: no pull."""

    repository: Path | None = None
    remote: str = "origin"
    branch: str | None = None  # None: the checked-out branch's upstream


@dataclass(frozen=True)
class NotesConfig:
    folders: tuple[Path, ...] = (BUNDLED_NOTES,)
    base_url: str | None = None
    fallback_languages: tuple[str, ...] = _ENGINE_DEFAULTS.fallback_languages
    max_note_bytes: int = _ENGINE_DEFAULTS.max_note_bytes
    workers: int | None = _ENGINE_DEFAULTS.workers  # processes that read notes in a build; None: one per core
    watch: bool = False  # reload when files in the folders change (bot.watching; needs the watch extra)
    git: GitConfig = field(default_factory=GitConfig)


@dataclass(frozen=True)
class AnswersConfig:
    min_confidence: float | None = None  # None: the engine's tuned default
    not_sure_confidence: float | None = None  # None: the engine's measured default
    semantic: bool = _ENGINE_DEFAULTS.semantic  # sentence vectors beside word search (cross-language, paraphrase)


@dataclass(frozen=True)
class CooldownConfig:
    """Per-user only: a per-channel or per-guild limit would slow down a busy server."""

    rate: int = 5
    per_seconds: float = 60.0


@dataclass(frozen=True)
class DiscordConfig:
    token_env: str = "DISCORD_TOKEN"
    guild_ids: tuple[int, ...] = ()  # sync commands to these guilds (instant); empty → global
    channels: tuple[int, ...] = ()  # where typed questions (no mention) are answered
    trigger: Trigger = "question"
    dms: bool = False
    reply_in_thread: bool = False
    unknown_in_channels: UnknownPolicy = "quiet"
    cooldown: CooldownConfig = field(default_factory=CooldownConfig)
    admin_role_ids: tuple[int, ...] = ()
    admin_user_ids: tuple[int, ...] = ()
    data_dir: Path = field(default_factory=default_data_dir)
    # Discord-compatible endpoints (a self-hosted gateway, a test server); None: discord.py's defaults.
    api_url: str | None = None  # e.g. "http://127.0.0.1:8080/api/v10"
    gateway_url: str | None = None  # e.g. "ws://127.0.0.1:8080/gw"

    @property
    def typed_questions(self) -> bool:
        """True when the bot reads messages that do not mention it (needs message content)."""
        return bool(self.channels) or self.dms


@dataclass(frozen=True)
class JournalConfig:
    """The journal of questions and votes (SQLite); see bot/journal.py."""

    enabled: bool = True
    path: Path | None = None  # None: discord.data_dir / "journal.sqlite3"
    retention_days: int = 30  # question text older than this is blanked; counts stay
    # Off by default: the reports need no user, and votes stay one per user without IDs.
    store_user_ids: bool = False


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    notes: NotesConfig = field(default_factory=NotesConfig)
    answers: AnswersConfig = field(default_factory=AnswersConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    source: Path | None = None  # the file this was read from; None for built-in defaults

    def engine_options(self, cached: bool = False) -> EngineOptions:
        """Engine options from this config; `cached` keeps the parsed notes in data_dir/index
        between builds (the bot's starts and reloads; the command line builds afresh)."""
        options = replace(
            _ENGINE_DEFAULTS,
            fallback_languages=self.notes.fallback_languages,
            base_url=self.notes.base_url,
            max_note_bytes=self.notes.max_note_bytes,
            workers=self.notes.workers,
            semantic=self.answers.semantic,
            cache_dir=self.discord.data_dir / "index" if cached else None,
        )
        if self.answers.min_confidence is not None:
            options = replace(options, min_confidence=self.answers.min_confidence)
        if self.answers.not_sure_confidence is not None:
            options = replace(options, not_sure_confidence=self.answers.not_sure_confidence)
        return options

    @property
    def journal_path(self) -> Path:
        return self.journal.path or self.discord.data_dir / "journal.sqlite3"

    @property
    def voter_key_path(self) -> Path:
        """The key of the voters' hashes: in the data folder, apart from the journal (bot.journal.voter_key)."""
        return self.discord.data_dir / VOTER_KEY_FILE


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None = None, notes: Sequence[str | Path] | None = None) -> Config:
    """Read and validate a config file; `path=None` means built-in defaults (no file is searched for).

    `notes` (the repeatable `--notes DIR` option) replaces `notes.folders`; those
    paths are relative to the working directory, while folders named in the file
    are relative to the file's own directory, so the bot runs from anywhere.
    """
    raw: Any = {}
    base = Path.cwd()
    source: Path | None = None
    if path is not None:
        source = Path(path).expanduser().resolve()
        base = source.parent
        raw = _read_yaml(source)
    if raw is None:  # an empty file is a valid "all defaults" config
        raw = {}
    reader = _Reader(base)
    config = reader.config(raw)
    if notes is not None:
        folders = tuple(_existing_folder(Path(n), Path.cwd(), f"--notes[{i}]") for i, n in enumerate(notes))
        if not folders:
            raise ConfigError("--notes: at least one folder is needed")
        config = replace(config, notes=replace(config.notes, folders=folders))
    return replace(config, source=source)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return repr(value)


def _existing_folder(path: Path, base: Path, key: str) -> Path:
    folder = path.expanduser()
    if not folder.is_absolute():
        folder = base / folder
    folder = folder.resolve()
    if not folder.exists():
        raise ConfigError(f"{key}: folder not found: {folder}")
    if not folder.is_dir():
        raise ConfigError(f"{key}: not a folder: {folder}")
    return folder


@dataclass(frozen=True)
class _Reader:
    """Walks the raw YAML; each method validates one section and names the key path on error."""

    base: Path  # folder that relative paths in the file resolve against

    # -- generic pieces

    def section(self, raw: Any, key: str, known: type) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{key or '(top level)'}: expected a mapping of keys, got {_describe(raw)}")
        names = [f.name for f in fields(known) if f.name != "source"]
        for name in raw:
            if not isinstance(name, str) or name not in names:
                full = f"{key}.{name}" if key else str(name)
                close = difflib.get_close_matches(str(name), names, n=1)
                hint = f" (did you mean '{key + '.' if key else ''}{close[0]}'?)" if close else ""
                raise ConfigError(f"unknown key '{full}'{hint}")
        return dict(raw)

    @staticmethod
    def boolean(value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_describe(value)}")
        return value

    @staticmethod
    def integer(value: Any, key: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {_describe(value)}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{key}: expected an integer of at least {minimum}, got {value}")
        return value

    @staticmethod
    def number(value: Any, key: str, low: float, high: float | None = None, *, open_low: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {_describe(value)}")
        too_low = value <= low if open_low else value < low
        if too_low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"{'above' if open_low else 'at least'} {low}"
            raise ConfigError(f"{key}: expected a number {bounds}, got {value}")
        return float(value)

    @staticmethod
    def string(value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: expected a non-empty string, got {_describe(value)}")
        return value.strip()

    def url(self, value: Any, key: str, schemes: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        text = self.string(value, key)
        if not text.startswith(schemes) or len(text) <= max(map(len, schemes)):
            raise ConfigError(f"{key}: expected a URL starting with {' or '.join(schemes)}, got {text!r}")
        return text

    def choice(self, value: Any, key: str, options: Sequence[str]) -> str:
        text = self.string(value, key)
        if text not in options:
            raise ConfigError(f"{key}: expected one of {', '.join(options)}, got {text!r}")
        return text

    @staticmethod
    def items(value: Any, key: str, each: Callable[[Any, str], Any]) -> tuple[Any, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {_describe(value)}")
        return tuple(each(item, f"{key}[{i}]") for i, item in enumerate(value))

    @staticmethod
    def snowflake(kind: str) -> Callable[[Any, str], int]:
        def read(value: Any, key: str) -> int:
            # Quoted IDs are common in YAML (people copy them as text); digits only.
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{key}: expected a {kind} ID (integer), got {_describe(value)}")
            return value

        return read

    # -- sections

    def config(self, raw: Any) -> Config:
        top = self.section(raw, "", Config)
        return Config(
            notes=self.notes(top.get("notes"), "notes"),
            answers=self.answers(top.get("answers"), "answers"),
            discord=self.discord(top.get("discord"), "discord"),
            logging=self.logging(top.get("logging"), "logging"),
            journal=self.journal(top.get("journal"), "journal"),
        )

    def notes(self, raw: Any, key: str) -> NotesConfig:
        sec = self.section(raw, key, NotesConfig)
        default = NotesConfig()
        folders = default.folders
        if sec.get("folders") is not None:
            folders = self.items(
                sec["folders"], f"{key}.folders",
                lambda v, k: _existing_folder(Path(self.string(v, k)), self.base, k),
            )
            if not folders:
                raise ConfigError(f"{key}.folders: at least one folder is needed")
        base_url = self.url(sec.get("base_url"), f"{key}.base_url", ("http://", "https://"))
        fallback = default.fallback_languages
        if "fallback_languages" in sec:
            fallback = self.items(sec["fallback_languages"], f"{key}.fallback_languages", self.language)
        return NotesConfig(
            folders=folders,
            base_url=base_url,
            fallback_languages=fallback,
            max_note_bytes=self.integer(sec.get("max_note_bytes", default.max_note_bytes), f"{key}.max_note_bytes", 1),
            workers=None if sec.get("workers") is None else self.integer(sec["workers"], f"{key}.workers", 1),
            watch=self.boolean(sec.get("watch", default.watch), f"{key}.watch"),
            git=self.git(sec.get("git"), f"{key}.git"),
        )

    def git(self, raw: Any, key: str) -> GitConfig:
        sec = self.section(raw, key, GitConfig)
        default = GitConfig()
        repository = None
        if sec.get("repository") is not None:
            repository = _existing_folder(Path(self.string(sec["repository"], f"{key}.repository")), self.base,
                                          f"{key}.repository")
            if not (repository / ".git").exists():
                raise ConfigError(f"{key}.repository: not a git work tree (no .git inside): {repository}")
        branch = None if sec.get("branch") is None else self.string(sec["branch"], f"{key}.branch")
        return GitConfig(
            repository=repository,
            remote=self.string(sec.get("remote", default.remote), f"{key}.remote"),
            branch=branch,
        )

    def language(self, value: Any, key: str) -> str:
        text = self.string(value, key)
        if text == "original":
            return text
        code = canonical_language(text)
        if code is None:
            raise ConfigError(f"{key}: expected a language code (en, es, zh-hant, ...) or 'original', got {text!r}")
        return code

    def answers(self, raw: Any, key: str) -> AnswersConfig:
        sec = self.section(raw, key, AnswersConfig)
        default = AnswersConfig()
        value = sec.get("min_confidence", default.min_confidence)
        not_sure = sec.get("not_sure_confidence", default.not_sure_confidence)
        return AnswersConfig(
            min_confidence=None if value is None else self.number(value, f"{key}.min_confidence", 0.0, 1.0),
            not_sure_confidence=None if not_sure is None else self.number(not_sure, f"{key}.not_sure_confidence",
                                                                          0.0, 1.0),
            semantic=self.boolean(sec.get("semantic", default.semantic), f"{key}.semantic"),
        )

    def cooldown(self, raw: Any, key: str) -> CooldownConfig:
        sec = self.section(raw, key, CooldownConfig)
        default = CooldownConfig()
        return CooldownConfig(
            rate=self.integer(sec.get("rate", default.rate), f"{key}.rate", 1),
            per_seconds=self.number(sec.get("per_seconds", default.per_seconds), f"{key}.per_seconds", 0.0,
                                    open_low=True),
        )

    def discord(self, raw: Any, key: str) -> DiscordConfig:
        sec = self.section(raw, key, DiscordConfig)
        d = DiscordConfig()
        data_dir = d.data_dir
        if sec.get("data_dir") is not None:
            data_dir = Path(self.string(sec["data_dir"], f"{key}.data_dir")).expanduser()
            if not data_dir.is_absolute():
                data_dir = (self.base / data_dir).resolve()
            if data_dir.exists() and not data_dir.is_dir():
                raise ConfigError(f"{key}.data_dir: not a folder: {data_dir}")
        token_env = self.string(sec.get("token_env", d.token_env), f"{key}.token_env")
        if not token_env.replace("_", "").isalnum():
            raise ConfigError(f"{key}.token_env: expected the name of an environment variable, got {token_env!r}")
        return DiscordConfig(
            api_url=self.url(sec.get("api_url"), f"{key}.api_url", ("http://", "https://")),
            gateway_url=self.url(sec.get("gateway_url"), f"{key}.gateway_url", ("ws://", "wss://")),
            token_env=token_env,
            guild_ids=self.items(sec.get("guild_ids"), f"{key}.guild_ids", self.snowflake("guild")),
            channels=self.items(sec.get("channels"), f"{key}.channels", self.snowflake("channel")),
            trigger=self.choice(sec.get("trigger", d.trigger), f"{key}.trigger", ("question", "every")),  # type: ignore[arg-type]
            dms=self.boolean(sec.get("dms", d.dms), f"{key}.dms"),
            reply_in_thread=self.boolean(sec.get("reply_in_thread", d.reply_in_thread), f"{key}.reply_in_thread"),
            unknown_in_channels=self.choice(  # type: ignore[arg-type]
                sec.get("unknown_in_channels", d.unknown_in_channels), f"{key}.unknown_in_channels", ("quiet", "react")
            ),
            cooldown=self.cooldown(sec.get("cooldown"), f"{key}.cooldown"),
            admin_role_ids=self.items(sec.get("admin_role_ids"), f"{key}.admin_role_ids", self.snowflake("role")),
            admin_user_ids=self.items(sec.get("admin_user_ids"), f"{key}.admin_user_ids", self.snowflake("user")),
            data_dir=data_dir,
        )

    def journal(self, raw: Any, key: str) -> JournalConfig:
        sec = self.section(raw, key, JournalConfig)
        d = JournalConfig()
        path = None
        if sec.get("path") is not None:
            path = Path(self.string(sec["path"], f"{key}.path")).expanduser()
            if not path.is_absolute():
                path = (self.base / path).resolve()
            if path.is_dir():
                raise ConfigError(f"{key}.path: expected a file, got the folder {path}")
        return JournalConfig(
            enabled=self.boolean(sec.get("enabled", d.enabled), f"{key}.enabled"),
            path=path,
            retention_days=self.integer(sec.get("retention_days", d.retention_days), f"{key}.retention_days", 0),
            store_user_ids=self.boolean(sec.get("store_user_ids", d.store_user_ids), f"{key}.store_user_ids"),
        )

    def logging(self, raw: Any, key: str) -> LoggingConfig:
        sec = self.section(raw, key, LoggingConfig)
        level = self.string(sec.get("level", LoggingConfig.level), f"{key}.level").upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"{key}.level: expected one of {', '.join(LOG_LEVELS)}, got {sec.get('level')!r}")
        return LoggingConfig(level=level)


__all__ = [
    "AnswersConfig", "Config", "ConfigError", "CooldownConfig", "DiscordConfig", "GitConfig", "JournalConfig",
    "LoggingConfig",
    "NotesConfig", "BUNDLED_NOTES", "default_data_dir", "load_config",
]
