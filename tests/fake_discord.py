"""A local fake of Discord (REST API + gateway) on 127.0.0.1, for end-to-end tests of discord.py bots.

Nothing here talks to the internet: the server listens on 127.0.0.1 with an ephemeral port, and
discord.py is pointed at it by two class attributes (no discord.py file is changed).

Quick start
-----------
::

    from tests.fake_discord import FakeDiscord

    async def test_ping(error_log):                       # error_log: see "Fixtures" below
        async with FakeDiscord(token="test-token") as fake:
            bot = make_my_bot()                           # any discord.Client / commands.Bot
            async with fake.running(bot):                 # patches discord.py, bot.start(), waits on_ready
                await bot.tree.sync(guild=discord.Object(fake.guild_id))
                inter = await fake.send_slash_command("ping")
                resp = await fake.wait_interaction_response(inter)
                assert resp.content == "pong" and resp.ephemeral

                msg = await fake.send_message("general", "hey <@bot> does deepseek use vllm?")
                reply = await fake.wait_channel_message("general")
                assert reply.message_reference["message_id"] == msg["id"]
                assert not reply.pings.everyone

``fake.running(bot)`` leaves the bot closed and its task finished on exit, and re-raises whatever the
bot task died of (e.g. ``discord.LoginFailure``).  A restart is simply a second ``running()`` with a new
bot instance against the same ``FakeDiscord``: registered commands, messages and records persist.

Server
------
``FakeDiscord(*, token="test-token", guilds=None, bot_username="NotesBot", application_id=None,
bot_permissions=DEFAULT_BOT_PERMISSIONS, privileged_intents=ALL_PRIVILEGED, heartbeat_interval=41250,
interaction_ack_timeout=3.0, echo_bot_messages=True, strict_commands=True, port=0)``

* ``async with FakeDiscord(...) as fake`` / ``await fake.start()`` + ``await fake.close()``.
* ``fake.api_base`` (``http://127.0.0.1:PORT/api/v10``), ``fake.gateway_url`` (``ws://127.0.0.1:PORT/gw``).
* ``with fake.patched_discord():`` sets ``discord.http.Route.BASE`` and
  ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``; restores the previous values on exit.
* ``async with fake.running(client, *, token=None, timeout=10, wait_ready=True, fast_ready=True)``:
  patches, starts ``client.start(token)`` in a task, waits until ``client.is_ready()``; on exit
  ``client.close()`` and awaits the task.  ``fast_ready`` lowers the client's ``guild_ready_timeout``
  to 0.05 s (discord.py otherwise waits 2 s after the last GUILD_CREATE before on_ready).
* ``await fake.wait_ready(timeout=10)``: the fake has sent READY + all GUILD_CREATEs to a session.

World (plain dict payloads, exactly as Discord sends them)
---------------------------------------------------------
The default world is ``make_guild()``: guild "Test Guild" with text channels ``general`` and ``help``,
members ``owner`` (guild owner), ``alice`` (no roles), ``admin`` (role with Administrator 0x8) and
``manager`` (role with Manage Guild 0x20), plus the bot member (managed role with ``bot_permissions``).
Pass ``guilds=[make_guild(...), ...]`` for something else.

* ``fake.bot_user``, ``fake.bot_id``, ``fake.application_id``, ``fake.guild`` (first guild), ``fake.guild_id``,
  ``fake.channel_id`` (first text channel of the first guild).
* ``fake.get_channel(name_or_id)``, ``fake.get_user(name_or_id)``, ``fake.get_member(name_or_id, guild=None)``,
  ``fake.get_role(name_or_id, guild=None)``, ``fake.permissions_for(user, channel=None)`` (Discord's algorithm:
  owner/Administrator -> all, @everyone + roles, then channel overwrites).
* ``await fake.add_member(username, *, permissions=0, roles=(), guild=None)`` -> member dict (creates a role for
  ``permissions``; sends GUILD_ROLE_CREATE to a live bot), ``await fake.add_text_channel(name, guild=None)``,
  ``await fake.set_permission_overwrite(channel, target, *, allow=0, deny=0)`` (target: role id/name, username,
  "everyone" or "bot").  The fake enforces the bot's channel permissions (403, code 50001/50013) for posting,
  typing, reactions, threads and history.
* Builders: ``make_user``, ``make_role``, ``make_text_channel``, ``make_member``, ``make_guild``,
  ``new_snowflake``; permission bits in ``Perm``, intent bits in ``Intent``.

Injecting user actions (each returns what was sent; ``user`` is a username, id, user or member dict;
default ``"alice"``; ``channel`` is a channel name, id or dict, default the first text channel)
-------------------------------------------------------------------------------------------------
* ``await fake.send_message(channel=None, content="", *, author="alice", mention_bot=False, reply_to=None,
  embeds=None, attachments=None)`` -> message dict.  ``<@bot>`` in the content is replaced by the bot's
  mention; ``mention_bot=True`` prepends one if absent.  Delivered only if the bot identified with the
  GUILD_MESSAGES intent; content/embeds/attachments are blanked (as Discord does) unless the bot has the
  MESSAGE_CONTENT intent or is mentioned.
* ``await fake.send_dm(content, *, author="alice")`` -> message dict (DIRECT_MESSAGES intent).
* ``await fake.send_slash_command(name, options=None, *, user="alice", channel=None, locale="en-US",
  permissions=None, dm=False)`` -> ``FakeInteraction`` (the channel decides the guild).  ``name`` may be
  "group sub".  Option types come from the commands the bot registered (``strict_commands``):
  unknown/missing-required options, values outside ``choices``, commands hidden by
  ``default_member_permissions`` or not allowed in DMs raise ``CommandUnavailable``/``ValueError`` just as the Discord
  client would not let the user send them.
  ``permissions`` overrides the member's computed permission integer.
* ``await fake.send_autocomplete(name, option, value, *, options=None, user=..., locale=..., timeout=5)``
  -> list of choice dicts (the bot's autocomplete answer).
* ``await fake.send_message_command(name, message, *, user=..., locale=...)`` (message context menu,
  ``message`` a message dict or id known to the fake), ``await fake.send_user_command(name, target, ...)``.
* ``await fake.send_component(message, custom_id, *, component_type=2, values=None, user=...)`` (button/select).
* ``await fake.dispatch_event(event_name, data)`` sends any raw DISPATCH to the live sessions.

Interaction records (``FakeInteraction``)
-----------------------------------------
``.id .token .type .payload .callbacks .original .followups .edits`` (PATCHes of @original) ``.rejected`` and derived
``.response_type`` (4 message, 5 deferred, 8 autocomplete, ...), ``.deferred``, ``.ephemeral``,
``.choices``, ``.messages`` (original then followups, as ``BotMessage``), ``.content`` (content of the
last message), ``.is_complete()``.  ``await fake.wait_interaction_response(inter, timeout=5, allow_rejected=False)``
waits until the bot answered (for a deferral: until the original was edited or a followup sent) and fails
at once if Discord would have rejected an answer (late > 3 s ack, double ack, >25 choices, 2001-char
content, ...).  As on Discord, the first followup after a type-5 defer replaces the "thinking" message
and keeps the defer's ephemeral flag.

Bot output records
------------------
* ``fake.channel_messages``: ``BotMessage`` for each ``POST /channels/{id}/messages`` (``.id .channel_id
  .content .embeds .text .flags .ephemeral .allowed_mentions .message_reference .pings .request .files
  .edits .message``).  ``.pings`` is what Discord would actually ping (``users``, ``roles``, ``everyone``,
  ``replied_user``) given ``allowed_mentions``.
* ``await fake.wait_channel_message(channel=None, *, timeout=5, predicate=None)``: the oldest bot channel
  message not yet returned by this method (queue semantics, so a reply that arrived before the call is
  not missed).  ``await fake.expect_no_channel_message(channel=None, within=0.3)``.
* ``fake.reactions`` (``Reaction(channel_id, message_id, emoji, removed)``), ``fake.threads_created``
  (thread channel dicts), ``fake.typing`` (channel ids), ``fake.messages`` (id -> every message dict).
* ``fake.command_syncs`` (``CommandSync(guild_id, request, commands)`` for every bulk PUT; ``guild_id`` None =
  global), ``fake.registered_commands(guild=None, *, global_=False)``, ``fake.register_commands(commands,
  guild=None, *, global_=False)`` (pre-register without a recorded sync).  Bulk PUTs are validated like Discord
  (lower-case names, 1-100 char descriptions, valid locale keys such as "es-ES" not "es", required options first,
  <= 25 options/choices) and answered 400/50035 otherwise.
* ``fake.identifies`` (IDENTIFY payloads), ``fake.intents`` (``discord.Intents`` of the last IDENTIFY),
  ``fake.presence_updates``, ``fake.gateway_connections``, ``fake.resumes`` (RESUMEs answered RESUMED).
* ``fake.requests`` (every REST call, ``RecordedRequest``), ``fake.unhandled`` (routes the fake does not
  know, answered 404), ``fake.rejected`` (4xx answers), ``fake.assert_clean()`` raises if either is non-empty.
* ``fake.inject_error(method, path_regex, *, status=403, code=50013, message="Missing Permissions", times=1)``
  (avoid 5xx: discord.py retries those 5 times, sleeping 1+2n s), ``fake.clear_records()``,
  ``await fake.disconnect_sessions(code=4000)`` (drop the gateway; discord.py resumes), ``fake.drop_sessions()``
  (cut the connections without a close frame: 1006), ``fake.inject_delay(method, path_regex, seconds, times=1)``
  (a slow REST answer).  ``FakeInteraction.callback_times``: when each callback arrived (loop time, as
  ``created_at``).
* ``await fake.wait_for(predicate, timeout=5, what="...")``: generic; every wait raises ``WaitTimeout``
  (an AssertionError with the recent requests) instead of hanging, and fails at once if a bot started
  with ``running()`` died.  ``DEFAULT_TIMEOUT`` is 5 s, no wait is unbounded.

Fixtures / guards (re-export from conftest.py: ``from tests.fake_discord import error_log, network_guard,
fake_discord``)
-------------------------------------------------------------------------------------------------------
* ``error_log`` (function scope, autouse where imported): collects every log record >= ERROR (discord.py
  only *logs* exceptions raised in event handlers and commands) and fails the test at teardown.  Use
  ``error_log.expect(r"regex")`` for errors a test provokes on purpose.  ``ErrorLogCapture`` is the class.
* ``network_guard`` (session scope, autouse where imported) = ``install_network_guard()`` /
  ``uninstall_network_guard()``: any connect/DNS lookup to a non-loopback host raises
  ``BlockedNetworkError`` before a packet leaves; ``network_guard_violations()`` lists the attempts.
  Covers ``socket.socket.connect/connect_ex/sendto``, ``socket.getaddrinfo``, ``gethostbyname(_ex)``,
  ``gethostbyaddr``, hence
  ``socket.create_connection``, asyncio and aiohttp (ThreadedResolver).  Not covered: C-level clients
  (uvloop, aiodns/c-ares) which bypass Python sockets.
* ``fake_discord``: an async fixture yielding a started ``FakeDiscord()`` with ``patched_discord()`` active.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import gc
import ipaddress
import itertools
import json
import logging
import re
import secrets
import socket
import time
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
import yarl
from aiohttp import web

__all__ = [
    "FakeDiscord", "FakeInteraction", "BotMessage", "Pings", "Reaction", "CommandSync", "RecordedRequest",
    "WaitTimeout", "InteractionRejected", "CommandUnavailable", "BlockedNetworkError", "ErrorLogCapture",
    "Perm", "Intent", "DEFAULT_TIMEOUT", "DEFAULT_BOT_PERMISSIONS", "DEFAULT_EVERYONE_PERMISSIONS",
    "make_user", "make_role", "make_text_channel", "make_member", "make_guild", "new_snowflake",
    "compute_pings", "install_network_guard", "uninstall_network_guard", "network_guard_violations",
    "error_log", "network_guard", "fake_discord",
]

_log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 10.0  # what ``running()`` waits at most for start-up / shutdown
DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gw"


class Perm:
    """Permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    ALL = (1 << 53) - 1


class Intent:
    """Gateway intent bits."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1  # privileged
    GUILD_PRESENCES = 1 << 8  # privileged
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15  # privileged
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


ALL_PRIVILEGED = Intent.PRIVILEGED
DEFAULT_EVERYONE_PERMISSIONS = (
    Perm.CREATE_INSTANT_INVITE | Perm.ADD_REACTIONS | Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES | Perm.READ_MESSAGE_HISTORY | Perm.USE_EXTERNAL_EMOJIS | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS | Perm.CREATE_PUBLIC_THREADS | Perm.SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT_PERMISSIONS = (
    Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.EMBED_LINKS | Perm.ATTACH_FILES | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS | Perm.USE_EXTERNAL_EMOJIS | Perm.CREATE_PUBLIC_THREADS | Perm.SEND_MESSAGES_IN_THREADS
)
_PERMISSION_ROLE_NAMES = {Perm.ADMINISTRATOR: "Administrator", Perm.MANAGE_GUILD: "Manage Server"}

# Locales Discord accepts as keys of name_localizations / description_localizations.
VALID_LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk hi th "
    "zh-CN ja zh-TW ko".split()
)

# Channel types
TEXT, DM, CATEGORY, NEWS, NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 4, 5, 10, 11, 12
_THREAD_TYPES = (NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Interaction types / callback types
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_PONG, CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_AUTOCOMPLETE, CB_MODAL = 1, 4, 5, 6, 7, 8, 9

_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")
_MENTION_EVERYONE = re.compile(r"@(everyone|here)\b")
# Discord: ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$ (Devanagari/Thai vowel signs are marks, not \w)
_COMMAND_NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")


# --------------------------------------------------------------------------------------------------
# Snowflakes and payload builders
# --------------------------------------------------------------------------------------------------

_snowflake_counter = itertools.count()


def new_snowflake() -> int:
    """A unique, increasing Discord snowflake whose timestamp is now."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_snowflake_counter) % (1 << 22))


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _sid(value: Any) -> str:
    return str(int(value))


