"""Markdown body → passages that keep their context (section path, table header, parent item).

A small line-based block parser, not a full CommonMark implementation: it only has to find
answerable text (headings, paragraphs, list items, table rows), skip code, and give every
passage a `position` that is the same in a note and its translations. One pass over the
lines, regexes compiled once and anchored, so a large corpus parses in seconds.
"""
from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .inline import code_span
from .model import Passage

__all__ = ["ParsedBody", "parse_body", "to_plain"]

SHORT_PARENT = 80  # a nested item carries its parent's text only when the parent is this short


@dataclass(frozen=True)
class ParsedBody:
    passages: tuple[Passage, ...]
    links: tuple[str, ...]  # every URL in the body, in order, once
    table_shapes: tuple[tuple[int, int], ...]  # (columns, body rows) of each table


# ---------------------------------------------------------------- block patterns
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")
_FENCE_LANGUAGE = re.compile(r"[\w+#.-]{1,30}")  # the language an info string starts with ("java", "c++")
_ATX = re.compile(r"(#{1,6})(?:[ \t]+|$)")
_SETEXT = re.compile(r"(=+|-+)[ \t]*$")
_HR = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# A paragraph that is one short bold line ("**Warning Options**", "**Notes pour Windows :**") is a
# heading in all but syntax: it names the blocks under it and answers nothing itself.
_BOLD_LINE = re.compile(r"(\*\*|__)(?P<text>[^*_\n]{1,80}?)\1[ \t]*[:：]?[ \t]*$")
BOLD_HEADING_LEVEL = 7  # below every "#" heading: the next one, or any real heading, ends its section
_LIST = re.compile(r"([-+*]|(\d{1,9})[.)])([ \t]+|$)")
_TASK = re.compile(r"\[[ xX]\][ \t]+")
_DELIM_ROW = re.compile(r"\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_REF_DEF = re.compile(r"\[([^\]^][^\]]*)\]:[ \t]*<?([^\s>]+)>?(?:[ \t]+.*)?$")
_REF_DEF_ALL = re.compile(r"^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*<?([^\s>]+)>?", re.M)
_FOOTNOTE_DEF = re.compile(r"\[\^[^\]]+\]:[ \t]*")
_QUOTE_MARKS = re.compile(r"(?:>[ \t]?)+")
_QUOTE_INNER_MARKER = re.compile(r"(?:#{1,6}[ \t]+|[-+*][ \t]+|\d{1,9}[.)][ \t]+)")
_RAW_BLOCK = re.compile(r"<(script|style|pre|textarea)\b", re.I)
_LIQUID_BLOCK = re.compile(r"\{%-?\s*(highlight|comment|raw)\b")

