"""Sync application commands only when they changed.

Discord limits how many commands an application may create per day, and a
global sync takes a while to reach every client, so the bot hashes the exact
payload it would send (names, options, localizations, permissions) for each
target and stores the hash in the data directory. Targets: each configured
guild (instant) or, with none configured, the global scope. A target that was
synced before but is no longer configured gets its commands removed, so a
switch from guild to global does not leave duplicates behind.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from discord.ext import commands

_log = logging.getLogger(__name__)

STATE_FILE = "command-tree.json"
GLOBAL = "global"


def scope_name(guild_id: int | None) -> str:
    return GLOBAL if guild_id is None else f"guild:{guild_id}"


@dataclass
class SyncState:
    """Stored hashes: {application ID: {scope: sha256 of the payload}}."""

    path: Path
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SyncState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            # A damaged state file only costs one extra sync.
            _log.warning("Ignoring unreadable command sync state %s: %s", path, exc)
            return cls(path)
        if not isinstance(data, dict):
            return cls(path)
        hashes = {str(app): {str(k): str(v) for k, v in scopes.items()} for app,
                  scopes in data.items() if isinstance(scopes, dict)}
        return cls(path, hashes)

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.hashes, indent=2, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)  # atomic: a crash never leaves half a file
        except OSError as exc:
            _log.warning("Could not store the command sync state in %s (%s); commands will be synced again next start",
                         self.path, exc)


def payload_hash(payload: list[dict[str, Any]]) -> str:
    canonical = json.dumps(sorted(payload, key=lambda c: (c.get("type", 1), c.get("name", ""))), sort_keys=True,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def tree_payload(tree: discord.app_commands.CommandTree, guild: discord.abc.Snowflake | None) -> list[dict[str,
                                                                                                                 Any]]:
    """What `tree.sync(guild=...)` would send, translations included."""
    translator = tree.translator
    commands = tree.get_commands(guild=guild)
    if translator is not None:
        return [await cmd.get_translated_payload(tree, translator) for cmd in commands]
    return [cmd.to_dict(tree) for cmd in commands]


@dataclass(frozen=True)
class SyncResult:
    synced: tuple[str, ...]  # scopes whose commands were uploaded
    unchanged: tuple[str, ...]  # scopes skipped because the stored hash matched
    cleared: tuple[str, ...]  # scopes no longer configured, emptied
    failed: tuple[str, ...]


async def sync_commands(bot: commands.Bot, guild_ids: tuple[int, ...], data_dir: Path) -> SyncResult:
    tree = bot.tree
    app_id = str(bot.application_id)
    state = SyncState.load(data_dir / STATE_FILE)
    stored = state.hashes.setdefault(app_id, {})
    targets: list[int | None] = list(guild_ids) or [None]
    synced: list[str] = []
    unchanged: list[str] = []
    failed: list[str] = []
    for guild_id in targets:
        guild = discord.Object(guild_id) if guild_id is not None else None
        if guild is not None:
            tree.copy_global_to(guild=guild)
        scope = scope_name(guild_id)
        digest = payload_hash(await tree_payload(tree, guild))
        if stored.get(scope) == digest:
            unchanged.append(scope)
            continue
        try:
            await tree.sync(guild=guild)
        except discord.Forbidden:
            _log.warning(
                "Cannot register commands in guild %s: invite the bot with the applications.commands scope", guild_id
            )
            failed.append(scope)
            continue
        except discord.HTTPException as exc:
            _log.warning("Syncing commands to %s failed: %s", scope, exc)
            failed.append(scope)
            continue
        stored[scope] = digest
        synced.append(scope)
    cleared: list[str] = []
    wanted = {scope_name(g) for g in targets}
    for scope in sorted(set(stored) - wanted):
        try:
            if scope == GLOBAL:
                await bot.http.bulk_upsert_global_commands(bot.application_id, payload=[])
            else:
                await bot.http.bulk_upsert_guild_commands(bot.application_id, int(scope.split(":", 1)[1]), payload=[])
        except discord.HTTPException as exc:
            _log.warning("Removing the commands from %s (no longer configured) failed: %s", scope, exc)
            continue
        del stored[scope]
        cleared.append(scope)
    state.save()
    _log.info(
        "Application commands: synced %s, unchanged %s, removed %s",
        ", ".join(synced) or "none", ", ".join(unchanged) or "none", ", ".join(cleared) or "none",
    )
    return SyncResult(tuple(synced), tuple(unchanged), tuple(cleared), tuple(failed))