def make_user(username: str, *, id: int | None = None, global_name: str | None = None,
              bot: bool = False) -> dict:
    """A user object."""
    return {
        "id": _sid(id or new_snowflake()), "username": username, "global_name": global_name,
        "discriminator": "0", "avatar": None, "bot": bot, "system": False, "public_flags": 0, "flags": 0,
        "banner": None, "accent_color": None, "avatar_decoration_data": None,
    }


def make_role(name: str, permissions: int = 0, *, id: int | None = None, position: int = 1,
              managed: bool = False, tags: dict | None = None) -> dict:
    """A role object; the @everyone role has the guild's id and position 0."""
    role = {
        "id": _sid(id or new_snowflake()), "name": name, "permissions": str(permissions), "position": position,
        "color": 0, "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False, "icon": None, "unicode_emoji": None, "managed": managed, "mentionable": False, "flags": 0,
    }
    if tags is not None:
        role["tags"] = tags
    return role


def make_text_channel(name: str, *, id: int | None = None, guild_id: int | None = None, position: int = 0,
                      topic: str | None = None, parent_id: int | None = None, type: int = TEXT,
                      permission_overwrites: list | None = None) -> dict:
    """A guild text (or announcement, type=5) channel."""
    channel = {
        "id": _sid(id or new_snowflake()), "type": type, "name": name, "position": position, "topic": topic,
        "nsfw": False, "last_message_id": None, "rate_limit_per_user": 0, "parent_id": _opt_sid(parent_id),
        "permission_overwrites": list(permission_overwrites or []), "default_auto_archive_duration": 1440,
        "default_thread_rate_limit_per_user": 0, "flags": 0,
    }
    if guild_id is not None:
        channel["guild_id"] = _sid(guild_id)
    return channel


def _opt_sid(value: Any) -> str | None:
    return None if value is None else _sid(value)


def make_member(user: dict, *, roles: Iterable[int | str] = (), nick: str | None = None) -> dict:
    """A guild member object (with its ``user``); ``roles`` are role ids."""
    return {
        "user": user, "roles": [_sid(r) for r in roles], "nick": nick, "avatar": None, "banner": None,
        "joined_at": _now_iso(), "premium_since": None, "deaf": False, "mute": False, "flags": 0,
        "pending": False, "communication_disabled_until": None,
    }


def make_guild(name: str = "Test Guild", *, id: int | None = None,
               channels: Sequence[str | dict] = ("general", "help"),
               members: Sequence[str | tuple | dict] = (
                   "owner", "alice", ("admin", Perm.ADMINISTRATOR), ("manager", Perm.MANAGE_GUILD)),
               owner: str | None = None, preferred_locale: str = "en-US",
               everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS) -> dict:
    """A guild payload (GUILD_CREATE shape, without the bot member, which ``FakeDiscord`` adds).

    ``channels``: names or channel dicts.  ``members``: usernames, ``(username, permissions)`` tuples (a role
    with those permissions is created and given), or member dicts.  ``owner``: a username (default: first member).
    """
    guild_id = int(id or new_snowflake())
    roles = [make_role("@everyone", everyone_permissions, id=guild_id, position=0)]
    role_by_perm: dict[int, dict] = {}
    member_list: list[dict] = []
    for spec in members:
        if isinstance(spec, dict):
            member_list.append(spec)
            continue
        username, perms = (spec, 0) if isinstance(spec, str) else spec
        role_ids = []
        if perms:
            role = role_by_perm.get(perms)
            if role is None:
                role = make_role(_PERMISSION_ROLE_NAMES.get(perms, f"perms {perms:#x}"), perms,
                                 position=len(roles))
                role_by_perm[perms] = role
                roles.append(role)
            role_ids.append(role["id"])
        member_list.append(make_member(make_user(username), roles=role_ids))
    channel_list = []
    for position, spec in enumerate(channels):
        channel = make_text_channel(spec, position=position) if isinstance(spec, str) else dict(spec)
        channel["guild_id"] = _sid(guild_id)
        channel_list.append(channel)
    owner_member = next((m for m in member_list if m["user"]["username"] == owner), None) if owner else None
    if owner_member is None and member_list:
        owner_member = member_list[0]
    return {
        "id": _sid(guild_id), "name": name, "icon": None, "splash": None, "discovery_splash": None,
        "owner_id": owner_member["user"]["id"] if owner_member else _sid(new_snowflake()),
        "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "roles": roles, "emojis": [], "stickers": [], "features": [], "mfa_level": 0,
        "application_id": None, "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
        "vanity_url_code": None, "description": None, "banner": None, "premium_tier": 0,
        "premium_subscription_count": 0, "preferred_locale": preferred_locale, "public_updates_channel_id": None,
        "nsfw_level": 0, "premium_progress_bar_enabled": False, "safety_alerts_channel_id": None,
        "channels": channel_list, "members": member_list, "threads": [],
    }


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------

@dataclass(eq=False)
class RecordedRequest:
    method: str
    path: str  # below /api/v10, percent-decoded per segment, e.g. "/channels/1/messages"
    query: dict
    json: Any
    files: list
    headers: dict
    status: int = 0
    response: Any = None

    def __repr__(self) -> str:
        answer = f" {json.dumps(self.response, ensure_ascii=False)[:500]}" if self.status >= 400 else ""
        body = "" if self.json is None else f" body={json.dumps(self.json, ensure_ascii=False)[:200]}"
        return f"<{self.method} {self.path} -> {self.status}{answer}{body}>"


@dataclass(frozen=True)
class Pings:
    """Who a message actually notifies, given its content and allowed_mentions."""

    users: frozenset = frozenset()
    roles: frozenset = frozenset()
    everyone: bool = False
    replied_user: bool = False

    @property
    def anyone(self) -> bool:
        return bool(self.users or self.roles or self.everyone or self.replied_user)


def compute_pings(content: str | None, allowed_mentions: dict | None, *,
                  replied_user_id: int | None = None) -> Pings:
    """Discord's allowed_mentions rules: without the field everything in the content pings (and a reply pings
    its author); with it only the listed ``parse`` kinds / ids do, and ``replied_user`` defaults to false."""
    content = content or ""
    users = {int(x) for x in _MENTION_USER.findall(content)}
    roles = {int(x) for x in _MENTION_ROLE.findall(content)}
    everyone = bool(_MENTION_EVERYONE.search(content))
    if allowed_mentions is None:
        return Pings(frozenset(users), frozenset(roles), everyone, replied_user_id is not None)
    parse = set(allowed_mentions.get("parse") or [])
    allowed_users = {int(x) for x in allowed_mentions.get("users") or []}
    allowed_roles = {int(x) for x in allowed_mentions.get("roles") or []}
    return Pings(
        users=frozenset(users if "users" in parse else users & allowed_users),
        roles=frozenset(roles if "roles" in parse else roles & allowed_roles),
        everyone=everyone and "everyone" in parse,
        replied_user=replied_user_id is not None and bool(allowed_mentions.get("replied_user", False)),
    )


@dataclass(eq=False)
class BotMessage:
    """A message the bot created (channel post, interaction response or followup)."""

    kind: str  # "channel" | "interaction_response" | "followup"
    message: dict  # the live message object (edits are applied to it)
    request: dict  # the creation body
    files: list = field(default_factory=list)
    edits: list = field(default_factory=list)
    pings: Pings = field(default_factory=Pings)
    deleted: bool = False

    id = property(lambda self: int(self.message["id"]))
    channel_id = property(lambda self: int(self.message["channel_id"]))
    content = property(lambda self: self.message.get("content") or "")
    embeds = property(lambda self: self.message.get("embeds") or [])
    flags = property(lambda self: int(self.message.get("flags") or 0))
    ephemeral = property(lambda self: bool(self.flags & EPHEMERAL))
    loading = property(lambda self: bool(self.flags & LOADING))
    allowed_mentions = property(lambda self: self.request.get("allowed_mentions"))
    message_reference = property(lambda self: self.message.get("message_reference"))  # as Discord stores it
    components = property(lambda self: self.message.get("components") or [])

    @property
    def text(self) -> str:
        """Content plus embed titles, descriptions, fields and footers, for assertions on "what the user sees"."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for fld in embed.get("fields") or []:
                parts += [fld.get("name") or "", fld.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"<BotMessage {self.kind} id={self.id} channel={self.channel_id} flags={self.flags} {self.text[:80]!r}>"


@dataclass(eq=False)
class FakeInteraction:
    """An interaction the fake sent, with everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: dict  # the INTERACTION_CREATE data as sent
    created_at: float  # loop time
    callbacks: list = field(default_factory=list)  # POST .../callback bodies ({"type", "data"})
    original: BotMessage | None = None
    followups: list = field(default_factory=list)  # BotMessage
    edits: list = field(default_factory=list)  # PATCH bodies sent to .../messages/@original
    rejected: list = field(default_factory=list)  # RecordedRequest answered 4xx
    callback_times: list = field(default_factory=list)  # loop time each callback request arrived
    delivered_at: float | None = None  # loop time the INTERACTION_CREATE was written to the gateway

    @property
    def name(self) -> str | None:
        data = self.payload.get("data") or {}
        return data.get("name") or data.get("custom_id")

    @property
    def response_type(self) -> int | None:
        return self.callbacks[0]["type"] if self.callbacks else None

    @property
    def deferred(self) -> bool:
        return self.response_type in (CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE)

    @property
    def ephemeral(self) -> bool:
        if self.original is not None:
            return self.original.ephemeral
        data = (self.callbacks[0].get("data") or {}) if self.callbacks else {}
        return bool(int(data.get("flags") or 0) & EPHEMERAL)

    @property
    def choices(self) -> list | None:
        for cb in self.callbacks:
            if cb["type"] == CB_AUTOCOMPLETE:
                return (cb.get("data") or {}).get("choices", [])
        return None

    @property
    def messages(self) -> list:
        out, seen = [], set()
        for m in ([self.original] if self.original else []) + self.followups:
            if m.id not in seen:
                seen.add(m.id)
                out.append(m)
        return out

    @property
    def content(self) -> str | None:
        visible = [m for m in self.messages if not m.loading]
        return visible[-1].content if visible else None

    def is_complete(self) -> bool:
        if not self.callbacks:
            return False
        if self.response_type == CB_DEFERRED_MESSAGE:
            return bool(self.followups) or (self.original is not None and not self.original.loading)
        if self.response_type == CB_DEFERRED_UPDATE:
            return bool(self.followups or self.edits)
        return True

    def __repr__(self) -> str:
        return (f"<FakeInteraction id={self.id} type={self.type} name={self.name!r} response_type={self.response_type} "
                f"messages={self.messages!r} rejected={self.rejected!r}>")


@dataclass(frozen=True)
class Reaction:
    channel_id: int
    message_id: int
    emoji: str  # unicode emoji, or "name:id" for custom ones
    removed: bool = False


@dataclass(eq=False)
class CommandSync:
    guild_id: int | None  # None for global
    request: list  # the bodies the bot PUT
    commands: list  # what the fake answered (with id, application_id, version)


class WaitTimeout(AssertionError):
    """A wait on the fake ran out of time (an AssertionError, so pytest reports it as a failed check)."""


class InteractionRejected(AssertionError):
    """The bot answered an interaction in a way Discord rejects (late, twice, invalid payload)."""