# ---------------------------------------------------------------- inline patterns
_PH = "\ue000"  # placeholders protect code, escapes, math and URLs from later rewrites
_PH_END = "\ue001"
_PH_RE = re.compile("\ue000(\\d+)\ue001")
# Lazy spans are bounded ({1,N}) so an unclosed marker costs O(N), never O(paragraph²).
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.{1,2000}?)(?<!`)\1(?!`)", re.S)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MATH = re.compile(r"\$\$(.{1,2000}?)\$\$|\$(?=\S)([^$\n]{0,500}?\S)\$(?!\d)", re.S)
_LIQUID = re.compile(r"\{%.{0,500}?%\}|\{\{.{0,500}?\}\}|\{[:#][^}\n]{0,200}\}", re.S)
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^\s<>]+|mailto:[^\s<>]+)>", re.I)
_BRACKET_TEXT = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"
_URL_PART = r"(<[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))*)"
_TITLE_PART = r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?"
_IMAGE = re.compile("!" + _BRACKET_TEXT + r"(?:\(\s*" + _URL_PART + _TITLE_PART + r"\s*\)|\[[^\]]*\])")
_LINK = re.compile(_BRACKET_TEXT + r"\(\s*" + _URL_PART + _TITLE_PART + r"\s*\)")
_REF_LINK = re.compile(_BRACKET_TEXT + r"\[([^\[\]]*)\]")
_SHORTCUT = re.compile(r"\[([^\[\]]+)\](?![\[(:])")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")
_HREF = re.compile(r"""<a\s[^<>]*?href\s*=\s*["']([^"']+)["']""", re.I)
_TAG = re.compile(
    r"</?(?:a|abbr|address|article|aside|audio|b|big|blockquote|br|button|canvas|caption|center|cite|code|"
    r"col|colgroup|dd|del|details|dfn|div|dl|dt|em|embed|figcaption|figure|font|footer|form|h[1-6]|header|"
    r"hr|i|iframe|img|input|ins|kbd|label|li|main|mark|nav|nobr|noscript|object|ol|option|p|param|path|"
    r"picture|q|rp|rt|ruby|s|samp|section|select|small|source|span|strike|strong|sub|summary|sup|svg|table|"
    r"tbody|td|tfoot|th|thead|time|tr|tt|u|ul|var|video|wbr)\b[^<>]*>",
    re.I,
)
_BARE_URL = re.compile(r"(?:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BOLD_STAR = re.compile(r"\*\*(?=\S)(.{1,1000}?)(?<=\S)\*\*", re.S)
_BOLD_UNDER = re.compile(r"(?<![^\W_])__(?=\S)(.{1,1000}?)(?<=\S)__(?![^\W_])", re.S)
_EM_STAR = re.compile(r"(?<!\*)\*(?=[^\s*])([^*]{1,1000}?)(?<=[^\s*])\*(?!\*)")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])([^_]{1,1000}?)(?<=[^\s_])_(?![\w_])")  # not snake_case
_STRIKE = re.compile(r"~~(?=\S)(.{1,1000}?)(?<=\S)~~", re.S)
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_ATX_CLOSE = re.compile(r"(?:^|[ \t])#+[ \t]*$")
_ALNUM = re.compile(r"[^\W_]")


def _has_alnum(text: str) -> bool:
    return _ALNUM.search(text) is not None


def _clean_url(url: str) -> str:
    url = url.strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].strip()
    return url


def _trim_bare_url(url: str) -> str:
    # Sentence punctuation and an unbalanced ")" after a bare URL are not part of it.
    while url and url[-1] in ".,;:!?'*]":
        url = url[:-1]
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def to_plain(text: str, refs: dict[str, str] | None = None, marks: bool = False) -> tuple[str, tuple[str, ...]]:
    """Inline markdown → (plain text, URLs). Keeps code text, link text, math and all unicode;
    with `marks`, code spans and bold keep their markers (knowledge.inline), as an answer shows them."""
    saved: list[str] = []
    links: list[str] = []

    def keep(value: str) -> str:
        saved.append(value)
        return f"{_PH}{len(saved) - 1}{_PH_END}"

    def add_link(url: str) -> None:
        url = _clean_url(url)
        if url and not url.startswith("#") and url not in links:
            links.append(url)

    s = text
    if "`" in s:
        def code(m: re.Match[str]) -> str:
            content = m.group(2).strip() or m.group(2)
            return keep(code_span(" ".join(content.split())) if marks else content)

        s = _CODE_SPAN.sub(code, s)
    if "\\" in s:
        s = _ESCAPE.sub(lambda m: keep(m.group(1)), s)
    if "$" in s:
        s = _MATH.sub(lambda m: keep(m.group(1) if m.group(1) is not None else m.group(2)), s)
    if "{" in s:
        s = _LIQUID.sub(" ", s)
    if "<" in s:
        if "<!--" in s:
            s = _strip_comments(s)
        s = _AUTOLINK.sub(lambda m: (add_link(m.group(1)), keep(m.group(1)))[1], s)
    if "[" in s:
        if "![" in s:
            s = _IMAGE.sub("", s)
        if "[^" in s:
            s = _FOOTNOTE_REF.sub("", s)
        if "](" in s:
            s = _LINK.sub(lambda m: (add_link(m.group(2)), m.group(1))[1], s)
        if "][" in s:
            s = _REF_LINK.sub(lambda m: _resolve_ref(m.group(1), m.group(2) or m.group(1), refs, add_link), s)
        if refs:
            s = _SHORTCUT.sub(lambda m: _resolve_ref(m.group(1), m.group(1), refs, add_link, keep_brackets=True), s)
    if "<" in s:
        for m in _HREF.finditer(s):
            add_link(m.group(1))
        s = _TAG.sub(" ", s)
    if "://" in s:
        def bare(m: re.Match[str]) -> str:
            url = _trim_bare_url(m.group(0))
            add_link(url)
            return keep(url) + m.group(0)[len(url):]

        s = _BARE_URL.sub(bare, s)
    # Kept bold markers are placeholders until the end: emphasis around bold still comes off.
    bold = (lambda m: keep("**") + m.group(1) + keep("**")) if marks else _group1
    if "*" in s:
        if "**" in s:
            s = _BOLD_STAR.sub(bold, s)
        if "*" in s:
            s = _EM_STAR.sub(_group1, s)
    if "_" in s:
        if "__" in s:
            s = _BOLD_UNDER.sub(bold, s)
        s = _EM_UNDER.sub(_group1, s)
    if "~~" in s:
        s = _STRIKE.sub(_group1, s)
    if "&" in s:
        s = html.unescape(s)
    for _ in range(3):  # saved values may hold placeholders themselves (math around an escape)
        if _PH not in s:
            break
        s = _PH_RE.sub(lambda m: saved[int(m.group(1))], s)
    if "\n" in s:
        s = _CJK_BREAK.sub("", s)  # a line break between CJK characters is not a space
    if len(links) > 1:  # document order (substitution passes found them by kind)
        links.sort(key=lambda url: (text.find(url) < 0, text.find(url)))
    return " ".join(s.split()), tuple(links)


