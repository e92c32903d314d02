"""After an answer: write the question to the journal (queued, never awaited) and build its buttons.

The ask and channels cogs call `after_answer` once per question and send the
view it returns with the last message of the answer (`with_buttons`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from knowledge.model import Answer, Outcome

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
    """Journal the answer as shown, and the buttons it is shown with."""
    record_answer(bot, origin, answer)
    languages: tuple[str, ...] = ()
    # "Show in" re-asks the journaled question; with retention_days 0 its text is never kept.
    if answer.answered and answer.sources and bot.config.journal.retention_days > 0:
        languages = bot.engine.translations(answer.sources[0].path)
    return answer_view(answer, bot.catalog, entry=origin.id, asker=origin.user_id, languages=languages,
                       journal=bot.journal is not None)


def record_answer(bot: NotesBot, origin: Origin, answer: Answer) -> None:
    """Journal `answer` as the asker saw it (a caller that shows less passes what it shows)."""
    if bot.journal is not None and _worth_journaling(bot, origin, answer):
        bot.journal.record(asked(origin, answer))


def asked(origin: Origin, answer: Answer) -> Asked:
    """The journal's row for an answer: its source, or the passage a "not sure" reply offered."""
    if answer.answered and answer.sources:
        source, lang = answer.sources[0], answer.answer_language
    elif answer.closest is not None:
        source, lang = answer.closest.source, answer.closest.language
    else:
        source, lang = None, None
    return Asked(
        id=origin.id, asked_at=origin.created_at, via=origin.via, channel_kind=origin.channel_kind,
        question=answer.question, question_lang=answer.language, answered=answer.answered,
        guild_id=origin.guild_id, user_id=origin.user_id,
        source_path=source.path if source else None, source_title=source.title if source else None,
        answer_lang=lang, score=answer.score, not_sure=answer.outcome is Outcome.NOT_SURE,
    )


def _worth_journaling(bot: NotesBot, origin: Origin, answer: Answer) -> bool:
    # With trigger "every", every chat line in a configured channel reaches the engine; only
    # those that look like questions belong in the list of what the notes could not answer.
    if origin.via == "channel" and not answer.answered:
        return bot.questions.looks_like_question(answer.question)
    return bool(answer.question)


__all__ = ["Origin", "ReplyWithView", "after_answer", "asked", "channel_kind", "record_answer", "with_buttons"]
