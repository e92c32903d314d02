"""After an answer: write the question to the journal (queued, never awaited) and build its buttons.

The ask and channels cogs call `after_answer` once per question and send the
view it returns with the last message of the answer (`with_buttons`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from knowledge.model import Answer

from ..journal.store import Asked
from .render import Reply
from .views import answer_view

if TYPE_CHECKING:
    from .client import NotesBot


@dataclass(frozen=True)
class Origin:
    """Where a question came from: enough to journal it and to key its buttons."""

    id: int  # the interaction or message ID: unique per question
    created_at: float  # Unix time
    via: str  # slash | menu | mention | channel | dm
    channel_kind: str
    guild_id: int | None
    user_id: int

    @classmethod
    def of_interaction(cls, interaction: discord.Interaction[Any], via: str) -> Origin:
        return cls(interaction.id, interaction.created_at.timestamp(), via, channel_kind(interaction.channel),
                   interaction.guild_id, interaction.user.id)

    @classmethod
    def of_message(cls, message: discord.Message, via: str) -> Origin:
        return cls(message.id, message.created_at.timestamp(), via, channel_kind(message.channel),
                   message.guild.id if message.guild else None, message.author.id)


def channel_kind(channel: object) -> str:
    kind = getattr(channel, "type", None)
    return kind.name if isinstance(kind, discord.ChannelType) else "unknown"


@dataclass(frozen=True)
class ReplyWithView(Reply):
    view: discord.ui.View | None = None

    def kwargs(self) -> dict[str, Any]:
        out = super().kwargs()
        if self.view is not None:
            out["view"] = self.view
        return out


def with_buttons(replies: list[Reply], view: discord.ui.View | None) -> list[Reply]:
    """The replies, the last one carrying the view (buttons sit under the end of the answer)."""
    if view is None or not replies:
        return replies
    last = replies[-1]
    return [*replies[:-1], ReplyWithView(content=last.content, embeds=last.embeds, view=view)]


def after_answer(bot: NotesBot, origin: Origin, answer: Answer) -> discord.ui.View | None:
    journal = bot.journal
    if journal is not None and _worth_journaling(bot, origin, answer):
        source = answer.sources[0] if answer.answered and answer.sources else None
        journal.record(Asked(
            id=origin.id, asked_at=origin.created_at, via=origin.via, channel_kind=origin.channel_kind,
            question=answer.question, question_lang=answer.language, answered=answer.answered,
            guild_id=origin.guild_id, user_id=origin.user_id,
            source_path=source.path if source else None, source_title=source.title if source else None,
            answer_lang=answer.answer_language if answer.answered else None, score=answer.score,
        ))
    languages: tuple[str, ...] = ()
    # "Show in" re-asks the journaled question; with retention_days 0 its text is never kept.
    if answer.answered and answer.sources and bot.config.journal.retention_days > 0:
        languages = bot.engine.translations(answer.sources[0].path)
    return answer_view(answer, bot.catalog, entry=origin.id, asker=origin.user_id, languages=languages,
                       journal=journal is not None)


def _worth_journaling(bot: NotesBot, origin: Origin, answer: Answer) -> bool:
    # With trigger "every", every chat line in a configured channel reaches the engine; only
    # those that look like questions belong in the list of what the notes could not answer.
    if origin.via == "channel" and not answer.answered:
        return bot.questions.looks_like_question(answer.question)
    return bool(answer.question)


__all__ = ["Origin", "ReplyWithView", "after_answer", "channel_kind", "with_buttons"]
