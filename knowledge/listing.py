"""A few lines of a code block, never cut inside a construct.

An answer shows the line of a listing that holds what was asked and the whole construct around it:
a statement whose brackets span lines, an element whose tags do, a block's header with its body
(braces or indentation). A construct too long to show whole keeps its first line and its closing
lines, with "…" for the body lines left out. Language-neutral: brackets, XML tags and indentation
are what most listings share.
"""
from __future__ import annotations

import re
import textwrap

ELLIPSIS = "…"
_STRING = re.compile(r""""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\\n])*'""")
_LINE_COMMENT = re.compile(r"(?:^|\s)(?://|#|--)\s.*$")
_OPEN_TAG = re.compile(r"<[A-Za-z][\w:.-]*(?:\s[^<>]*)?(?<!/)>")
_CLOSE_TAG = re.compile(r"</[A-Za-z][\w:.-]*\s*>")
_UNCLOSED_TAG = re.compile(r"\s*<[A-Za-z][\w:.-]*(?:\s[^<>]*)?$")  # a tag's attributes go on on the next lines
_OPENERS, _CLOSERS = "([{", ")]}"
_EXPRESSION = "(["  # a line inside these continues one statement; inside braces or tags, lines are statements


def excerpt_lines(lines: list[str], best: int, limit: int, shown: int) -> list[str]:
    """Lines of `lines` (a listing without blank lines) holding line `best`: the whole construct
    around it, then the constructs after it while fewer than `shown` lines are taken, all within
    `limit` characters when it can be; dedented."""
    marks = _all_brackets(lines)
    start = _owner(lines, marks, best)
    end = _construct_end(lines, marks, start, len(lines))
    if _size(lines[start:end]) > limit:
        return _dedent(_elided(lines, marks, start, end, best, limit))
    while end - start < shown and end < len(lines) and _continues(lines, marks, start, end):
        later = _construct_end(lines, marks, end, len(lines))
        if _size(lines[start:later]) > limit:
            break
        end = later
    return _dedent(lines[start:end])


def _all_brackets(lines: list[str]) -> list[list[str]]:
    """The brackets of each line; a tag whose attributes run over lines ("<ag-grid-angular" … ">")
    is a bracket from its "<" to its ">", then an element opened there unless it ends "/>"."""
    out: list[list[str]] = []
    in_tag = False
    for line in lines:
        marks = _brackets(line)
        end = _STRING.sub('""', line).find(">") if in_tag else -1
        if end >= 0:
            in_tag = False
            element = [] if line[:end].endswith("/") else ["<"]
            marks = [*_brackets(line[:end]), ")", *element, *_brackets(line[end + 1:])]
        elif _UNCLOSED_TAG.match(line):
            in_tag = True
            marks.append("(")
        out.append(marks)
    return out


def _brackets(line: str) -> list[str]:
    """The brackets of a line in order, outside strings and comments; an XML tag counts as one
    ("<" opens, "/" closes) on a line that starts with a tag (not Java's List<String>)."""
    code = _LINE_COMMENT.sub("", _STRING.sub('""', line))
    marks = [ch for ch in code if ch in _OPENERS or ch in _CLOSERS]
    if code.lstrip().startswith("<") and not code.lstrip().startswith(("<!", "<?")):
        tags = sorted([(m.start(), "<") for m in _OPEN_TAG.finditer(code)]
                      + [(m.start(), "/") for m in _CLOSE_TAG.finditer(code)])
        marks += [mark for _, mark in tags]
    return marks


def _opens(mark: str) -> bool:
    return mark in _OPENERS or mark == "<"


def _owner(lines: list[str], marks: list[list[str]], best: int) -> int:
    """The line where the smallest whole construct holding line `best` starts: the line itself,
    or the line that opened the expression it continues, or the group a closing line ends."""
    stack: list[tuple[str, int]] = []  # open brackets: (bracket, line)
    for i in range(best):
        _apply(stack, marks[i], i)
    expression = None
    for bracket, line in stack:  # the outermost expression inside the innermost block
        if bracket in _EXPRESSION and expression is None:
            expression = line
        elif bracket not in _EXPRESSION:
            expression = None
    if marks[best] and not _opens(marks[best][0]) and stack:
        return min(stack[-1][1], expression if expression is not None else best)  # "}" ends what opened it
    return expression if expression is not None else best


def _apply(stack: list[tuple[str, int]], marks: list[str], line: int) -> None:
    for mark in marks:
        if _opens(mark):
            stack.append((mark, line))
        elif stack:
            stack.pop()


def _construct_end(lines: list[str], marks: list[list[str]], start: int, stop: int) -> int:
    """Where the construct starting at `start` ends (exclusive, at most `stop`): when its brackets
    are closed and no deeper-indented body follows."""
    depth, j = 0, start
    while j < stop:
        for mark in marks[j]:
            depth += 1 if _opens(mark) else -1
        j += 1
        if depth > 0:
            continue
        if depth < 0 or j >= stop or _indent(lines[j]) <= _indent(lines[start]) or _closes(marks[j]):
            break
    return j


def _closes(marks: list[str]) -> bool:
    return bool(marks) and not _opens(marks[0])


def _continues(lines: list[str], marks: list[list[str]], start: int, end: int) -> bool:
    """True when the line at `end` starts a sibling of the construct at `start` (same block)."""
    return _indent(lines[end]) >= _indent(lines[start]) and not _closes(marks[end])


def _elided(lines: list[str], marks: list[list[str]], start: int, end: int, best: int, limit: int) -> list[str]:
    """A construct too long to show: its first line, the body's constructs from the one holding
    `best` (or the first) while they fit, "…" for those left out, and its closing lines."""
    tail = end
    while tail - 1 > start and _closes(marks[tail - 1]) and _indent(lines[tail - 1]) <= _indent(lines[start]):
        tail -= 1
    children, at = [], start + 1
    while at < tail:
        later = _construct_end(lines, marks, at, tail)
        children.append((at, max(later, at + 1)))
        at = max(later, at + 1)
    first = next((k for k, (a, b) in enumerate(children) if a <= best < b), 0)
    body: list[str] = []
    taken = first
    for a, b in children[first:]:
        if body and _size([lines[start], *body, *lines[a:b], *lines[tail:end]]) + 2 > limit:
            break
        body += lines[a:b]
        taken += 1
    pad = " " * _indent(lines[children[0][0]]) if children else " " * (_indent(lines[start]) + 4)
    gap = [pad + ELLIPSIS]
    return [lines[start], *(gap if first > 0 else []), *body, *(gap if taken < len(children) else []),
            *lines[tail:end]]


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _dedent(lines: list[str]) -> list[str]:
    return textwrap.dedent("\n".join(line.expandtabs(4) for line in lines)).split("\n")