class CommandUnavailable(Exception):
    """The Discord client would not let this user send this command (unknown, hidden by permissions, no DMs)."""


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: dict | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors
        self.extra = extra or {}  # other fields of the body (a 429's retry_after, global)

    def body(self) -> dict:
        body = {**self.extra, "message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _field_error(code: str, message: str) -> dict:
    return {"_errors": [{"code": code, "message": message}]}


def _invalid_form(errors: dict) -> _ApiError:
    return _ApiError(400, 50035, "Invalid Form Body", errors)


def _unknown(what: str, code: int) -> _ApiError:
    return _ApiError(404, code, f"Unknown {what}")


# --------------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------------

_ROUTES: list = []  # (method, compiled regex, handler name, needs auth)


def _route(method: str, template: str, *, auth: bool = True):
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    regex = re.compile(f"^{pattern}$")

    def deco(fn):
        _ROUTES.append((method, regex, fn.__name__, auth))
        return fn

    return deco


class _Session:
    """One gateway websocket connection."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool):
        self.ws = ws
        self.session_id = secrets.token_hex(16)
        self.seq = 0
        self.identify: dict | None = None
        self.intents = 0
        self.ready = False
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    @property
    def live(self) -> bool:
        return self.ready and not self.ws.closed

    async def send(self, op: int, data: Any, event: str | None = None) -> bool:
        async with self._lock:  # keeps sequence numbers and the zlib stream in send order
            if self.ws.closed:
                return False
            payload: dict = {"op": op, "d": data, "s": None, "t": None}
            if op == 0:
                self.seq += 1
                payload.update(s=self.seq, t=event)
            text = json.dumps(payload)
            try:
                if self._zlib is not None:
                    await self.ws.send_bytes(self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
            return True


# --------------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------------

UserSpec = str | int | dict | None
ChannelSpec = str | int | dict | None


class FakeDiscord:
    """Fake Discord REST API + gateway on 127.0.0.1 (see the module docstring for the whole API)."""

    def __init__(self, *, token: str = "test-token", guilds: Sequence[dict] | None = None,
                 bot_username: str = "NotesBot", application_id: int | None = None,
                 bot_permissions: int = DEFAULT_BOT_PERMISSIONS, privileged_intents: int = ALL_PRIVILEGED,
                 heartbeat_interval: int = 41250, interaction_ack_timeout: float | None = 3.0,
                 echo_bot_messages: bool = True, strict_commands: bool = True, port: int = 0):
        self.token = token
        self._port = port  # 0: an ephemeral one
        self.privileged_intents = privileged_intents
        self.heartbeat_interval = heartbeat_interval
        self.interaction_ack_timeout = interaction_ack_timeout
        self.echo_bot_messages = echo_bot_messages
        self.strict_commands = strict_commands
        self.application_id = int(application_id or new_snowflake())
        self.bot_user = make_user(bot_username, id=self.application_id, bot=True)
        self.bot_id = self.application_id
        self.owner_user = make_user("app-owner")

        # world
        self.users: dict[int, dict] = {self.bot_id: self.bot_user}
        self.guilds: dict[int, dict] = {}
        self.channels: dict[int, dict] = {}
        self.messages: dict[int, dict] = {}
        self._history: dict[int, list[int]] = {}
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        for guild in (guilds if guilds is not None else [make_guild()]):
            self._add_guild(copy.deepcopy(guild), bot_permissions)

        # records
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.rejected: list[RecordedRequest] = []
        self.identifies: list[dict] = []
        self.presence_updates: list[dict] = []
        self.gateway_connections = 0
        self.resumes = 0
        self.command_syncs: list[CommandSync] = []
        self._commands: dict[int | None, list[dict]] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.channel_messages: list[BotMessage] = []
        self.reactions: list[Reaction] = []
        self.threads_created: list[dict] = []
        self.typing: list[int] = []
        self._consumed: set[int] = set()
        self._injected: list[dict] = []
        self._delays: list[dict] = []

        # server
        self._sessions: list[_Session] = []
        self._identified: dict[str, _Session] = {}  # session id -> session, for RESUME after a disconnect
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._changed: asyncio.Event | None = None
        self._watched: list[asyncio.Task] = []

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def start(self) -> None:
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self._gateway_handler)
        app.router.add_route("*", "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        # A deep accept queue, as Discord's servers have: a burst of requests must not wait for
        # the client's SYN retransmission (1 s) because the default queue (128) overflowed.
        site = web.TCPSite(self._runner, "127.0.0.1", self._port, backlog=4096)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        for session in list(self._sessions):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.ws.close(code=1001, message=b"fake discord closing"), 2)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._bump()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    @contextlib.contextmanager
    def patched_discord(self) -> Iterator[FakeDiscord]:
        """Point discord.py's REST base and default gateway at this fake; restore on exit."""
        if self.port is None:
            raise RuntimeError("start the FakeDiscord before patching discord.py")
        route, ws_cls = discord.http.Route, discord.gateway.DiscordWebSocket
        old_base, old_gateway = route.BASE, ws_cls.DEFAULT_GATEWAY
        route.BASE = self.api_base
        ws_cls.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            route.BASE, ws_cls.DEFAULT_GATEWAY = old_base, old_gateway

    @contextlib.asynccontextmanager
    async def running(self, client: discord.Client, *, token: str | None = None, timeout: float = MAX_TIMEOUT,
                      wait_ready: bool = True, fast_ready: bool = True) -> AsyncIterator[discord.Client]:
        """Run ``client.start(token)`` against the fake for the block; close it and await its task on exit."""
        timeout = min(timeout, MAX_TIMEOUT)
        if fast_ready:
            state = client._connection
            state.guild_ready_timeout = min(state.guild_ready_timeout, 0.05)
        with self.patched_discord():
            task = asyncio.create_task(client.start(self.token if token is None else token),
                                       name=f"fake-discord bot {client!r}")
            self._watch(task)
            try:
                if wait_ready:
                    await self.wait_for(lambda: client.is_ready(), timeout, what="the client to become ready",
                                        poll=0.005)
                yield client
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), timeout)
                done, _ = await asyncio.wait({task}, timeout=timeout)
                if not done:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                self._watched.remove(task)
                exc = task.exception() if task.done() and not task.cancelled() else None  # marks it retrieved
            if exc is not None:
                raise exc
            if not done:
                raise WaitTimeout(f"the bot task did not finish within {timeout}s of client.close()")

    def _watch(self, task: asyncio.Task) -> None:
        self._watched.append(task)
        task.add_done_callback(lambda _t: self._bump())

    # ---------------------------------------------------------------- waiting

    def _bump(self) -> None:
        if self._changed is not None:
            event, self._changed = self._changed, asyncio.Event()
            event.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, *, what: str = "condition",
                       poll: float = 0.02) -> Any:
        """Wait until ``predicate()`` is truthy and return it.  Re-checked whenever the fake records something and
        every ``poll`` seconds (so predicates on bot-side state work too)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, MAX_TIMEOUT)
        while True:
            result = predicate()
            if result:
                return result
            for task in self._watched:
                if task.done():
                    exc = None if task.cancelled() else task.exception()
                    if exc is not None:
                        raise exc  # e.g. discord.LoginFailure: more useful than a timeout
                    raise WaitTimeout(f"the bot stopped while waiting for {what}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(f"timed out after {timeout}s waiting for {what}.\n{self._diagnostics()}")
            event = self._changed or asyncio.Event()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, poll))

    def _diagnostics(self) -> str:
        lines = [f"last requests: {self.requests[-8:]!r}"]
        if self.unhandled:
            lines.append(f"unhandled routes: {self.unhandled!r}")
        if self.rejected:
            lines.append(f"rejected requests: {self.rejected[-8:]!r}")
        return "\n".join(lines)

    async def wait_ready(self, timeout: float = MAX_TIMEOUT) -> None:
        """Wait until the fake sent READY and every GUILD_CREATE to a gateway session."""
        await self.wait_for(lambda: any(s.live for s in self._sessions), timeout, what="a gateway session to be ready")

    async def wait_interaction_response(self, interaction: FakeInteraction | int, *,
                                        timeout: float = DEFAULT_TIMEOUT,
                                        allow_rejected: bool = False) -> FakeInteraction:
        inter = interaction if isinstance(interaction, FakeInteraction) else self.interactions[int(interaction)]

        def done() -> bool:
            if inter.rejected and not allow_rejected:
                raise InteractionRejected(f"Discord would have rejected the bot's answer: {inter.rejected!r}")
            return inter.is_complete()

        await self.wait_for(done, timeout, what=f"a response to interaction {inter.name!r}")
        return inter

    def _next_channel_message(self, channel: ChannelSpec, predicate) -> BotMessage | None:
        channel_id = None if channel is None else int(self.get_channel(channel)["id"])
        for msg in self.channel_messages:
            if msg.id in self._consumed or (channel_id is not None and msg.channel_id != channel_id):
                continue
            if predicate is None or predicate(msg):
                return msg
        return None

    async def wait_channel_message(self, channel: ChannelSpec = None, *, timeout: float = DEFAULT_TIMEOUT,
                                   predicate: Callable[[BotMessage], bool] | None = None) -> BotMessage:
        """The oldest bot channel message (in ``channel``, or anywhere) not returned by an earlier call."""
        msg = await self.wait_for(lambda: self._next_channel_message(channel, predicate), timeout,
                                  what=f"a bot message in channel {channel!r}")
        self._consumed.add(msg.id)
        return msg

    async def expect_no_channel_message(self, channel: ChannelSpec = None, *, within: float = 0.3) -> None:
        """Assert the bot posts nothing (not yet consumed) in ``channel`` during ``within`` seconds."""
        await asyncio.sleep(min(within, MAX_TIMEOUT))
        msg = self._next_channel_message(channel, None)
        if msg is not None:
            raise AssertionError(f"expected no bot message, got {msg!r}")

    def assert_clean(self) -> None:
        """Raise if the bot called a route the fake does not know, or got a 4xx answer."""
        problems = []
        if self.unhandled:
            problems.append(f"unhandled routes: {self.unhandled!r}")
        if self.rejected:
            problems.append(f"rejected requests: {self.rejected!r}")
        if problems:
            raise AssertionError("\n".join(problems))

    def inject_error(self, method: str, path_regex: str, *, status: int = 403, code: int = 50013,
                     message: str = "Missing Permissions", times: int = 1, json_body: dict | None = None) -> None:
        """Answer the next ``times`` matching REST calls with an error (``path_regex`` is searched in the path)."""
        self._injected.append({"method": method.upper(), "regex": re.compile(path_regex), "status": status,
                               "body": json_body or {"message": message, "code": code}, "times": times})

    def inject_delay(self, method: str, path_regex: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` matching REST calls ``seconds`` late (a slow Discord)."""
        self._delays.append({"method": method.upper(), "regex": re.compile(path_regex), "seconds": seconds,
                             "times": times})

    def clear_records(self) -> None:
        """Forget recorded requests/messages/interactions (the world and registered commands stay)."""
        for lst in (self.requests, self.unhandled, self.rejected, self.channel_messages, self.reactions,
                    self.threads_created, self.typing, self.identifies, self.presence_updates, self.command_syncs):
            lst.clear()
        self.interactions.clear()
        self._consumed.clear()

    # ---------------------------------------------------------------- world accessors

    def _add_guild(self, guild: dict, bot_permissions: int) -> None:
        guild_id = int(guild["id"])
        bot_role = make_role(self.bot_user["username"], bot_permissions, position=len(guild["roles"]), managed=True,
                             tags={"bot_id": _sid(self.bot_id)})
        guild["roles"].append(bot_role)
        guild["members"].append(make_member(self.bot_user, roles=[bot_role["id"]]))
        guild["_bot_role_id"] = bot_role["id"]
        self.guilds[guild_id] = guild
        for member in guild["members"]:
            self.users[int(member["user"]["id"])] = member["user"]
        for channel in guild["channels"] + guild.get("threads", []):
            channel["guild_id"] = _sid(guild_id)
            self.channels[int(channel["id"])] = channel

    @property
    def guild(self) -> dict:
        return next(iter(self.guilds.values()))

    @property
    def guild_id(self) -> int:
        return int(self.guild["id"])

    @property
    def channel_id(self) -> int:
        return int(next(c for c in self.guild["channels"] if c["type"] == TEXT)["id"])

    def _guild_of(self, guild: int | str | dict | None) -> dict:
        if guild is None:
            return self.guild
        if isinstance(guild, dict):
            return self.guilds[int(guild["id"])]
        if isinstance(guild, int) or str(guild).isdigit():
            return self.guilds[int(guild)]
        return next(g for g in self.guilds.values() if g["name"] == guild)

    def get_channel(self, channel: ChannelSpec = None) -> dict:
        """A channel dict by name (first match in any guild), id or dict; None -> first text channel."""
        if channel is None:
            return self.channels[self.channel_id]
        if isinstance(channel, dict):
            channel = channel["id"]
        if isinstance(channel, int) or str(channel).isdigit():
            try:
                return self.channels[int(channel)]
            except KeyError:
                raise KeyError(f"no channel with id {channel}") from None
        name = str(channel).lstrip("#")
        for ch in self.channels.values():
            if ch.get("name") == name:
                return ch
        raise KeyError(f"no channel named {name!r}")

    def get_user(self, user: UserSpec) -> dict:
        if user is None:
            user = "alice"
        if isinstance(user, dict):
            user = (user.get("user") or user)["id"]
        if isinstance(user, int) or str(user).isdigit():
            return self.users[int(user)]
        for u in self.users.values():
            if u["username"] == user:
                return u
        raise KeyError(f"no user named {user!r}")

    def get_member(self, user: UserSpec, guild: int | str | dict | None = None) -> dict:
        g = self._guild_of(guild)
        user_id = self.get_user(user)["id"]
        for member in g["members"]:
            if member["user"]["id"] == user_id:
                return member
        raise KeyError(f"user {user!r} is not a member of guild {g['name']!r}")

    def get_role(self, role: int | str, guild: int | str | dict | None = None) -> dict:
        g = self._guild_of(guild)
        for r in g["roles"]:
            if r["id"] == str(role) or r["name"] == role:
                return r
        raise KeyError(f"no role {role!r}")

    async def add_member(self, username: str, *, permissions: int = 0, roles: Iterable[int | str] = (),
                         guild: int | str | dict | None = None) -> dict:
        """Add a member (a role carrying ``permissions`` is created if needed) and return the member dict."""
        g = self._guild_of(guild)
        role_ids = [self.get_role(r, g)["id"] for r in roles]
        if permissions:
            role = make_role(_PERMISSION_ROLE_NAMES.get(permissions, f"perms {permissions:#x}"), permissions,
                             position=len(g["roles"]))
            g["roles"].append(role)
            role_ids.append(role["id"])
            await self.dispatch_event("GUILD_ROLE_CREATE", {"guild_id": g["id"], "role": role})
        member = make_member(make_user(username), roles=role_ids)
        g["members"].append(member)
        self.users[int(member["user"]["id"])] = member["user"]
        await self.dispatch_event("GUILD_MEMBER_ADD", dict(member, guild_id=g["id"]), intent=Intent.GUILD_MEMBERS)
        return member

    async def add_text_channel(self, name: str, *, guild: int | str | dict | None = None, **kwargs: Any) -> dict:
        g = self._guild_of(guild)
        channel = make_text_channel(name, guild_id=int(g["id"]), position=len(g["channels"]), **kwargs)
        g["channels"].append(channel)
        self.channels[int(channel["id"])] = channel
        await self.dispatch_event("CHANNEL_CREATE", channel, intent=Intent.GUILDS)
        return channel

    async def set_permission_overwrite(self, channel: ChannelSpec, target: str | int, *, allow: int = 0,
                                       deny: int = 0) -> None:
        """Set a channel overwrite for a role (id/name/"everyone"), a member (username/id) or "bot"."""
        ch = self.get_channel(channel)
        g = self.guilds[int(ch["guild_id"])]
        if target == "everyone":
            target_id, kind = g["id"], 0
        elif target == "bot":
            target_id, kind = _sid(self.bot_id), 1
        else:
            try:
                target_id, kind = self.get_role(target, g)["id"], 0
            except KeyError:
                target_id, kind = self.get_user(target)["id"], 1
        overwrites = [o for o in ch["permission_overwrites"] if o["id"] != target_id]
        overwrites.append({"id": target_id, "type": kind, "allow": str(allow), "deny": str(deny)})
        ch["permission_overwrites"] = overwrites
        await self.dispatch_event("CHANNEL_UPDATE", ch, intent=Intent.GUILDS)

    def permissions_for(self, user: UserSpec, channel: ChannelSpec = None) -> int:
        """Discord's permission computation: owner/admin -> all; @everyone+roles; channel overwrites."""
        ch = self.get_channel(channel)
        if ch.get("type") in _THREAD_TYPES:
            ch = self.channels[int(ch["parent_id"])]
        if "guild_id" not in ch:
            return Perm.ALL & ~Perm.ADMINISTRATOR  # DMs
        g = self.guilds[int(ch["guild_id"])]
        member = self.get_member(user, g)
        if member["user"]["id"] == g["owner_id"]:
            return Perm.ALL
        roles = {r["id"]: int(r["permissions"]) for r in g["roles"]}
        perms = roles[g["id"]]
        for role_id in member["roles"]:
            perms |= roles.get(role_id, 0)
        if perms & Perm.ADMINISTRATOR:
            return Perm.ALL
        overwrites = {o["id"]: o for o in ch.get("permission_overwrites", [])}
        everyone = overwrites.get(g["id"])
        if everyone:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for role_id in member["roles"]:
            o = overwrites.get(role_id)
            if o:
                allow, deny = allow | int(o["allow"]), deny | int(o["deny"])
        perms = (perms & ~deny) | allow
        o = overwrites.get(member["user"]["id"])
        if o and o["type"] == 1:
            perms = (perms & ~int(o["deny"])) | int(o["allow"])
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        return perms

    def _require_bot_permission(self, channel: dict, needed: int) -> None:
        if "guild_id" not in channel:
            return
        have = self.permissions_for(self.bot_id, channel)
        if have & needed != needed:
            raise _ApiError(403, 50001 if not have & Perm.VIEW_CHANNEL else 50013,
                            "Missing Access" if not have & Perm.VIEW_CHANNEL else "Missing Permissions")

    def registered_commands(self, guild: int | str | dict | None = None, *, global_: bool = False) -> list:
        """Commands currently registered (``guild=None`` and ``global_=True`` for the global ones)."""
        key = None if global_ else int(self._guild_of(guild)["id"])
        return copy.deepcopy(self._commands.get(key, []))

    def register_commands(self, commands: list, guild: int | str | dict | None = None, *,
                          global_: bool = False) -> list:
        """Register commands as if the bot had bulk-overwritten them (no sync recorded)."""
        key = None if global_ else int(self._guild_of(guild)["id"])
        self._commands[key] = self._materialize_commands(commands, key)
        return copy.deepcopy(self._commands[key])

    @property
    def intents(self) -> discord.Intents | None:
        if not self.identifies:
            return None
        return discord.Intents._from_value(int(self.identifies[-1].get("intents", 0)))

    # ---------------------------------------------------------------- gateway

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_connections += 1
        session = _Session(ws, compress=request.query.get("compress") == "zlib-stream")
        self._sessions.append(session)
        await session.send(10, {"heartbeat_interval": self.heartbeat_interval, "_trace": ["fake-discord"]})
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    await self._on_gateway_payload(session, payload)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
        finally:
            self._sessions.remove(session)
            self._bump()
        return ws

    async def _on_gateway_payload(self, session: _Session, payload: dict) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:
            await session.send(11, None)
        elif op == 2:
            await self._identify(session, data or {})
        elif op == 3:
            self.presence_updates.append(data)
        elif op == 6:
            await self._resume(session, data or {})
        elif op == 8:
            await self._request_members(session, data or {})
        self._bump()

    async def _identify(self, session: _Session, data: dict) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & Intent.PRIVILEGED & ~self.privileged_intents:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session.identify, session.intents = data, intents
        self._identified[session.session_id] = session
        app_flags = 0
        for allowed, flag in ((Intent.GUILD_PRESENCES, 1 << 13), (Intent.GUILD_MEMBERS, 1 << 15),
                              (Intent.MESSAGE_CONTENT, 1 << 19)):
            if self.privileged_intents & allowed:
                app_flags |= flag
        ready = {
            "v": 10, "user": dict(self.bot_user, verified=True, mfa_enabled=False, email=None),
            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds.values()],
            "session_id": session.session_id, "session_type": "normal", "resume_gateway_url": self.gateway_url,
            "application": {"id": _sid(self.application_id), "flags": app_flags},
            "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": [], "auth": {}, "user_settings": {}, "_trace": ["fake-discord"],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await session.send(0, ready, "READY")
        for guild in self.guilds.values():
            await session.send(0, self._guild_create_payload(guild), "GUILD_CREATE")
        session.ready = True

    def _guild_create_payload(self, guild: dict) -> dict:
        payload = {k: v for k, v in guild.items() if not k.startswith("_")}
        payload.update(joined_at=_now_iso(), large=False, unavailable=False, member_count=len(guild["members"]),
                       voice_states=[], presences=[], stage_instances=[], guild_scheduled_events=[],
                       soundboard_sounds=[])
        return payload

    async def _resume(self, session: _Session, data: dict) -> None:
        old = self._identified.get(data.get("session_id"))
        if data.get("token") == self.token and old is not None:
            session.session_id, session.identify, session.intents = old.session_id, old.identify, old.intents
            session.seq = max(old.seq, int(data.get("seq") or 0))
            self._identified[session.session_id] = session
            self.resumes += 1
            session.ready = True
            await session.send(0, {"_trace": ["fake-discord"]}, "RESUMED")
        else:
            await session.send(9, False)

    async def _request_members(self, session: _Session, data: dict) -> None:
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = guild["members"]
        if data.get("user_ids"):
            wanted = {str(u) for u in data["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif data.get("query"):
            members = [m for m in members if m["user"]["username"].lower().startswith(data["query"].lower())]
        if data.get("limit"):
            members = members[: int(data["limit"])]
        chunk = {"guild_id": guild["id"], "members": members, "chunk_index": 0, "chunk_count": 1, "not_found": []}
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.send(0, chunk, "GUILD_MEMBERS_CHUNK")

    async def dispatch_event(self, event: str, data: dict, *, intent: int | None = None) -> int:
        """Send a DISPATCH to every ready session (having ``intent``, if given); returns how many got it."""
        sent = 0
        for session in list(self._sessions):
            if session.live and (intent is None or session.intents & intent):
                sent += await session.send(0, data, event)
        return sent

    async def disconnect_sessions(self, code: int = 4000) -> None:
        """Close every gateway connection (discord.py reconnects/resumes for most codes)."""
        for session in list(self._sessions):
            await session.ws.close(code=code)

    def drop_sessions(self) -> None:
        """Cut every gateway connection without a close frame (the client sees 1006, as on a network drop)."""
        for session in list(self._sessions):
            transport = session.ws._req.transport if session.ws._req is not None else None  # aiohttp keeps it there
            if transport is not None:
                transport.abort()

    # ---------------------------------------------------------------- REST plumbing

    @staticmethod
    def _json_response(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
        # exactly "application/json": discord.py treats "application/json; charset=utf-8" as text
        return web.Response(status=status, body=json.dumps(data).encode(),
                            headers={"Content-Type": "application/json", **(headers or {})})

    async def _read_body(self, request: web.Request) -> tuple[Any, list]:
        ctype = request.content_type
        if ctype == "application/json":
            raw = await request.read()
            return (json.loads(raw) if raw else None), []
        if ctype.startswith("multipart/"):
            body, files = None, []
            reader = await request.multipart()
            async for part in reader:
                data = await part.read(decode=False)
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    files.append({"field": part.name, "filename": part.filename, "size": len(data),
                                  "content_type": part.headers.get("Content-Type"), "data": bytes(data)})
            return body, files
        raw = await request.read()
        return (raw.decode(errors="replace") if raw else None), []

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        body, files = await self._read_body(request)
        inside_api = raw_path.startswith(API_PREFIX + "/")
        rel = raw_path[len(API_PREFIX):] if inside_api else raw_path
        rec = RecordedRequest(request.method, "/".join(urllib.parse.unquote(s) for s in rel.split("/")),
                              dict(request.query), body, files, dict(request.headers))
        self.requests.append(rec)
        try:
            status, data, headers = 200, await self._dispatch_rest(request, rec, rel, inside_api), {}
        except _ApiError as err:
            status, data, headers = err.status, err.body(), {}
            if err.status == 429:
                headers = {"Via": "1.1 google", "Retry-After": str(data.get("retry_after", 0))}
        except Exception as exc:  # a bug in the fake: make it loud, but do not make discord.py retry 5xx
            _log.exception("fake_discord: error handling %s %s", request.method, rel)
            status, data, headers = 400, {"message": f"fake_discord internal error: {exc!r}", "code": -1}, {}
        rec.status, rec.response = status, data
        if 400 <= status < 500 and rec not in self.unhandled:
            self.rejected.append(rec)
        self._bump()
        if data is None:
            return web.Response(status=204)
        return self._json_response(data, status, headers)

    async def _dispatch_rest(self, request: web.Request, rec: RecordedRequest, rel: str, inside_api: bool) -> Any:
        for delay in self._delays:
            if delay["times"] > 0 and delay["method"] == rec.method and delay["regex"].search(rec.path):
                delay["times"] -= 1
                await asyncio.sleep(delay["seconds"])
                break
        for inj in self._injected:
            if inj["times"] > 0 and inj["method"] == rec.method and inj["regex"].search(rec.path):
                inj["times"] -= 1
                raise _ApiError(inj["status"], inj["body"].get("code", 0), inj["body"].get("message", ""),
                                inj["body"].get("errors"),
                                {k: v for k, v in inj["body"].items() if k not in ("code", "message", "errors")})
        if inside_api:
            for method, regex, name, auth in _ROUTES:
                if method != rec.method:
                    continue
                m = regex.match(rel)
                if m is None:
                    continue
                if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                    raise _ApiError(401, 0, "401: Unauthorized")
                params = {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
                return await getattr(self, name)(rec, **params)
        self.unhandled.append(rec)
        raise _ApiError(404, 0, "404: Not Found")

    # ---------------------------------------------------------------- REST: identity

    def _app_info(self) -> dict:
        return {
            "id": _sid(self.application_id), "name": self.bot_user["username"], "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": self.owner_user, "team": None,
            "verify_key": "0" * 64, "flags": 0, "summary": "", "rpc_origins": [], "tags": [], "redirect_uris": [],
            "interactions_endpoint_url": None, "bot": self.bot_user, "approximate_guild_count": len(self.guilds),
        }

    @_route("GET", "/users/@me")
    async def _users_me(self, rec: RecordedRequest) -> dict:
        return dict(self.bot_user, verified=True, mfa_enabled=False, email=None)

    @_route("GET", "/oauth2/applications/@me")
    async def _oauth_app(self, rec: RecordedRequest) -> dict:
        return self._app_info()

    @_route("GET", "/applications/@me")
    async def _app_me(self, rec: RecordedRequest) -> dict:
        return self._app_info()

    @_route("GET", "/gateway", auth=False)
    async def _gateway(self, rec: RecordedRequest) -> dict:
        return {"url": self.gateway_url}

    @_route("GET", "/gateway/bot")
    async def _gateway_bot(self, rec: RecordedRequest) -> dict:
        return {"url": self.gateway_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}

    @_route("GET", "/users/{user_id}")
    async def _get_user(self, rec: RecordedRequest, user_id: str) -> dict:
        try:
            return self.users[int(user_id)]
        except (KeyError, ValueError):
            raise _unknown("User", 10013) from None

    @_route("POST", "/users/@me/channels")
    async def _open_dm(self, rec: RecordedRequest) -> dict:
        recipient = (rec.json or {}).get("recipient_id")
        try:
            user = self.users[int(recipient)]
        except (KeyError, TypeError, ValueError):
            raise _invalid_form(
                {"recipient_id": _field_error("NUMBER_TYPE_COERCE", "Value is not snowflake.")}) from None
        return self._dm_channel(user)

    def _dm_channel(self, user: dict) -> dict:
        user_id = int(user["id"])
        if user_id not in self._dm_channels:
            channel = {"id": _sid(new_snowflake()), "type": DM, "last_message_id": None, "flags": 0,
                       "recipients": [user]}
            self._dm_channels[user_id] = int(channel["id"])
            self.channels[int(channel["id"])] = channel
        return self.channels[self._dm_channels[user_id]]

    # ---------------------------------------------------------------- REST: guilds

    def _rest_guild(self, guild_id: str) -> dict:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise _unknown("Guild", 10004) from None

    @_route("GET", "/guilds/{guild_id}")
    async def _get_guild(self, rec: RecordedRequest, guild_id: str) -> dict:
        g = self._rest_guild(guild_id)
        return {k: v for k, v in g.items() if k not in ("channels", "members", "threads") and not k.startswith("_")}

    @_route("GET", "/guilds/{guild_id}/channels")
    async def _get_guild_channels(self, rec: RecordedRequest, guild_id: str) -> list:
        return self._rest_guild(guild_id)["channels"]

    @_route("GET", "/guilds/{guild_id}/roles")
    async def _get_guild_roles(self, rec: RecordedRequest, guild_id: str) -> list:
        return self._rest_guild(guild_id)["roles"]

    @_route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def _get_guild_member(self, rec: RecordedRequest, guild_id: str, user_id: str) -> dict:
        g = self._rest_guild(guild_id)
        for member in g["members"]:
            if member["user"]["id"] == user_id:
                return member
        raise _unknown("Member", 10007)

    # ---------------------------------------------------------------- REST: application commands

    def _check_app(self, application_id: str) -> None:
        if application_id != _sid(self.application_id):
            raise _unknown("Application", 10002)

    def _validate_commands(self, commands: Any) -> None:
        if not isinstance(commands, list):
            raise _invalid_form({"_errors": [{"code": "LIST_TYPE_CONVERT",
                                              "message": "Only iterables may be used in a ListType"}]})
        errors: dict = {}
        seen = set()
        for i, cmd in enumerate(commands):
            err = self._command_errors(cmd, top=True)
            key = (cmd.get("name"), cmd.get("type", 1))
            if key in seen:
                err.setdefault("name", _field_error("APPLICATION_COMMANDS_DUPLICATE_NAME",
                                                    f"Application command names must be unique: {key[0]}"))
            seen.add(key)
            if err:
                errors[str(i)] = err
        if errors:
            raise _invalid_form(errors)

    def _command_errors(self, cmd: dict, *, top: bool) -> dict:
        errors: dict = {}
        ctype = cmd.get("type", 1) if top else 1
        name = cmd.get("name") or ""
        if ctype == 1 or not top:
            if not _COMMAND_NAME.match(name) or name != name.lower():
                errors["name"] = _field_error("APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
            desc = cmd.get("description") or ""
            if not 1 <= len(desc) <= 100:
                errors["description"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        elif not 1 <= len(name) <= 32:
            errors["name"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
            for locale, value in (cmd.get(key) or {}).items():
                if locale not in VALID_LOCALES:
                    errors.setdefault(key, {})[locale] = _field_error("ENUM_TYPE_COERCE",
                                                                      f"Value {locale!r} is not a valid enum value.")
                elif not value or len(value) > limit or (
                        key == "name_localizations" and (ctype == 1 or not top)
                        and (value != value.lower() or not _COMMAND_NAME.match(value))):
                    errors.setdefault(key, {})[locale] = _field_error("APPLICATION_COMMAND_INVALID_NAME",
                                                                      f"Invalid localized value {value!r}")
        options = cmd.get("options") or []
        if len(options) > 25:
            errors["options"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        for j, opt in enumerate(options):
            opt_errors = self._command_errors(opt, top=False)
            if opt.get("type") not in (1, 2):
                if opt.get("required"):
                    if optional_seen:
                        opt_errors["required"] = _field_error(
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                "Required options must be placed before non-required options")
                else:
                    optional_seen = True
            choices = opt.get("choices") or []
            if len(choices) > 25:
                opt_errors["choices"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if choices and opt.get("autocomplete"):
                opt_errors["autocomplete"] = _field_error("APPLICATION_COMMAND_AUTOCOMPLETE_AND_CHOICES",
                                                          "Autocomplete cannot be set with choices")
            if opt_errors:
                errors.setdefault("options", {})[str(j)] = opt_errors
        return errors

    def _materialize_commands(self, commands: list, guild_id: int | None) -> list:
        existing = {(c["name"], c.get("type", 1)): c for c in self._commands.get(guild_id, [])}
        out = []
        for cmd in commands:
            old = existing.get((cmd.get("name"), cmd.get("type", 1)))
            new = {"type": 1, "description": "", "options": [], "name_localizations": None,
                   "description_localizations": None, "default_member_permissions": None, "nsfw": False}
            new.update(copy.deepcopy(cmd))
            if new["default_member_permissions"] is not None:  # Discord answers a string
                new["default_member_permissions"] = str(int(new["default_member_permissions"]))
            if guild_id is None:
                new.setdefault("contexts", None)
                new.setdefault("integration_types", [0])
            else:
                new.pop("contexts", None)
                new.pop("integration_types", None)
                new.pop("dm_permission", None)
                new["guild_id"] = _sid(guild_id)
            new.update(id=old["id"] if old else _sid(new_snowflake()), application_id=_sid(self.application_id),
                       version=_sid(new_snowflake()))
            out.append(new)
        return out

    def _bulk_overwrite(self, rec: RecordedRequest, guild_id: int | None) -> list:
        self._validate_commands(rec.json)
        commands = self._materialize_commands(rec.json, guild_id)
        self._commands[guild_id] = commands
        self.command_syncs.append(CommandSync(guild_id, copy.deepcopy(rec.json), copy.deepcopy(commands)))
        return commands

    def _upsert_one(self, rec: RecordedRequest, guild_id: int | None) -> dict:
        self._validate_commands([rec.json])
        [cmd] = self._materialize_commands([rec.json], guild_id)
        current = [c for c in self._commands.get(guild_id, [])
                   if (c["name"], c.get("type", 1)) != (cmd["name"], cmd.get("type", 1))]
        self._commands[guild_id] = current + [cmd]
        return cmd

    def _find_by_id(self, guild_id: int | None, command_id: str) -> dict:
        for cmd in self._commands.get(guild_id, []):
            if cmd["id"] == command_id:
                return cmd
        raise _unknown("application command", 10063)

    @_route("GET", "/applications/{application_id}/commands")
    async def _get_global_commands(self, rec: RecordedRequest, application_id: str) -> list:
        self._check_app(application_id)
        return self._commands.get(None, [])

    @_route("PUT", "/applications/{application_id}/commands")
    async def _put_global_commands(self, rec: RecordedRequest, application_id: str) -> list:
        self._check_app(application_id)
        return self._bulk_overwrite(rec, None)

    @_route("POST", "/applications/{application_id}/commands")
    async def _post_global_command(self, rec: RecordedRequest, application_id: str) -> dict:
        self._check_app(application_id)
        return self._upsert_one(rec, None)

    @_route("GET", "/applications/{application_id}/commands/{command_id}")
    async def _get_global_command(self, rec: RecordedRequest, application_id: str, command_id: str) -> dict:
        self._check_app(application_id)
        return self._find_by_id(None, command_id)

    @_route("DELETE", "/applications/{application_id}/commands/{command_id}")
    async def _delete_global_command(self, rec: RecordedRequest, application_id: str, command_id: str) -> None:
        self._check_app(application_id)
        cmd = self._find_by_id(None, command_id)
        self._commands[None].remove(cmd)

    @_route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _get_guild_commands(self, rec: RecordedRequest, application_id: str, guild_id: str) -> list:
        self._check_app(application_id)
        return self._commands.get(int(self._rest_guild(guild_id)["id"]), [])

    @_route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _put_guild_commands(self, rec: RecordedRequest, application_id: str, guild_id: str) -> list:
        self._check_app(application_id)
        return self._bulk_overwrite(rec, int(self._rest_guild(guild_id)["id"]))

    @_route("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _post_guild_command(self, rec: RecordedRequest, application_id: str, guild_id: str) -> dict:
        self._check_app(application_id)
        return self._upsert_one(rec, int(self._rest_guild(guild_id)["id"]))

    @_route("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _delete_guild_command(self, rec: RecordedRequest, application_id: str, guild_id: str,
                                    command_id: str) -> None:
        self._check_app(application_id)
        gid = int(self._rest_guild(guild_id)["id"])
        self._commands[gid].remove(self._find_by_id(gid, command_id))

    # ---------------------------------------------------------------- messages (shared by REST + interactions)

    @staticmethod
    def _validate_message(body: dict, files: list, *, creating: bool) -> None:
        errors: dict = {}
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            errors["content"] = _field_error("BASE_TYPE_STRING", "Must be a string.")
        elif content and len(content) > 2000:
            errors["content"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            errors["embeds"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, embed in enumerate(embeds[:10]):
            e_err: dict = {}
            limits = (("title", 256), ("description", 4096))
            for key, limit in limits:
                value = embed.get(key) or ""
                total += len(value)
                if len(value) > limit:
                    e_err[key] = _field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            fields = embed.get("fields") or []
            if len(fields) > 25:
                e_err["fields"] = _field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for j, fld in enumerate(fields):
                for key, limit in (("name", 256), ("value", 1024)):
                    value = fld.get(key) or ""
                    total += len(value)
                    if not value:
                        e_err.setdefault("fields", {}).setdefault(str(j), {})[key] = _field_error(
                            "BASE_TYPE_REQUIRED", "This field is required")
                    elif len(value) > limit:
                        e_err.setdefault("fields", {}).setdefault(str(j), {})[key] = _field_error(
                            "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
                value = (embed.get(key) or {}).get(sub) or ""
                total += len(value)
                if len(value) > limit:
                    e_err[key] = {sub: _field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")}
            if e_err:
                errors.setdefault("embeds", {})[str(i)] = e_err
        if total > 6000:
            errors.setdefault("embeds", {})["_errors"] = [
                {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]
        am = body.get("allowed_mentions")
        if am:
            parse = am.get("parse") or []
            for kind in ("users", "roles"):
                if kind in parse and am.get(kind):
                    errors.setdefault("allowed_mentions", {"_errors": []})["_errors"].append(
                        {"code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                         "message": f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."})
        if errors:
            raise _invalid_form(errors)
        if creating and not (content or embeds or files or body.get("components") or body.get("sticker_ids")
                             or body.get("poll") or body.get("attachments")):
            raise _ApiError(400, 50006, "Cannot send an empty message")

    def _build_bot_message(self, channel: dict, body: dict, files: list, *, flags: int = 0, msg_type: int = 0,
                           reference: dict | None = None, interaction: FakeInteraction | None = None) -> tuple:
        """Returns (message dict, pings)."""
        guild_id = channel.get("guild_id")
        referenced = None
        if reference is not None:
            referenced = self.messages.get(int(reference.get("message_id", 0)))
        pings = compute_pings(body.get("content"), body.get("allowed_mentions"),
                              replied_user_id=int(referenced["author"]["id"]) if referenced else None)
        mention_ids = set(pings.users) | ({int(referenced["author"]["id"])} if pings.replied_user else set())
        attachments = [
            {"id": _sid(new_snowflake()), "filename": f["filename"], "size": f["size"],
             "url": f"{self.base_url}/attachments/{f['filename']}",
                 "proxy_url": f"{self.base_url}/attachments/{f['filename']}",
             "content_type": f.get("content_type")}
            for f in files
        ]
        message = {
            "id": _sid(new_snowflake()), "channel_id": channel["id"], "author": self.bot_user,
            "content": body.get("content") or "", "timestamp": _now_iso(), "edited_timestamp": None,
            "tts": bool(body.get("tts", False)), "mention_everyone": pings.everyone,
            "mentions": [self.users[u] for u in sorted(mention_ids) if u in self.users],
            "mention_roles": [_sid(r) for r in sorted(pings.roles)], "attachments": attachments,
            "embeds": copy.deepcopy(body.get("embeds") or []), "reactions": [], "pinned": False, "type": msg_type,
            "flags": int(body.get("flags") or 0) | flags, "components": copy.deepcopy(body.get("components") or []),
        }
        if reference is not None:
            message["message_reference"] = {"type": 0, "message_id": _sid(reference["message_id"]),
                                            "channel_id": _sid(reference.get("channel_id") or channel["id"])}
            if guild_id:
                message["message_reference"]["guild_id"] = guild_id
            message["referenced_message"] = referenced
            message["type"] = 19  # REPLY
        if interaction is not None:
            user = (interaction.payload.get("member") or {}).get("user") or interaction.payload.get("user")
            message.update(application_id=_sid(self.application_id), webhook_id=_sid(self.application_id),
                           interaction_metadata={"id": _sid(interaction.id), "type": interaction.type, "user": user,
                                                 "authorizing_integration_owners":
                                                     interaction.payload.get("authorizing_integration_owners", {})})
        return message, pings

    def _store_visible(self, message: dict) -> None:
        channel_id = int(message["channel_id"])
        self.messages[int(message["id"])] = message
        self._history.setdefault(channel_id, []).append(int(message["id"]))
        channel = self.channels.get(channel_id)
        if channel is not None:
            channel["last_message_id"] = message["id"]

    async def _echo(self, message: dict) -> None:
        """MESSAGE_CREATE for a message the bot made (Discord sends those to the bot too)."""
        if not self.echo_bot_messages:
            return
        channel = self.channels.get(int(message["channel_id"])) or {}
        if "guild_id" in channel:
            member = self.get_member(self.bot_id, channel["guild_id"])
            message = dict(message, guild_id=channel["guild_id"],
                           member={k: v for k, v in member.items() if k != "user"})
        await self._dispatch_message_create(message)

    def _apply_edit(self, bot_msg: BotMessage, body: dict, files: list) -> None:
        self._validate_message(body, files, creating=False)
        msg = bot_msg.message
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = copy.deepcopy(body[key]) if body[key] is not None else ([] if key != "content" else "")
        if "flags" in body and body["flags"] is not None:
            msg["flags"] = (msg["flags"] & (EPHEMERAL | LOADING)) | int(body["flags"])
        if files:
            msg["attachments"] = msg.get("attachments", []) + [
                {"id": _sid(new_snowflake()), "filename": f["filename"], "size": f["size"], "url": "", "proxy_url": ""}
                for f in files]
        msg["edited_timestamp"] = _now_iso()
        if not (msg["content"] or msg["embeds"] or msg.get("attachments") or msg.get("components")):
            raise _ApiError(400, 50006, "Cannot send an empty message")
        bot_msg.edits.append(copy.deepcopy(body))

    # ---------------------------------------------------------------- REST: channels

    def _rest_channel(self, channel_id: str) -> dict:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise _unknown("Channel", 10003) from None

    def _rest_message(self, channel: dict, message_id: str) -> dict:
        try:
            msg = self.messages[int(message_id)]
        except (KeyError, ValueError):
            raise _unknown("Message", 10008) from None
        if msg["channel_id"] != channel["id"]:
            raise _unknown("Message", 10008)
        return msg

    def _bot_message(self, message_id: int) -> BotMessage | None:
        candidates = itertools.chain(self.channel_messages,
                                     *(inter.messages for inter in self.interactions.values()))
        return next((bm for bm in candidates if bm.id == message_id), None)

    @_route("GET", "/channels/{channel_id}")
    async def _get_channel(self, rec: RecordedRequest, channel_id: str) -> dict:
        return self._rest_channel(channel_id)

    @_route("POST", "/channels/{channel_id}/messages")
    async def _post_message(self, rec: RecordedRequest, channel_id: str) -> dict:
        channel = self._rest_channel(channel_id)
        body = rec.json or {}
        in_thread = channel.get("type") in _THREAD_TYPES
        self._require_bot_permission(channel, Perm.VIEW_CHANNEL | (
            Perm.SEND_MESSAGES_IN_THREADS if in_thread else Perm.SEND_MESSAGES))
        if rec.files:
            self._require_bot_permission(channel, Perm.ATTACH_FILES)
        self._validate_message(body, rec.files, creating=True)
        reference = body.get("message_reference")
        if reference is not None:
            ref_id = int(reference.get("message_id") or 0)
            ref_channel = str(reference.get("channel_id") or channel["id"])
            target = self.messages.get(ref_id)
            if (target is None or target["channel_id"] != ref_channel) and reference.get("fail_if_not_exists", True):
                raise _invalid_form({"message_reference": _field_error("MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                                                       "Unknown message")})
            if target is None:
                reference = None
        message, pings = self._build_bot_message(channel, body, rec.files, reference=reference)
        self._store_visible(message)
        self.channel_messages.append(BotMessage("channel", message, copy.deepcopy(body), rec.files, pings=pings))
        await self._echo(message)
        return message

    @_route("GET", "/channels/{channel_id}/messages")
    async def _get_messages(self, rec: RecordedRequest, channel_id: str) -> list:
        channel = self._rest_channel(channel_id)
        self._require_bot_permission(channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
        ids = list(self._history.get(int(channel["id"]), []))
        q = rec.query
        if "before" in q:
            ids = [i for i in ids if i < int(q["before"])]
        if "after" in q:
            ids = [i for i in ids if i > int(q["after"])]
        limit = max(1, min(int(q.get("limit", 50)), 100))
        if "after" in q:
            picked = ids[:limit]
        else:
            picked = ids[-limit:]
        return [self.messages[i] for i in sorted(picked, reverse=True) if i in self.messages]

    @_route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def _get_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> dict:
        channel = self._rest_channel(channel_id)
        self._require_bot_permission(channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
        return self._rest_message(channel, message_id)

    @_route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def _edit_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> dict:
        channel = self._rest_channel(channel_id)
        msg = self._rest_message(channel, message_id)
        bot_msg = self._bot_message(int(msg["id"]))
        if bot_msg is None:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(bot_msg, rec.json or {}, rec.files)
        await self.dispatch_event("MESSAGE_UPDATE", dict(msg, guild_id=channel.get("guild_id")),
                                  intent=Intent.GUILD_MESSAGES)
        return msg

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def _delete_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> None:
        channel = self._rest_channel(channel_id)
        msg = self._rest_message(channel, message_id)
        if msg["author"]["id"] != _sid(self.bot_id):
            self._require_bot_permission(channel, Perm.MANAGE_MESSAGES)
        del self.messages[int(msg["id"])]
        bot_msg = self._bot_message(int(msg["id"]))
        if bot_msg is not None:
            bot_msg.deleted = True
        await self.dispatch_event("MESSAGE_DELETE", {"id": msg["id"], "channel_id": channel["id"],
                                                     "guild_id": channel.get("guild_id")}, intent=Intent.GUILD_MESSAGES)

    def _reaction_target(self, channel_id: str, message_id: str, emoji: str) -> tuple:
        channel = self._rest_channel(channel_id)
        msg = self._rest_message(channel, message_id)
        if not emoji or (":" in emoji and not emoji.rsplit(":", 1)[1].isdigit()):
            raise _ApiError(400, 10014, "Unknown Emoji")
        return channel, msg

    @_route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _add_reaction(self, rec: RecordedRequest, channel_id: str, message_id: str, emoji: str) -> None:
        channel, msg = self._reaction_target(channel_id, message_id, emoji)
        self._require_bot_permission(channel, Perm.READ_MESSAGE_HISTORY | Perm.ADD_REACTIONS)
        self.reactions.append(Reaction(int(channel["id"]), int(msg["id"]), emoji))

    @_route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _remove_reaction(self, rec: RecordedRequest, channel_id: str, message_id: str, emoji: str) -> None:
        channel, msg = self._reaction_target(channel_id, message_id, emoji)
        self.reactions.append(Reaction(int(channel["id"]), int(msg["id"]), emoji, removed=True))

    @_route("POST", "/channels/{channel_id}/typing")
    async def _typing(self, rec: RecordedRequest, channel_id: str) -> None:
        channel = self._rest_channel(channel_id)
        in_thread = channel.get("type") in _THREAD_TYPES
        self._require_bot_permission(channel, Perm.SEND_MESSAGES_IN_THREADS if in_thread else Perm.SEND_MESSAGES)
        self.typing.append(int(channel["id"]))

    async def _create_thread(self, parent: dict, body: dict, *, thread_id: int | None = None,
                             thread_type: int = PUBLIC_THREAD) -> dict:
        if parent.get("type") not in (TEXT, NEWS):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require_bot_permission(parent, Perm.CREATE_PUBLIC_THREADS if thread_type != PRIVATE_THREAD
                                     else Perm.CREATE_PRIVATE_THREADS)
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            raise _invalid_form({"name": _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")})
        now = _now_iso()
        thread = {
            "id": _sid(thread_id or new_snowflake()), "guild_id": parent["guild_id"], "parent_id": parent["id"],
            "owner_id": _sid(self.bot_id), "name": name, "type": thread_type, "last_message_id": None,
            "rate_limit_per_user": int(body.get("rate_limit_per_user") or 0), "message_count": 0, "member_count": 1,
            "total_message_sent": 0, "flags": 0, "applied_tags": [],
            "thread_metadata": {"archived": False,
                                "auto_archive_duration": int(body.get("auto_archive_duration") or 1440),
                                "archive_timestamp": now, "locked": False, "create_timestamp": now,
                                "invitable": body.get("invitable", True)},
            "member": {"id": None, "user_id": _sid(self.bot_id), "join_timestamp": now, "flags": 1},
        }
        thread["member"]["id"] = thread["id"]
        guild = self.guilds[int(parent["guild_id"])]
        guild.setdefault("threads", []).append(thread)
        self.channels[int(thread["id"])] = thread
        self.threads_created.append(thread)
        await self.dispatch_event("THREAD_CREATE", dict(thread, newly_created=True), intent=Intent.GUILDS)
        return thread

    @_route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    async def _thread_from_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> dict:
        parent = self._rest_channel(channel_id)
        msg = self._rest_message(parent, message_id)
        if int(msg["id"]) in self.channels:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        thread = await self._create_thread(parent, rec.json or {}, thread_id=int(msg["id"]))
        msg["thread"] = thread
        return thread

    @_route("POST", "/channels/{channel_id}/threads")
    async def _thread_without_message(self, rec: RecordedRequest, channel_id: str) -> dict:
        body = rec.json or {}
        return await self._create_thread(self._rest_channel(channel_id), body,
                                         thread_type=int(body.get("type") or PRIVATE_THREAD))

    @_route("PUT", "/channels/{channel_id}/thread-members/@me")
    async def _join_thread(self, rec: RecordedRequest, channel_id: str) -> None:
        if self._rest_channel(channel_id).get("type") not in _THREAD_TYPES:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")

    @_route("DELETE", "/channels/{channel_id}/thread-members/@me")
    async def _leave_thread(self, rec: RecordedRequest, channel_id: str) -> None:
        await self._join_thread(rec, channel_id)

    # ---------------------------------------------------------------- REST: interactions + webhooks

    def _interaction_by_token(self, application_id: str, token: str) -> FakeInteraction:
        if application_id != _sid(self.application_id):
            raise _unknown("Webhook", 10015)
        for inter in self.interactions.values():
            if inter.token == token:
                return inter
        raise _unknown("Webhook", 10015)

    def _reject(self, inter: FakeInteraction, rec: RecordedRequest, err: _ApiError) -> _ApiError:
        rec.status, rec.response = err.status, err.body()
        inter.rejected.append(rec)
        return err

    def _interaction_channel(self, inter: FakeInteraction) -> dict:
        return self.channels.get(int(inter.payload["channel_id"])) or inter.payload["channel"]

    @_route("POST", "/interactions/{interaction_id}/{token}/callback", auth=False)
    async def _interaction_callback(self, rec: RecordedRequest, interaction_id: str, token: str) -> dict:
        inter = self.interactions.get(int(interaction_id)) if interaction_id.isdigit() else None
        if inter is None or inter.token != token:
            raise _unknown("interaction", 10062)
        try:
            return await self._handle_callback(inter, rec)
        except _ApiError as err:
            raise self._reject(inter, rec, err) from err

    async def _handle_callback(self, inter: FakeInteraction, rec: RecordedRequest) -> dict:
        loop = asyncio.get_running_loop()
        inter.callback_times.append(loop.time())
        if self.interaction_ack_timeout is not None and loop.time() - inter.created_at > self.interaction_ack_timeout:
            raise _unknown("interaction", 10062)
        if inter.callbacks:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = rec.json or {}
        rtype, data = body.get("type"), body.get("data") or {}
        allowed = {
            PING: {CB_PONG},
            APPLICATION_COMMAND: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_MODAL},
            MESSAGE_COMPONENT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_MODAL},
            AUTOCOMPLETE: {CB_AUTOCOMPLETE},
            MODAL_SUBMIT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE},
        }[inter.type]
        if rtype not in allowed:
            message = f"Callback type {rtype} is not valid for interaction type {inter.type}"
            raise _invalid_form({"type": _field_error("INTERACTION_RESPONSE_TYPE_INVALID", message)})
        channel = self._interaction_channel(inter)
        message = None
        if rtype == CB_AUTOCOMPLETE:
            self._validate_choices(data.get("choices"))
        elif rtype == CB_MESSAGE:
            self._validate_message(data, rec.files, creating=True)
        elif rtype == CB_UPDATE:
            target = inter.payload.get("message") or {}
            bot_msg = self._bot_message(int(target.get("id", 0))) if target else None
            if bot_msg is not None:
                self._apply_edit(bot_msg, data, rec.files)
        inter.callbacks.append(copy.deepcopy(body))
        if rtype in (CB_MESSAGE, CB_DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0) & EPHEMERAL
            if rtype == CB_DEFERRED_MESSAGE:
                message, pings = self._build_bot_message(channel, {}, [], flags=flags | LOADING, msg_type=20,
                                                         interaction=inter)
            else:
                message, pings = self._build_bot_message(channel, data, rec.files, msg_type=20, interaction=inter)
                message["flags"] = (message["flags"] & ~EPHEMERAL) | flags
            inter.original = BotMessage("interaction_response", message, copy.deepcopy(data), rec.files, pings=pings)
            if not flags:
                self._store_visible(message)
                await self._echo(message)
        result = {"interaction": {"id": _sid(inter.id), "type": inter.type,
                                  "response_message_loading": rtype == CB_DEFERRED_MESSAGE,
                                  "response_message_ephemeral": bool(inter.original and inter.original.ephemeral)}}
        if inter.original is not None:
            result["interaction"]["response_message_id"] = inter.original.message["id"]
            result["resource"] = {"type": rtype, "message": inter.original.message}
        return result

    @staticmethod
    def _validate_choices(choices: Any) -> None:
        if not isinstance(choices, list):
            raise _invalid_form({"data": {"choices": _field_error("BASE_TYPE_REQUIRED", "This field is required")}})
        errors: dict = {}
        if len(choices) > 25:
            errors["_errors"] = [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}]
        for i, choice in enumerate(choices):
            name, value = choice.get("name") or "", choice.get("value")
            c_err = {}
            if not 1 <= len(name) <= 100:
                c_err["name"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            if value is None or (isinstance(value, str) and len(value) > 100):
                c_err["value"] = _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            for locale in choice.get("name_localizations") or {}:
                if locale not in VALID_LOCALES:
                    c_err.setdefault("name_localizations", {})[locale] = _field_error(
                        "ENUM_TYPE_COERCE", f"Value {locale!r} is not a valid enum value.")
            if c_err:
                errors[str(i)] = c_err
        if errors:
            raise _invalid_form({"data": {"choices": errors}})

    @_route("POST", "/webhooks/{application_id}/{token}", auth=False)
    async def _followup(self, rec: RecordedRequest, application_id: str, token: str) -> dict | None:
        inter = self._interaction_by_token(application_id, token)
        try:
            if not inter.callbacks:
                raise _unknown("Webhook", 10015)
            body = rec.json or {}
            self._validate_message(body, rec.files, creating=True)
            original = inter.original
            if inter.response_type == CB_DEFERRED_MESSAGE and original is not None and original.loading:
                # the first followup after a "thinking" defer replaces it and keeps the defer's ephemeral flag
                keep = original.flags & EPHEMERAL
                self._apply_edit(original, body, rec.files)
                original.message["flags"] = (original.message["flags"] & ~(LOADING | EPHEMERAL)) | keep
                original.pings = compute_pings(body.get("content"), body.get("allowed_mentions"))
                inter.followups.append(original)
                if not keep:
                    await self._echo(original.message)
                message = original.message
            else:
                channel = self._interaction_channel(inter)
                message, pings = self._build_bot_message(channel, body, rec.files, interaction=inter)
                inter.followups.append(BotMessage("followup", message, copy.deepcopy(body), rec.files, pings=pings))
                if not message["flags"] & EPHEMERAL:
                    self._store_visible(message)
                    await self._echo(message)
        except _ApiError as err:
            raise self._reject(inter, rec, err) from err
        return message if rec.query.get("wait") in ("1", "true", "True") else None

    def _webhook_message(self, inter: FakeInteraction, message_id: str) -> BotMessage:
        if message_id == "@original":
            if inter.original is not None:
                return inter.original
            # after a deferred update / update, a component interaction's original is the clicked message
            clicked = inter.payload.get("message")
            if clicked and inter.response_type in (CB_DEFERRED_UPDATE, CB_UPDATE):
                bot_msg = self._bot_message(int(clicked["id"]))
                if bot_msg is not None:
                    return bot_msg
            raise _unknown("Message", 10008)
        for bm in inter.followups:
            if str(bm.id) == message_id:
                return bm
        raise _unknown("Message", 10008)

    @_route("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
    async def _get_webhook_message(self, rec: RecordedRequest, application_id: str, token: str,
                                   message_id: str) -> dict:
        inter = self._interaction_by_token(application_id, token)
        try:
            return self._webhook_message(inter, message_id).message
        except _ApiError as err:
            raise self._reject(inter, rec, err) from err

    @_route("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
    async def _edit_webhook_message(self, rec: RecordedRequest, application_id: str, token: str,
                                    message_id: str) -> dict:
        inter = self._interaction_by_token(application_id, token)
        try:
            bot_msg = self._webhook_message(inter, message_id)
            was_loading = bot_msg.loading
            self._apply_edit(bot_msg, rec.json or {}, rec.files)
            bot_msg.message["flags"] &= ~LOADING
            if was_loading:
                bot_msg.pings = compute_pings((rec.json or {}).get("content"), (rec.json or {}).get("allowed_mentions"))
            if message_id == "@original":
                inter.edits.append(copy.deepcopy(rec.json or {}))
        except _ApiError as err:
            raise self._reject(inter, rec, err) from err
        if not bot_msg.ephemeral:
            await self.dispatch_event("MESSAGE_UPDATE", dict(bot_msg.message, guild_id=inter.payload.get("guild_id")),
                                      intent=Intent.GUILD_MESSAGES)
        return bot_msg.message

    @_route("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", auth=False)
    async def _delete_webhook_message(self, rec: RecordedRequest, application_id: str, token: str,
                                      message_id: str) -> None:
        inter = self._interaction_by_token(application_id, token)
        try:
            bot_msg = self._webhook_message(inter, message_id)
        except _ApiError as err:
            raise self._reject(inter, rec, err) from err
        bot_msg.deleted = True
        self.messages.pop(bot_msg.id, None)

    # ---------------------------------------------------------------- injecting user messages

    def _resolve_author(self, author: UserSpec, guild: dict | None) -> tuple:
        user = self.get_user(author)
        member = self.get_member(user, guild) if guild is not None else None
        return user, member

    def _is_bot_mentioned(self, message: dict) -> bool:
        return any(m["id"] == _sid(self.bot_id) for m in message.get("mentions", []))

    async def _dispatch_message_create(self, message: dict) -> int:
        """Send MESSAGE_CREATE to every session with the matching intent, blanking content without MESSAGE_CONTENT."""
        is_guild = "guild_id" in message and message["guild_id"] is not None
        needed = Intent.GUILD_MESSAGES if is_guild else Intent.DIRECT_MESSAGES
        privileged_ok = (not is_guild or self._is_bot_mentioned(message)
                         or message["author"]["id"] == _sid(self.bot_id))
        sent = 0
        for session in list(self._sessions):
            if not (session.live and session.intents & needed):
                continue
            data = message
            if not privileged_ok and not session.intents & Intent.MESSAGE_CONTENT:
                data = dict(message, content="", embeds=[], attachments=[], components=[])
                data.pop("poll", None)
            sent += await session.send(0, data, "MESSAGE_CREATE")
        return sent

    async def send_message(self, channel: ChannelSpec = None, content: str = "", *, author: UserSpec = "alice",
                           mention_bot: bool = False, reply_to: dict | int | None = None,
                           embeds: list | None = None, attachments: list | None = None) -> dict:
        """A user posts in a guild channel (or thread); returns the message dict as stored by the fake."""
        ch = self.get_channel(channel)
        if "guild_id" not in ch:
            raise ValueError("use send_dm() for direct messages")
        guild = self.guilds[int(ch["guild_id"])]
        user, member = self._resolve_author(author, guild)
        bot_mention = f"<@{self.bot_id}>"
        content = content.replace("<@bot>", bot_mention)
        if mention_bot and bot_mention not in content and f"<@!{self.bot_id}>" not in content:
            content = f"{bot_mention} {content}".strip()
        message = self._user_message(ch, user, content, embeds, attachments, reply_to)
        perms = self.permissions_for(user, ch)
        everyone = bool(_MENTION_EVERYONE.search(content)) and bool(perms & Perm.MENTION_EVERYONE)
        mentioned = []
        for uid in dict.fromkeys(int(x) for x in _MENTION_USER.findall(content)):
            if uid in self.users:
                entry = dict(self.users[uid])
                with contextlib.suppress(KeyError):
                    entry["member"] = {k: v for k, v in self.get_member(uid, guild).items() if k != "user"}
                mentioned.append(entry)
        message.update(guild_id=guild["id"], member={k: v for k, v in member.items() if k != "user"},
                       mentions=mentioned, mention_everyone=everyone,
                       mention_roles=[r for r in dict.fromkeys(_MENTION_ROLE.findall(content))])
        self._store_visible(message)
        await self._dispatch_message_create(message)
        return message

    async def send_dm(self, content: str, *, author: UserSpec = "alice", embeds: list | None = None,
                      attachments: list | None = None) -> dict:
        """A user sends the bot a direct message; returns the message dict."""
        user = self.get_user(author)
        channel = self._dm_channel(user)
        message = self._user_message(channel, user, content.replace("<@bot>", f"<@{self.bot_id}>"), embeds,
                                     attachments, None)
        self._store_visible(message)
        await self._dispatch_message_create(message)
        return message

    def _user_message(self, channel: dict, user: dict, content: str, embeds, attachments, reply_to) -> dict:
        message = {
            "id": _sid(new_snowflake()), "channel_id": channel["id"], "author": user, "content": content,
            "timestamp": _now_iso(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": list(attachments or []),
            "embeds": list(embeds or []), "reactions": [], "pinned": False, "type": 0, "flags": 0, "components": [],
            "nonce": str(new_snowflake()),
        }
        if reply_to is not None:
            ref = reply_to if isinstance(reply_to, dict) else self.messages[int(reply_to)]
            message.update(type=19, referenced_message=ref,
                           message_reference={"type": 0, "message_id": ref["id"], "channel_id": ref["channel_id"]})
            if "guild_id" in channel:
                message["message_reference"]["guild_id"] = channel["guild_id"]
        return message

    # ---------------------------------------------------------------- injecting interactions

    def _find_command(self, root: str, ctype: int, guild_id: int | None) -> tuple:
        for scope in ([guild_id] if guild_id is not None else []) + [None]:
            for cmd in self._commands.get(scope, []):
                if cmd["name"] == root and cmd.get("type", 1) == ctype:
                    return cmd, scope
        return None, None

    def _check_available(self, cmd: dict, scope: int | None, user_perms: int, dm: bool) -> None:
        if dm:
            contexts = cmd.get("contexts")
            if scope is not None or (contexts is not None and 1 not in contexts) or (
                    contexts is None and cmd.get("dm_permission") is False):
                raise CommandUnavailable(f"/{cmd['name']} is not available in DMs")
            return
        required = cmd.get("default_member_permissions")
        if required is not None and not user_perms & Perm.ADMINISTRATOR:
            required = int(required)
            if required == 0 or user_perms & required != required:
                raise CommandUnavailable(
                    f"/{cmd['name']} needs permissions {required:#x}; the user has {user_perms:#x}")

    def _interaction_base(self, itype: int, data: dict, *, user: UserSpec, channel: ChannelSpec, locale: str,
                          permissions: int | None, dm: bool, message: dict | None = None) -> dict:
        u = self.get_user(user)
        base = {
            "id": _sid(new_snowflake()), "application_id": _sid(self.application_id), "type": itype,
            "token": "fake-interaction-" + secrets.token_urlsafe(24), "version": 1, "data": data,
            "locale": locale, "entitlements": [], "entitlement_sku_ids": [], "attachment_size_limit": 10 * 1024 * 1024,
        }
        if dm:
            ch = self._dm_channel(u)
            base.update(channel_id=ch["id"], channel=dict(ch), user=u, context=1, app_permissions=str(Perm.ALL),
                        authorizing_integration_owners={"0": _sid(self.application_id)})
        else:
            ch = self.get_channel(channel)
            guild = self.guilds[int(ch["guild_id"])]
            member = self.get_member(u, guild)
            perms = self.permissions_for(u, ch) if permissions is None else permissions
            base.update(
                guild_id=guild["id"], guild={"id": guild["id"], "locale": guild["preferred_locale"], "features": []},
                guild_locale=guild["preferred_locale"], channel_id=ch["id"],
                channel=dict(ch, permissions=str(perms)), member=dict(member, permissions=str(perms)), context=0,
                app_permissions=str(self.permissions_for(self.bot_id, ch)),
                authorizing_integration_owners={"0": guild["id"]})
        if message is not None:
            base["message"] = message
        return base

    async def _send_interaction(self, payload: dict) -> FakeInteraction:
        inter = FakeInteraction(int(payload["id"]), payload["token"], payload["type"], payload,
                                asyncio.get_running_loop().time())
        self.interactions[inter.id] = inter
        if not await self.dispatch_event("INTERACTION_CREATE", payload):
            raise RuntimeError("no bot is connected to the fake gateway (start it and await fake.wait_ready())")
        inter.delivered_at = asyncio.get_running_loop().time()
        return inter

    def _command_payload(self, name: str, ctype: int, options: dict | None, *, user: UserSpec,
                         channel: ChannelSpec, dm: bool, permissions: int | None,
                         focused: tuple | None = None) -> tuple:
        parts = name.split() if ctype == 1 else [name]  # context-menu names may contain spaces
        guild_id = None if dm else int(self.get_channel(channel)["guild_id"])
        user_perms = (Perm.ALL if dm else (self.permissions_for(user, channel) if permissions is None else permissions))
        cmd, scope = self._find_command(parts[0], ctype, guild_id)
        resolved: dict = {}
        if cmd is None:
            if self.strict_commands:
                known = sorted({c["name"] for cs in self._commands.values() for c in cs})
                if dm and parts[0] in known:
                    raise CommandUnavailable(f"/{parts[0]} is only a guild command; those are not offered in DMs")
                raise CommandUnavailable(f"command {parts[0]!r} (type {ctype}) is not registered for this "
                                         f"guild or globally (registered: {known}); did the bot sync?")
            data = {"id": _sid(new_snowflake()), "name": parts[0], "type": ctype}
            defs = None
        else:
            self._check_available(cmd, scope, user_perms, dm)
            data = {"id": cmd["id"], "name": cmd["name"], "type": ctype}
            if scope is not None:
                data["guild_id"] = _sid(scope)
            defs = cmd.get("options") or []
        if ctype != 1:
            return data, guild_id
        container = data
        for sub in parts[1:]:
            sub_def = None
            if defs is not None:
                sub_def = next((o for o in defs if o["name"] == sub and o.get("type") in (1, 2)), None)
                if sub_def is None:
                    raise ValueError(f"/{name}: no subcommand {sub!r}")
            node = {"type": sub_def["type"] if sub_def else 1, "name": sub, "options": []}
            container.setdefault("options", []).append(node)
            container = node
            defs = (sub_def.get("options") or []) if sub_def else None
        container["options"] = self._build_options(name, defs, dict(options or {}), resolved, guild_id,
                                                   focused=focused)
        if resolved:
            data["resolved"] = resolved
        return data, guild_id

    def _build_options(self, name: str, defs: list | None, values: dict, resolved: dict,
                       guild_id: int | None, *, focused: tuple | None) -> list:
        if focused is not None:
            values[focused[0]] = focused[1]
        by_name = {d["name"]: d for d in defs or []}
        out = []
        for key, value in values.items():
            if defs is not None and key not in by_name:
                raise ValueError(f"/{name} has no option {key!r} (options: {sorted(by_name)})")
            otype = by_name[key]["type"] if defs is not None else (
                5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value,
                                                                                                    float) else 3)
            is_focused = focused is not None and key == focused[0]
            if is_focused:
                out.append({"type": otype, "name": key, "value": str(value), "focused": True})
                continue
            choices = (by_name.get(key) or {}).get("choices")
            if choices and value not in [c["value"] for c in choices]:
                raise ValueError(f"/{name} option {key!r} must be one of {[c['value'] for c in choices]}")
            out.append({"type": otype, "name": key, "value": self._option_value(otype, value, resolved, guild_id)})
        if defs is not None and focused is None:
            missing = [d["name"] for d in defs if d.get("required") and d["name"] not in values]
            if missing:
                raise ValueError(f"/{name} is missing required options {missing}")
        return out

    def _option_value(self, otype: int, value: Any, resolved: dict, guild_id: int | None) -> Any:
        if otype == 3:
            return str(value)
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        if otype in (6, 9):  # user / mentionable (users only here)
            user = self.get_user(value)
            resolved.setdefault("users", {})[user["id"]] = user
            if guild_id is not None:
                with contextlib.suppress(KeyError):
                    member = self.get_member(user, guild_id)
                    resolved.setdefault("members", {})[user["id"]] = dict(
                        {k: v for k, v in member.items() if k != "user"},
                        permissions=str(self.permissions_for(user, self.channel_id)))
            return user["id"]
        if otype == 7:
            ch = self.get_channel(value)
            entry = {k: ch[k] for k in ("id", "name", "type", "parent_id", "thread_metadata") if k in ch}
            entry["permissions"] = str(self.permissions_for(self.bot_id, ch)) if "guild_id" in ch else "0"
            resolved.setdefault("channels", {})[ch["id"]] = entry
            return ch["id"]
        if otype == 8:
            role = self.get_role(value, guild_id)
            resolved.setdefault("roles", {})[role["id"]] = role
            return role["id"]
        raise NotImplementedError(f"option type {otype} is not supported by the fake")

    async def send_slash_command(self, name: str, options: dict | None = None, *, user: UserSpec = "alice",
                                 channel: ChannelSpec = None, locale: str = "en-US", permissions: int | None = None,
                                 dm: bool = False) -> FakeInteraction:
        """A user runs ``/name`` (``"group sub"`` for subcommands) with ``options``; returns the interaction record."""
        data, _ = self._command_payload(name, 1, options, user=user, channel=channel, dm=dm, permissions=permissions)
        payload = self._interaction_base(APPLICATION_COMMAND, data, user=user, channel=channel, locale=locale,
                                         permissions=permissions, dm=dm)
        return await self._send_interaction(payload)

    async def send_autocomplete(self, name: str, option: str, value: Any = "", *, options: dict | None = None,
                                user: UserSpec = "alice", channel: ChannelSpec = None, locale: str = "en-US",
                                permissions: int | None = None, dm: bool = False,
                                timeout: float = DEFAULT_TIMEOUT, wait: bool = True) -> list | FakeInteraction:
        """A user types ``value`` into ``option`` of ``/name``; returns the bot's choices
        (or the record, wait=False)."""
        data, _ = self._command_payload(name, 1, options, user=user, channel=channel, dm=dm, permissions=permissions,
                                        focused=(option, value))
        payload = self._interaction_base(AUTOCOMPLETE, data, user=user, channel=channel, locale=locale,
                                         permissions=permissions, dm=dm)
        inter = await self._send_interaction(payload)
        if not wait:
            return inter
        await self.wait_interaction_response(inter, timeout=timeout)
        return inter.choices

    async def send_message_command(self, name: str, message: dict | int, *, user: UserSpec = "alice",
                                   locale: str = "en-US", permissions: int | None = None) -> FakeInteraction:
        """A user runs the message context-menu command ``name`` on ``message`` (dict or id known to the fake)."""
        target = message if isinstance(message, dict) else self.messages[int(message)]
        channel = int(target["channel_id"])
        dm = "guild_id" not in self.channels[channel]
        data, _ = self._command_payload(name, 3, None, user=user, channel=channel, dm=dm, permissions=permissions)
        data.update(target_id=target["id"], resolved={"messages": {target["id"]: target}})
        payload = self._interaction_base(APPLICATION_COMMAND, data, user=user, channel=channel, locale=locale,
                                         permissions=permissions, dm=dm)
        return await self._send_interaction(payload)

    async def send_user_command(self, name: str, target: UserSpec, *, user: UserSpec = "alice",
                                channel: ChannelSpec = None, locale: str = "en-US",
                                permissions: int | None = None) -> FakeInteraction:
        """A user runs the user context-menu command ``name`` on ``target``."""
        data, guild_id = self._command_payload(name, 2, None, user=user, channel=channel, dm=False,
                                               permissions=permissions)
        resolved: dict = {}
        data.update(target_id=self._option_value(6, target, resolved, guild_id), resolved=resolved)
        payload = self._interaction_base(APPLICATION_COMMAND, data, user=user, channel=channel, locale=locale,
                                         permissions=permissions, dm=False)
        return await self._send_interaction(payload)

    async def send_component(self, message: dict | int | BotMessage, custom_id: str, *, component_type: int = 2,
                             values: list | None = None, user: UserSpec = "alice",
                             locale: str = "en-US") -> FakeInteraction:
        """A user clicks a button (component_type 2) or picks ``values`` in a select (3) on a bot message."""
        if isinstance(message, BotMessage):
            message = message.message
        target = message if isinstance(message, dict) else self.messages[int(message)]
        channel = int(target["channel_id"])
        data = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        dm = "guild_id" not in self.channels[channel]
        payload = self._interaction_base(MESSAGE_COMPONENT, data, user=user, channel=channel, locale=locale,
                                         permissions=None, dm=dm, message=target)
        return await self._send_interaction(payload)


# --------------------------------------------------------------------------------------------------
# Error-log guard
# --------------------------------------------------------------------------------------------------

class ErrorLogCapture(logging.Handler):
    """Collects log records >= ERROR from every logger (attached to the root logger)."""

    def __init__(self, level: int = logging.ERROR):
        super().__init__(level)
        self.records: list[logging.LogRecord] = []
        self._expected: list[re.Pattern] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def install(self) -> ErrorLogCapture:
        logging.getLogger().addHandler(self)
        return self

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)

    def __enter__(self) -> ErrorLogCapture:
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()

    def expect(self, pattern: str) -> None:
        """Records whose message or traceback matches ``pattern`` (re.search) do not fail the test."""
        self._expected.append(re.compile(pattern))

    @staticmethod
    def _text(record: logging.LogRecord) -> str:
        text = f"{record.name} {record.levelname}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + "".join(logging.Formatter().formatException(record.exc_info))
        return text

    def unexpected(self) -> list[logging.LogRecord]:
        return [r for r in self.records if not any(p.search(self._text(r)) for p in self._expected)]

    def check(self) -> None:
        """pytest.fail if an unexpected ERROR record was logged (collects garbage first, so that
        "Task exception was never retrieved" / "Unclosed client session" are reported too)."""
        gc.collect()
        bad = self.unexpected()
        if bad:
            details = "\n\n".join(self._text(r) for r in bad)
            pytest.fail(f"{len(bad)} ERROR log record(s) during the test:\n{details}", pytrace=False)


@pytest.fixture(autouse=True)
def error_log() -> Iterator[ErrorLogCapture]:
    """Fail the test at teardown if anything logged at ERROR or above (discord.py only logs handler errors)."""
    capture = ErrorLogCapture().install()
    try:
        yield capture
    finally:
        capture.uninstall()
    capture.check()


# --------------------------------------------------------------------------------------------------
# Network guard
# --------------------------------------------------------------------------------------------------

class BlockedNetworkError(RuntimeError):
    """A test tried to reach a non-loopback host."""


_GUARD_KEY = "_fake_discord_network_guard"  # stored on the socket module so that two imports share one guard


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in ("", "localhost", "localhost.", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _blocked(what: str, host: Any) -> BlockedNetworkError:
    state = getattr(socket, _GUARD_KEY, None)
    message = f"network access blocked in tests: {what} {host!r} (only 127.0.0.1/::1/localhost are allowed)"
    if state is not None:
        state["violations"].append(message)
    return BlockedNetworkError(message)


def install_network_guard() -> None:
    """Make every connect / DNS lookup to a non-loopback host raise BlockedNetworkError (idempotent)."""
    if getattr(socket, _GUARD_KEY, None) is not None:
        return
    originals = {
        "connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex, "sendto": socket.socket.sendto,
        "getaddrinfo": socket.getaddrinfo, "gethostbyname": socket.gethostbyname,
        "gethostbyname_ex": socket.gethostbyname_ex, "gethostbyaddr": socket.gethostbyaddr,
    }

    def check_address(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and address:
            if not _is_loopback(address[0]):
                raise _blocked("connect to", address[0])

    def connect(self, address):
        check_address(self, address)
        return originals["connect"](self, address)

    def connect_ex(self, address):
        check_address(self, address)
        return originals["connect_ex"](self, address)

    def sendto(self, data, *args):
        check_address(self, args[-1] if args else None)
        return originals["sendto"](self, data, *args)

    def lookup(name: str) -> Callable:
        def guarded(host, *args, **kwargs):
            if not _is_loopback(host):
                raise _blocked("DNS lookup of", host)
            return originals[name](host, *args, **kwargs)
        return guarded

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        setattr(socket, name, lookup(name))
    setattr(socket, _GUARD_KEY, {"originals": originals, "violations": []})


def uninstall_network_guard() -> None:
    state = getattr(socket, _GUARD_KEY, None)
    if state is None:
        return
    for name, original in state["originals"].items():
        setattr(socket.socket if name in ("connect", "connect_ex", "sendto") else socket, name, original)
    delattr(socket, _GUARD_KEY)


def network_guard_violations() -> list[str]:
    """Blocked attempts since the guard was installed (also those some library caught and swallowed)."""
    state = getattr(socket, _GUARD_KEY, None)
    return [] if state is None else state["violations"]


@pytest.fixture(scope="session", autouse=True)
def network_guard() -> Iterator[None]:
    """Session-wide: no connection may leave the loopback interface."""
    already = getattr(socket, _GUARD_KEY, None) is not None
    install_network_guard()
    try:
        yield
    finally:
        if not already:
            uninstall_network_guard()


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord() with discord.py patched to use it."""
    async with FakeDiscord() as fake:
        with fake.patched_discord():
            yield fake
