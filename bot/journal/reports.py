"""What the journal says, as data: the questions the notes did not answer (grouped), and usage statistics.

Pure functions over `JournalRow`s: the Discord cog, the command line and the
tests use the same ones; rendering (embeds, text, JSON) happens elsewhere.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process, utils

from .store import DAY, JournalRow

# Two wordings belong together at this similarity (0-100). token_set_ratio alone scores 100
# whenever one question's words are a subset of the other's ("docker" vs "how to install
# docker on windows"), so it is averaged with token_sort_ratio, which counts the words left over.
SIMILARITY = 75.0
EXAMPLES = 3
BLOCK = 256  # wordings compared per cdist call in group_similar


@dataclass(frozen=True)
class QuestionGroup:
    count: int  # questions in the group
    unanswered: int  # "I don't know"
    downvoted: int  # answered or offered, with more 👎 than 👍
    examples: tuple[str, ...]  # the most frequent distinct wordings, most frequent first
    languages: tuple[str, ...]  # most frequent first
    notes: tuple[str, ...]  # titles of the notes that gave the down-voted answers, or (not sure) the offers
    last_asked: float
    not_sure: int = 0  # "not sure": the closest passage offered


@dataclass(frozen=True)
class DayCount:
    day: str  # ISO date (UTC)
    asked: int
    answered: int


@dataclass(frozen=True)
class NoteCount:
    path: str
    title: str
    answers: int
    up: int
    down: int


@dataclass(frozen=True)
class Stats:
    days: tuple[DayCount, ...]  # every day of the period, oldest first, empty days included
    asked: int
    answered: int
    up: int
    down: int
    languages: tuple[tuple[str, int], ...]  # question languages, most frequent first
    via: tuple[tuple[str, int], ...]  # slash, mention, channel, ...
    top_notes: tuple[NoteCount, ...]
    not_sure: int = 0  # not answered, the closest passage offered

    @property
    def answer_rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def similarity(a: str, b: str) -> float:
    """0-100: how alike two questions are, word order and case aside."""
    return (fuzz.token_set_ratio(a, b, processor=utils.default_process)
            + fuzz.token_sort_ratio(a, b, processor=utils.default_process)) / 2


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def group_similar(texts: Sequence[str], threshold: float = SIMILARITY) -> list[list[int]]:
    """Indices of `texts` in groups of similar wording, biggest group first.

    Leader clustering: the most frequent wordings go first and found groups; each
    other text joins the group whose leader it is most similar to (at least
    `threshold`), else founds one. Identical texts (after normalising case and
    spaces) always share a group. O(texts × groups), fine for weeks of questions.
    """
    by_wording: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        by_wording.setdefault(" ".join(utils.default_process(text).split()) or text, []).append(i)
    wordings = sorted(by_wording, key=lambda w: (-len(by_wording[w]), w))
    # token_sort_ratio is ratio() of the sorted words: sorted once here, compared in C by cdist
    # (rapidfuzz re-tokenizes every pair otherwise: 15 s for 3,000 distinct questions).
    sorted_words = [_sorted_tokens(w) for w in wordings]
    leaders: list[int] = []  # indices into wordings, most frequent first
    groups: list[list[int]] = []
    block = np.empty((0, 0), dtype=np.float32)
    for i, wording in enumerate(wordings):
        if i % BLOCK == 0:
            # Leaders are earlier wordings: a block of rows against everything before it holds
            # every score needed, BLOCK × n floats at a time.
            block = process.cdist(sorted_words[i : i + BLOCK], sorted_words[: i + BLOCK], scorer=fuzz.ratio,
                                  processor=None, dtype=np.float32, workers=1)
        best, best_score = -1, threshold
        if leaders:
            sort_scores = block[i % BLOCK, leaders]
            # The average reaches the threshold only where token_sort alone reaches 2·threshold − 100
            # (token_set is at most 100): the costly token_set_ratio runs on those few leaders only.
            for g in np.flatnonzero(sort_scores >= 2 * threshold - 100).tolist():
                score = (sort_scores[g] + fuzz.token_set_ratio(wording, wordings[leaders[g]], processor=None)) / 2
                if score > best_score or (score == best_score and best < 0):
                    best, best_score = g, score  # ties: the first, i.e. the most frequent leader
        if best < 0:
            leaders.append(i)
            groups.append(list(by_wording[wording]))
        else:
            groups[best].extend(by_wording[wording])
    for members in groups:
        members.sort()
    groups.sort(key=lambda members: (-len(members), members[0]))
    return groups


def _downvoted(row: JournalRow) -> bool:
    return (row.answered or row.not_sure) and row.down > row.up


def _unknown(row: JournalRow) -> bool:
    return not row.answered and not row.not_sure


def unanswered_groups(rows: Sequence[JournalRow], limit: int = 10) -> list[QuestionGroup]:
    """The most frequent "I don't know"s and down-voted answers (whose text is still kept), grouped.
    "Not sure" replies are apart: `not_sure_groups`."""
    wanted = [row for row in rows if row.question and (_unknown(row) or (row.answered and _downvoted(row)))]
    return _grouped(wanted, limit, _downvoted)


def not_sure_groups(rows: Sequence[JournalRow], limit: int = 10) -> list[QuestionGroup]:
    """The most frequent "not sure" replies, grouped, with the notes their closest passages came from:
    a question the notes nearly answer (a passage to reword, a note to extend) is another job than one
    they do not answer at all."""
    wanted = [row for row in rows if row.question and row.not_sure]
    return _grouped(wanted, limit, lambda row: True)


def _grouped(wanted: Sequence[JournalRow], limit: int, note_of: Callable[[JournalRow], bool]) -> list[QuestionGroup]:
    """`wanted` in groups of similar wording, biggest first; `note_of(row)`: whether its source counts."""
    out: list[QuestionGroup] = []
    for members in group_similar([row.question or "" for row in wanted])[:limit]:
        group = [wanted[i] for i in members]
        wordings = Counter(row.question for row in group)
        out.append(QuestionGroup(
            count=len(group),
            unanswered=sum(_unknown(row) for row in group),
            downvoted=sum(_downvoted(row) for row in group),
            examples=tuple(text for text, _ in wordings.most_common(EXAMPLES) if text),
            languages=tuple(lang for lang, _ in Counter(row.question_lang for row in group).most_common()),
            notes=tuple(title for title, _ in Counter(row.source_title for row in group
                                                       if note_of(row) and row.source_title).most_common()),
            last_asked=max(row.asked_at for row in group),
            not_sure=sum(row.not_sure for row in group),
        ))
    return out


def utc_day(timestamp: float) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date()


def period_start(now: float, days: int) -> float:
    """Midnight UTC starting the last `days` days (today included)."""
    first = utc_day(now) - dt.timedelta(days=days - 1)
    return dt.datetime(first.year, first.month, first.day, tzinfo=dt.UTC).timestamp()


def stats(rows: Sequence[JournalRow], now: float, days: int, top: int = 5) -> Stats:
    """Questions per day (every day of the period), answer rate, languages, votes, most used notes."""
    per_day: dict[dt.date, list[int]] = {}
    today = utc_day(now)
    for offset in range(days - 1, -1, -1):
        per_day[today - dt.timedelta(days=offset)] = [0, 0]
    notes: dict[str, NoteCount] = {}
    for row in rows:
        counts = per_day.get(utc_day(row.asked_at))
        if counts is None:  # outside the period
            continue
        counts[0] += 1
        counts[1] += row.answered
        if row.answered and row.source_path:
            seen = notes.get(row.source_path)
            notes[row.source_path] = NoteCount(
                row.source_path, row.source_title or row.source_path,
                (seen.answers if seen else 0) + 1, (seen.up if seen else 0) + row.up,
                (seen.down if seen else 0) + row.down)
    kept = [row for row in rows if utc_day(row.asked_at) in per_day]
    return Stats(
        days=tuple(DayCount(day.isoformat(), asked, answered) for day, (asked, answered) in per_day.items()),
        asked=len(kept),
        answered=sum(row.answered for row in kept),
        not_sure=sum(row.not_sure for row in kept),
        up=sum(row.up for row in kept),
        down=sum(row.down for row in kept),
        languages=tuple(Counter(row.question_lang for row in kept).most_common()),
        via=tuple(Counter(row.via for row in kept).most_common()),
        top_notes=tuple(sorted(notes.values(), key=lambda n: (-n.answers, n.path))[:top]),
    )


# --------------------------------------------------------------------------- plain text and JSON (command line)


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def unanswered_text(groups: Sequence[QuestionGroup], days: int, not_sure: Sequence[QuestionGroup]) -> str:
    if not groups and not not_sure:
        return f"No unanswered, not-sure or down-voted questions in the last {days} days.\n"
    lines: list[str] = []
    if groups:
        lines += [f"Unanswered or down-voted questions, last {days} days (most asked first):", ""]
        lines += _group_lines(groups, lambda g: f"{g.unanswered} unanswered, {g.downvoted} down-voted",
                              "answered from")
    if not_sure:
        if lines:
            lines.append("")
        lines += [f"Not sure (the closest passage offered), last {days} days:", ""]
        lines += _group_lines(not_sure, lambda g: f"{g.downvoted} down-voted", "closest offered")
    return "\n".join(lines) + "\n"


def _group_lines(groups: Sequence[QuestionGroup], detail: Callable[[QuestionGroup], str], notes: str) -> list[str]:
    """One numbered entry per group: how often, `detail`, languages and when; its examples; its notes."""
    lines: list[str] = []
    for n, group in enumerate(groups, 1):
        lines.append(f"{n}. asked {group.count}× ({detail(group)}; {', '.join(group.languages)}; "
                     f"last {_when(group.last_asked)})")
        lines += [f"     “{example}”" for example in group.examples]
        if group.notes:
            lines.append(f"     {notes}: {'; '.join(group.notes)}")
    return lines


def stats_text(report: Stats, days: int) -> str:
    lines = [f"Last {days} days: {report.asked} questions, {report.answered} answered "
             f"({report.answer_rate:.0%}), {report.not_sure} not sure, votes 👍 {report.up} / 👎 {report.down}", "",
             "per day (asked / answered):"]
    peak = max((d.asked for d in report.days), default=0) or 1
    for day in report.days:
        lines.append(f"  {day.day}  {day.asked:>5} / {day.answered:<5} {'#' * round(30 * day.asked / peak)}")
    if report.languages:
        lines += ["", "languages: " + ", ".join(f"{lang} {count}" for lang, count in report.languages)]
    if report.via:
        lines.append("asked by: " + ", ".join(f"{via} {count}" for via, count in report.via))
    if report.top_notes:
        lines += ["", "notes that answered most:"]
        lines += [f"  {n.answers:>5}  {n.title} ({n.path})  👍 {n.up} 👎 {n.down}" for n in report.top_notes]
    return "\n".join(lines) + "\n"


def unanswered_json(groups: Sequence[QuestionGroup], days: int, not_sure: Sequence[QuestionGroup]) -> dict[str, Any]:
    return {"days": days, "groups": [asdict(group) for group in groups],
            "not_sure": [asdict(group) for group in not_sure]}


def stats_json(report: Stats, days: int) -> dict[str, Any]:
    out = asdict(report)
    out["answer_rate"] = round(report.answer_rate, 4)
    out["languages"] = dict(report.languages)
    out["via"] = dict(report.via)
    out["period_days"] = days
    return out


__all__ = [
    "DAY", "DayCount", "NoteCount", "QuestionGroup", "Stats", "group_similar", "not_sure_groups", "period_start",
    "similarity",
    "stats", "stats_json", "stats_text", "unanswered_groups", "unanswered_json", "unanswered_text", "utc_day",
]
