"""A reload's report as a Discord page (the reply to /reload): the renderer knows pages, not reloads."""
from __future__ import annotations

import discord

from knowledge.i18n import Catalog

from ..render import (
    ANSWER_COLOUR,
    FIELD_VALUE_LIMIT,
    PROBLEM_COLOUR,
    Field,
    Page,
    Reply,
    bullet_list,
    fit,
    one_line,
    shorten,
)
from .reload import ReloadReport


def _code(path: str) -> str:
    # Paths like `_posts/es/x.md` would turn italic outside a code span.
    return "`" + path.replace("`", "'") + "`"


def reload_page(report: ReloadReport, catalog: Catalog, lang: str) -> Page:
    def t(key: str, **fields: object) -> str:
        return catalog.text(lang, key, **fields)

    def more(count: int) -> str:
        return t("reload.more", count=count)

    pull = pull_failure_field(report.pull_error, report.pull_failing_since, catalog, lang)
    fields: list[Field] = [pull] if pull else []
    if report.error is not None:
        body = t("reload.failed", error=shorten(one_line(report.error), 800))
        return Page(title=t("reload.failed_title"), body=body, fields=tuple(fields), colour=PROBLEM_COLOUR)
    if report.regressions:
        fields.append(Field(
            t("reload.problems", count=len(report.regressions)),
            bullet_list([discord.utils.escape_markdown(p) for p in report.regressions], FIELD_VALUE_LIMIT, more),
        ))
        return Page(title=t("reload.kept_title"), body=t("reload.kept"), fields=tuple(fields), colour=PROBLEM_COLOUR)
    body = [t("reload.summary", notes=report.notes, seconds=f"{report.seconds:.1f}")]
    if report.languages:
        counts = [f"{catalog.language_name(code, lang)}: {n}" for code, n in report.languages.items()]
        fields.append(Field(t("reload.languages"), bullet_list(counts, FIELD_VALUE_LIMIT, more)))
    changes = report.changes
    if not changes.any:
        body.append(t("reload.unchanged"))
    for key, paths in (("reload.added", changes.added), ("reload.updated", changes.updated), ("reload.removed",
                                                                                              changes.removed)):
        if paths:
            fields.append(Field(t(key, count=len(paths)), bullet_list([_code(p) for p in paths], FIELD_VALUE_LIMIT,
                                                                      more)))
    if report.problems:
        fields.append(Field(
            t("reload.problems", count=len(report.problems)),
            bullet_list([discord.utils.escape_markdown(p) for p in report.problems], FIELD_VALUE_LIMIT, more),
        ))
    colour = PROBLEM_COLOUR if report.problems or pull else ANSWER_COLOUR
    return Page(title=t("reload.title"), body="\n\n".join(body), fields=tuple(fields), colour=colour)


def render_reload(report: ReloadReport, catalog: Catalog, lang: str) -> list[Reply]:
    return fit(reload_page(report, catalog, lang), catalog, lang)


def pull_failure_field(error: str | None, since: float | None, catalog: Catalog, lang: str) -> Field | None:
    """notes.git is failing: git's words and since when (a Discord timestamp, shown in the reader's
    language and time zone), for the /reload reply and /stats; None while pulls work."""
    if error is None:
        return None
    when = f"<t:{int(since)}:R>" if since is not None else "?"
    text = catalog.text(lang, "git.failing", error=_code(shorten(one_line(error), 800)), since=when)
    return Field(catalog.text(lang, "git.failing_title"), shorten(text, FIELD_VALUE_LIMIT))