def _group1(m: re.Match[str]) -> str:
    return m.group(1)


def _strip_comments(text: str) -> str:
    """Remove <!-- ... --> (each becomes a space) in one linear scan; an unclosed comment is left alone."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        end = text.find("-->", start + 4) if start >= 0 else -1
        if end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        out.append(" ")
        pos = end + 3


def _blank_comments(lines: list[str]) -> list[str]:
    """Lines with their <!-- ... --> comments blanked (their newlines kept, so line numbers stay
    right), except inside fenced code, where a comment is part of the listing (XML, HTML)."""
    out: list[str] = []
    fence = ""  # the open fence's marker run, "" outside code
    commented = False  # inside a comment that began on an earlier line
    last_close = max((k for k, line in enumerate(lines) if "-->" in line), default=-1)
    for k, line in enumerate(lines):
        content = line.lstrip()
        if commented:
            end = line.find("-->")
            commented = end < 0
            line = "" if commented else " " + line[end + 3:]
        elif fence:
            if content.startswith(fence) and not content.strip().strip(fence[0]):
                fence = ""
            out.append(line)
            continue
        else:
            opened = _FENCE.match(content)
            if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
                fence = opened.group(1)
                out.append(line)
                continue
        if "<!--" in line:
            start = line.find("<!--")
            end = line.find("-->", start + 4)
            if end >= 0:
                line = _strip_comments(line)
            elif k < last_close:  # it runs on to a later line (an unclosed one is left alone)
                line, commented = line[:start], True
        out.append(line)
    return out


def _resolve_ref(label: str, ref: str, refs: dict[str, str] | None, add_link: Callable[[str], None],
                 keep_brackets: bool = False) -> str:
    url = (refs or {}).get(_norm_label(ref))
    if url is None:
        return f"[{label}]" if keep_brackets else label
    add_link(url)
    return label


def _norm_label(label: str) -> str:
    return _SPACES.sub(" ", label).strip().lower()


def _indent_of(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def split_cells(line: str) -> list[str]:
    """Split a table line on unescaped pipes outside code spans; outer pipes optional."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    if "\\" not in s and "`" not in s:  # fast path, most rows
        return [c.strip() for c in s.split("|")]
    cells: list[str] = []
    buf: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch == "\\" and i + 1 < n and s[i + 1] == "|":
            buf.append("|")  # an escaped pipe is a literal pipe, also inside code
            i += 2
        elif ch == "`":
            j = i
            while j < n and s[j] == "`":
                j += 1
            ticks = s[i:j]
            close = _find_closing_ticks(s, j, len(ticks))
            if close < 0:
                buf.append(ticks)
                i = j
            else:  # kramdown: a pipe inside a code span does not split the cell
                buf.append(s[i:close + len(ticks)].replace("\\|", "|"))
                i = close + len(ticks)
        elif ch == "|":
            cells.append("".join(buf).strip())
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    cells.append("".join(buf).strip())
    return cells


def _find_closing_ticks(s: str, start: int, count: int) -> int:
    ticks = "`" * count
    pos = s.find(ticks, start)
    while pos >= 0:
        end = pos + count
        if (end >= len(s) or s[end] != "`") and s[pos - 1] != "`":
            return pos
        while end < len(s) and s[end] == "`":
            end += 1
        pos = s.find(ticks, end)
    return -1


class _Item:
    __slots__ = ("marker", "content", "text")

    def __init__(self, marker: int, content: int) -> None:
        self.marker = marker  # indent of the list marker
        self.content = content  # indent where the item's text starts
        self.text = ""  # plain text, known once the item's paragraph closes


MAX_CODE_CHARS = 4000  # a long listing is kept only in part: answers show a few lines of it


class _Parser:
    def __init__(self, body: str, first_line: int) -> None:
        self.lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if "<!--" in body:
            self.lines = _blank_comments(self.lines)
        self.offset = first_line
        self.refs = {_norm_label(m.group(1)): m.group(2) for m in _REF_DEF_ALL.finditer(body)} if "]:" in body else {}
        self.passages: list[Passage] = []
        self.links: dict[str, None] = {}
        self.shapes: list[tuple[int, int]] = []
        self.heads: list[tuple[int, str]] = []  # (level, plain text) of the open headings
        self.section: tuple[str, ...] = ()
        self.sec = 0
        self.block = 0
        self.items: list[_Item] = []  # open list items, outermost first
        self.para: list[str] = []
        self.para_line = 0
        self.para_kind = ""  # "paragraph" | "item" | "quote"
        self.para_context = ""

    # ------------------------------------------------------------ emitting
    def _add(self, kind: str, text: str, links: tuple[str, ...], line: int, **extra: Any) -> None:
        for url in links:
            self.links.setdefault(url, None)
        self.passages.append(Passage(kind=kind, text=text, section=self.section, links=links,
                                     line=line + self.offset, **extra))

    def close_para(self) -> None:
        if not self.para:
            return
        if self.para_kind == "paragraph" and not self.items and len(self.para) == 1:
            bold = _BOLD_LINE.match(self.para[0].strip())
            if bold:
                self.para = []
                self.heading(BOLD_HEADING_LEVEL, bold.group("text").strip().rstrip(":：").strip(), self.para_line)
                return
        plain, links = to_plain("\n".join(self.para), self.refs, marks=True)
        kind = "item" if self.para_kind == "item" else "paragraph"
        if kind == "item" and self.items:
            self.items[-1].text = plain
        self.para = []
        if not _has_alnum(plain):
            return  # decoration only (an image, a tag, a rule): no passage, no ordinal
        text = plain
        if self.para_context:
            sep = " " if self.para_context[-1] in ":.!?;：。！？" else ": "
            text = self.para_context + sep + plain
        self._add(kind, text, links, self.para_line, position=(self.sec, self.block, 0))
        self.block += 1

    def open_para(self, kind: str, text: str, i: int, context: str = "") -> None:
        self.close_para()
        self.para = [text]
        self.para_kind = kind
        self.para_line = i
        self.para_context = context

    def heading(self, level: int, raw: str, i: int) -> None:
        self.close_para()
        self.items = []
        plain, links = to_plain(raw, self.refs)
        while self.heads and self.heads[-1][0] >= level:
            self.heads.pop()
        self.section = tuple(t for _, t in self.heads if t)
        self.sec += 1
        self.block = 0
        if _has_alnum(plain):
            self._add("heading", plain, links, i, position=(self.sec, 0, 0))
        self.heads.append((level, plain))
        self.section = tuple(t for _, t in self.heads if t)

    def code(self, fence_line: int, end: int, info: str) -> None:
        """Keep a fenced block's text as a "code" passage: it never answers alone, but it is
        often where a note's commands are, and the answer layer shows its matching lines
        (fenced with the language the note named, `info`'s first word)."""
        body = self.lines[fence_line + 1 : end]
        if body and body[-1].strip().startswith(("```", "~~~")):
            body = body[:-1]
        text = textwrap.dedent("\n".join(line.rstrip() for line in body)).strip("\n")
        if text.strip() and _has_alnum(text):
            language = _FENCE_LANGUAGE.match(info.strip())
            self._add("code", text[:MAX_CODE_CHARS], (), fence_line + 1, position=(self.sec, self.block, 0),
                      fence=language.group() if language else "")
            self.block += 1

    # ------------------------------------------------------------ block scanners
    def skip_fence(self, i: int, fence: str) -> int:
        char, size = fence[0], len(fence)
        for j in range(i + 1, len(self.lines)):
            s = self.lines[j].strip()
            if s.startswith(char * size) and not s.strip(char):
                return j + 1
        return len(self.lines)  # an unclosed fence runs to the end, as in CommonMark

    def skip_until(self, i: int, needle: re.Pattern[str]) -> int:
        for j in range(i, len(self.lines)):
            if needle.search(self.lines[j]):
                return j + 1
        return len(self.lines)

    def table(self, i: int) -> int:
        header_raw = split_cells(self.lines[i])
        header_plain = [to_plain(c, self.refs) for c in header_raw]
        header = tuple(p for p, _ in header_plain)
        for _, links in header_plain:
            for url in links:
                self.links.setdefault(url, None)
        j = i + 2
        rows = 0
        while j < len(self.lines):
            line = self.lines[j]
            if "|" not in line or not line.strip() or _FENCE.match(line.lstrip()):
                break
            rows += 1
            self.row(split_cells(line), header, rows, j)
            j += 1
        self.shapes.append((len(header), rows))
        self.block += 1
        return j

    def row(self, raw_cells: list[str], header: tuple[str, ...], ordinal: int, j: int) -> None:
        if len(raw_cells) < len(header):
            raw_cells = raw_cells + [""] * (len(header) - len(raw_cells))
        cells: list[str] = []
        links: list[str] = []
        for raw in raw_cells:
            plain, found = to_plain(raw, self.refs, marks=True)  # a cell is shown as the note wrote it
            cells.append(plain)
            links.extend(u for u in found if u not in links)
        parts = []
        for k, cell in enumerate(cells):
            if not cell:
                continue
            name = header[k] if k < len(header) else ""
            parts.append(f"{name}: {cell}" if name else cell)
        text = "; ".join(parts)
        if _has_alnum(text):
            self._add("row", text, tuple(links), j, position=(self.sec, self.block, ordinal),
                      cells=tuple(cells), header=header)

    def is_table_start(self, i: int) -> bool:
        if i + 1 >= len(self.lines):
            return False
        nxt = self.lines[i + 1]
        if "|" not in nxt or "-" not in nxt or not _DELIM_ROW.match(nxt.strip()):
            return False
        return len(split_cells(self.lines[i])) == len(split_cells(nxt))

    # ------------------------------------------------------------ main loop
    def run(self) -> ParsedBody:
        lines = self.lines
        n = len(lines)
        i = 0
        blank_before = True
        while i < n:
            line = lines[i]
            content = line.lstrip()
            if not content:
                self.close_para()
                blank_before = True
                i += 1
                continue
            indent = _indent_of(line) if line[0] in " \t" else 0
            first = content[0]
            was_blank, blank_before = blank_before, False
            in_list = bool(self.items)

            if first in "`~" and (indent <= 3 or in_list):
                m = _FENCE.match(content)
                if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                    self.close_para()
                    end = self.skip_fence(i, m.group(1))
                    self.code(i, end, m.group(2))
                    i = end
                    continue
            if indent >= 4 and not self.para and (not in_list or indent >= self.items[-1].content + 4):
                if was_blank or not in_list:  # indented code: skip it and its blank lines
                    self.close_para()
                    need = (self.items[-1].content if in_list else 0) + 4
                    while i < n and (not lines[i].strip() or _indent_of(lines[i]) >= need):
                        i += 1
                    blank_before = True
                    continue
            if first == "<" and _RAW_BLOCK.match(content):
                self.close_para()
                tag = _RAW_BLOCK.match(content).group(1)
                i = self.skip_until(i, re.compile(f"</{tag}\\s*>", re.I))
                continue
            if first == "{" and content.startswith("{%"):
                m = _LIQUID_BLOCK.match(content)
                if m and m.group(1) != "raw":  # highlight = a code block, comment = hidden
                    self.close_para()
                    i = self.skip_until(i + 1, re.compile(r"\{%-?\s*end" + m.group(1) + r"\b"))
                    continue
            if indent <= 3:
                if first == "#":
                    m = _ATX.match(content)
                    if m:
                        raw = _ATX_CLOSE.sub("", content[m.end():].rstrip())  # "## Title ##"
                        self.heading(len(m.group(1)), raw, i)
                        i += 1
                        continue
                if first in "=-" and self.para and self.para_kind == "paragraph" and _SETEXT.match(content):
                    raw, start = "\n".join(self.para), self.para_line
                    self.para = []
                    self.heading(1 if first == "=" else 2, raw, start)
                    i += 1
                    continue
                if first in "-*_" and _HR.match(content):
                    self.close_para()
                    self.items = []
                    i += 1
                    continue
            if "|" in line and self.is_table_start(i):
                self.close_para()
                if indent == 0:
                    self.items = []
                i = self.table(i)
                blank_before = True
                continue
            if first == ">" and indent <= 3:
                inner = content[_QUOTE_MARKS.match(content).end():].strip()
                marker = _QUOTE_INNER_MARKER.match(inner)
                if marker:
                    inner = inner[marker.end():]
                if not inner:
                    self.close_para()
                elif self.para and self.para_kind == "quote" and not marker:
                    self.para.append(inner)
                else:
                    self.open_para("quote", inner, i)
                i += 1
                continue
            m = _LIST.match(content)
            if m and self.starts_item(m, content, indent):
                self.item(m, content, indent, i)
                i += 1
                continue
            if first == "[" and not self.para:
                if _REF_DEF.match(content):
                    i += 1
                    continue
                fm = _FOOTNOTE_DEF.match(content)
                if fm:
                    self.open_para("paragraph", content[fm.end():], i)
                    i += 1
                    continue
            if self.para:  # lazy continuation of the open paragraph or item
                self.para.append(content)
            else:
                self.continuation(indent, i, content)
            i += 1
        self.close_para()
        return ParsedBody(tuple(self.passages), tuple(self.links), tuple(self.shapes))

    def starts_item(self, m: re.Match[str], content: str, indent: int) -> bool:
        if not self.para or self.para_kind != "paragraph" or self.items:
            return True
        # CommonMark: inside a plain paragraph only "1." or a non-empty bullet starts a list
        rest = content[m.end():].strip()
        if m.group(2) is not None:
            return int(m.group(2)) == 1 and bool(rest)
        return bool(rest)

    def item(self, m: re.Match[str], content: str, indent: int, i: int) -> None:
        self.close_para()
        gap = len(m.group(3).expandtabs(4)) if m.group(3) else 1
        content_indent = indent + len(m.group(1)) + (gap if 1 <= gap <= 4 else 1)
        while self.items and indent < self.items[-1].content:
            self.items.pop()
        parent = self.items[-1].text if self.items else ""
        self.items.append(_Item(indent, content_indent))
        text = content[m.end():]
        task = _TASK.match(text)
        if task:
            text = text[task.end():]
        context = parent if parent and len(parent) <= SHORT_PARENT else ""
        self.open_para("item", text, i, context)

    def continuation(self, indent: int, i: int, content: str) -> None:
        # A new paragraph after a blank line (or after a fence/table): it stays inside the
        # deepest list item it is indented under, otherwise the list is over.
        while self.items and indent < self.items[-1].content:
            self.items.pop()
        self.open_para("paragraph", content, i)


def parse_body(body: str, first_line: int = 1) -> ParsedBody:
    """Split a markdown body into passages; `first_line` is the file line of the body's first line."""
    return _Parser(body, first_line).run()
