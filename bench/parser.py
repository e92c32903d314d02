"""Hand-written parser (knowledge.markdown) against markdown-it-py, measured in one process.

    .venv/bin/python -m bench.parser [--corpus DIR] [--limit N] [--repeats 3] [--examples 15]

Needs `pip install markdown-it-py` (not a dependency of the project). Times, on the same
note bodies (front matter split off by knowledge.notes), (a) `parse_body`, (b) markdown-it-py's
token stream alone and (c) markdown-it-py tokens + `mdit_passages`, a prototype conversion into
the same `Passage`s (headings with section path, paragraphs, items with their short parent,
table rows with header, fenced code, 1-based source line). Parsers are interleaved per note,
in rotating order, so machine load hits all three alike; per-note medians of the repeats.
Then compares the passages of (a) and (c) on the real blog corpus (always), and checks what
each keeps of inline code, bold and a fence's language.
"""
from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import textwrap
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from knowledge.markdown import _BOLD_LINE, _CJK_BREAK, BOLD_HEADING_LEVEL, MAX_CODE_CHARS, SHORT_PARENT, parse_body
from knowledge.model import Passage
from knowledge.notes import _split_front_matter

BLOG = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "blog"
EXTRAPOLATE_TO = 45_000
_ALNUM = re.compile(r"[^\W_]")

MD = MarkdownIt("commonmark").enable("table")


# ------------------------------------------------------------------ (c) tokens → passages
def inline_text(tok: Any, links: list[str], discord: bool = False) -> str:
    """Children of an `inline` token → plain text (or Discord markdown: `code`, **bold**, *em*)."""
    out: list[str] = []
    skip = 0  # inside an image: its alt text is not passage text (as in the hand-written parser)
    for c in tok.children or ():
        t = c.type
        if t == "image":
            continue
        if skip:
            continue
        if t == "text":
            out.append(c.content)
        elif t == "code_inline":
            out.append(f"`{c.content}`" if discord else c.content)
        elif t in ("softbreak", "hardbreak"):
            out.append("\n")
        elif t == "link_open":
            href = c.attrs.get("href", "")
            if href and not href.startswith("#") and href not in links:
                links.append(href)
        elif discord and t in ("strong_open", "strong_close"):
            out.append("**")
        elif discord and t in ("em_open", "em_close"):
            out.append("*")
        elif t == "html_inline":
            out.append(" ")
    s = "".join(out)
    if "\n" in s:
        s = _CJK_BREAK.sub("", s)
    return " ".join(s.split())


def mdit_passages(body: str, first_line: int = 1, tokens: list[Any] | None = None,
                  langs: list[str] | None = None) -> list[Passage]:
    """markdown-it-py tokens → the same passages as knowledge.markdown.parse_body (prototype)."""
    toks = MD.parse(body) if tokens is None else tokens
    out: list[Passage] = []
    heads: list[tuple[int, str]] = []
    section: tuple[str, ...] = ()
    sec = block = 0
    items: list[str] = []  # text of the open list items (first paragraph), outermost first
    item_first: list[bool] = []  # next paragraph of this item is its first
    quote = 0
    table: dict[str, Any] | None = None
    n = len(toks)
    i = 0
    while i < n:
        tok = toks[i]
        t = tok.type
        if t == "heading_open":
            level = int(tok.tag[1])
            links: list[str] = []
            text = inline_text(toks[i + 1], links)
            line = tok.map[0] + first_line
            i += 3
            sec, block = _heading(out, heads, level, text, tuple(links), line, sec)
            section = tuple(h for _, h in heads if h)
            continue
        if t == "paragraph_open":
            inl = toks[i + 1]
            line = tok.map[0] + first_line
            i += 3
            in_item = bool(items) and item_first[-1]
            if not items and not quote and "\n" not in inl.content:
                bold = _BOLD_LINE.match(inl.content.strip())
                if bold:  # one short bold line: a heading in all but syntax (as parse_body)
                    sec, block = _heading(out, heads, BOLD_HEADING_LEVEL,
                                          bold.group("text").strip().rstrip(":：").strip(), (), line, sec)
                    section = tuple(h for _, h in heads if h)
                    continue
            links = []
            text = inline_text(inl, links)
            kind = "paragraph"
            if in_item:
                kind = "item"
                item_first[-1] = False
                items[-1] = text
                parent = items[-2] if len(items) > 1 else ""
                if parent and len(parent) <= SHORT_PARENT and not quote:
                    text = parent + (" " if parent[-1] in ":.!?;：。！？" else ": ") + text
            if _ALNUM.search(text):
                out.append(Passage(kind, text, section, (sec, block, 0), links=tuple(links), line=line))
                block += 1
            continue
        if t == "list_item_open":
            items.append("")
            item_first.append(True)
        elif t == "list_item_close":
            items.pop()
            item_first.pop()
        elif t == "blockquote_open":
            quote += 1
        elif t == "blockquote_close":
            quote -= 1
        elif t == "fence":
            if items:
                item_first[-1] = False
            text = textwrap.dedent("\n".join(x.rstrip() for x in tok.content.split("\n"))).strip("\n")
            if text.strip() and _ALNUM.search(text):
                out.append(Passage("code", text[:MAX_CODE_CHARS], section, (sec, block, 0),
                                   line=tok.map[0] + 1 + first_line))
                if langs is not None:
                    langs.append(tok.info.strip().split(" ")[0] if tok.info else "")
                block += 1
        elif t == "table_open":
            table = {"header": [], "links": [], "row": None, "ordinal": 0, "in_head": False}
        elif t == "thead_open":
            table["in_head"] = True
        elif t == "thead_close":
            table["in_head"] = False
        elif t == "tr_open":
            table["row"] = []
            table["row_links"] = []
            table["line"] = tok.map[0] + first_line
        elif t == "inline" and table is not None:
            cell = inline_text(tok, table["row_links"])
            table["row"].append(cell)
        elif t == "tr_close":
            if table["in_head"]:
                table["header"] = table["row"]
            else:
                table["ordinal"] += 1
                header = tuple(table["header"])
                cells = tuple(table["row"])
                text = "; ".join(f"{header[k]}: {c}" if k < len(header) and header[k] else c
                                 for k, c in enumerate(cells) if c)
                if _ALNUM.search(text):
                    out.append(Passage("row", text, section, (sec, block, table["ordinal"]), cells, header,
                                       tuple(table["row_links"]), table["line"]))
        elif t == "table_close":
            table = None
            block += 1
        i += 1
    return out


def _heading(out: list[Passage], heads: list[tuple[int, str]], level: int, text: str,
             links: tuple[str, ...], line: int, sec: int) -> tuple[int, int]:
    while heads and heads[-1][0] >= level:
        heads.pop()
    sec += 1
    if _ALNUM.search(text):
        out.append(Passage("heading", text, tuple(h for _, h in heads if h), (sec, 0, 0), links=links, line=line))
    heads.append((level, text))
    return sec, 0


# ------------------------------------------------------------------ corpus
def load_bodies(folder: Path, limit: int | None, seed: int = 0) -> list[tuple[str, str, int]]:
    paths = sorted(folder.rglob("*.md"))
    if limit and len(paths) > limit:
        paths = sorted(random.Random(seed).sample(paths, limit))
    out = []
    for p in paths:
        text = p.read_text("utf-8").replace("\r\n", "\n")
        try:
            _, body, line = _split_front_matter(text)
        except Exception:  # a note the loader would skip
            continue
        if body.strip():
            out.append((str(p.relative_to(folder)), body, line))
    return out


def count_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.md"))


# ------------------------------------------------------------------ timing
PARSERS = {
    "a hand-written parse_body": lambda body, line: parse_body(body, line),
    "b markdown-it tokens only": lambda body, line: MD.parse(body),
    "c markdown-it + passages": lambda body, line: mdit_passages(body, line),
}


def time_corpus(bodies: list[tuple[str, str, int]], repeats: int) -> dict[str, Any]:
    names = list(PARSERS)
    per_note: dict[str, list[list[float]]] = {n: [[] for _ in bodies] for n in names}
    totals: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # warm-up: compile regexes, build markdown-it caches
        for _, body, line in bodies[:20]:
            PARSERS[name](body, line)
    clock = time.perf_counter
    for r in range(repeats):
        gc.collect()
        run = {n: 0.0 for n in names}
        for k, (_, body, line) in enumerate(bodies):
            shift = (k + r) % 3
            for name in names[shift:] + names[:shift]:
                fn = PARSERS[name]
                t0 = clock()
                fn(body, line)
                dt = clock() - t0
                per_note[name][k].append(dt)
                run[name] += dt
        for n in names:
            totals[n].append(run[n])
    result = {}
    for n in names:
        med_per_note = [statistics.median(x) for x in per_note[n]]
        result[n] = {"note_median_ms": statistics.median(med_per_note) * 1e3,
                     "note_p90_ms": sorted(med_per_note)[int(0.9 * (len(med_per_note) - 1))] * 1e3,
                     "total_s": statistics.median(totals[n]), "ratios": med_per_note}
    base = result[names[0]]["ratios"]
    for n in names:
        ratios = [x / b for x, b in zip(result[n]["ratios"], base) if b > 0]
        result[n]["note_ratio_median"] = statistics.median(ratios)
        result[n]["total_ratio"] = result[n]["total_s"] / result[names[0]]["total_s"]
    return result


def print_timing(label: str, bodies: list[tuple[str, str, int]], res: dict[str, Any], repeats: int,
                 corpus_files: int) -> None:
    chars = sum(len(b) for _, b, _ in bodies)
    print(f"\n## Timing: {label}: {len(bodies)} bodies of {corpus_files} files, {chars / len(bodies):.0f} chars "
          f"avg, median of {repeats} repeats")
    print(f"| parser | per-note median ms | p90 ms | corpus total s | per-note ratio | total ratio | "
          f"{EXTRAPOLATE_TO:,} notes s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, r in res.items():
        extra = r["total_s"] * EXTRAPOLATE_TO / len(bodies)
        print(f"| {n} | {r['note_median_ms']:.3f} | {r['note_p90_ms']:.3f} | {r['total_s']:.2f} | "
              f"{r['note_ratio_median']:.2f}x | {r['total_ratio']:.2f}x | {extra:.0f} |")


# ------------------------------------------------------------------ passage comparison
def compare(bodies: list[tuple[str, str, int]], examples: int) -> None:
    kinds_a: Counter[str] = Counter()
    kinds_c: Counter[str] = Counter()
    same_text = total_a = total_c = line_diff = same_notes = 0
    diffs: dict[str, list[str]] = defaultdict(list)
    for rel, body, line in bodies:
        a = list(parse_body(body, line).passages)
        c = mdit_passages(body, line)
        kinds_a.update(p.kind for p in a)
        kinds_c.update(p.kind for p in c)
        total_a += len(a)
        total_c += len(c)
        ca = Counter((p.kind, p.text) for p in a)
        cc = Counter((p.kind, p.text) for p in c)
        same_text += sum((ca & cc).values())
        if [(p.kind, p.text, p.section, p.line) for p in a] == [(p.kind, p.text, p.section, p.line) for p in c]:
            same_notes += 1
        lines_c = defaultdict(list)
        for p in c:
            lines_c[(p.kind, p.text)].append(p.line)
        for p in a:
            if (p.kind, p.text) in lines_c and p.line not in lines_c[(p.kind, p.text)]:
                line_diff += 1
        by_line_c = {p.line: p for p in c}
        by_line_a = {p.line: p for p in a}
        for p in a:
            if cc[(p.kind, p.text)] == 0:
                q = by_line_c.get(p.line)
                if q is None:
                    diffs[f"a-only {p.kind}"].append(
                        f"{rel}:{p.line} a={p.kind} {p.text[:90]!r} | c=(none at this line)")
                    continue
                k = next((j for j, (x, y) in enumerate(zip(p.text, q.text)) if x != y), min(len(p.text), len(q.text)))
                w = slice(max(0, k - 30), k + 50)
                diffs[f"differ {p.kind}"].append(f"{rel}:{p.line} a={p.text[w]!r} | c={q.kind} {q.text[w]!r}")
        for p in c:
            if ca[(p.kind, p.text)] == 0 and p.line not in by_line_a:
                diffs[f"c-only {p.kind}"].append(f"{rel}:{p.line} c={p.kind} {p.text[:90]!r} | a=(none at this line)")
    print(f"\n## Passages on {len(bodies)} notes: (a) hand-written vs (c) markdown-it prototype")
    print("| kind | a | c |\n|---|---:|---:|")
    for k in ("heading", "paragraph", "item", "row", "code"):
        print(f"| {k} | {kinds_a[k]} | {kinds_c[k]} |")
    print(f"| total | {total_a} | {total_c} |")
    print(f"identical (kind, text): {same_text} = {same_text / total_a:.1%} of a, {same_text / total_c:.1%} of c; "
          f"notes with identical passage lists (kind, text, section, line): {same_notes}/{len(bodies)}; "
          f"same text at another line: {line_diff}")
    print("unmatched per category: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(diffs.items())))
    rng = random.Random(1)
    cats = sorted(diffs)
    picked = 0
    while picked < examples and any(diffs[k] for k in cats):
        for k in cats:
            if diffs[k] and picked < examples:
                v = diffs[k].pop(rng.randrange(len(diffs[k])))
                print(f"  [{k}] {v}")
                picked += 1


def markup_check(bodies: list[tuple[str, str, int]]) -> None:
    """What survives of inline code, bold and fence languages, per parser."""
    code_spans = bold = fences_lang = 0
    a_ticks = a_bold = 0
    c_discord_ticks = c_discord_bold = 0
    c_langs: list[str] = []
    for _, body, line in bodies:
        toks = MD.parse(body)
        for t in toks:
            if t.type == "fence" and t.info.strip():
                fences_lang += 1
            if t.type == "inline":
                for ch in t.children or ():
                    code_spans += ch.type == "code_inline"
                    bold += ch.type == "strong_open"
                links: list[str] = []
                s = inline_text(t, links, discord=True)
                c_discord_ticks += s.count("`") // 2
                c_discord_bold += s.count("**") // 2
        mdit_passages(body, line, toks, c_langs)
        for p in parse_body(body, line).passages:
            if p.kind != "code":
                a_ticks += p.text.count("`") // 2
                a_bold += p.text.count("**") // 2
    print("\n## Markup kept (blog corpus)")
    print(f"source (markdown-it count): {code_spans} inline code spans, {bold} bold spans, "
          f"{fences_lang} fences with a language")
    print(f"(a) hand-written passages: {a_ticks} backtick pairs, {a_bold} ** pairs left in text; "
          f"Passage has no language field, the fence info line is dropped")
    print(f"(c) markdown-it: token.info gives {sum(1 for x in c_langs if x)} languages for code passages; "
          f"Discord rendering of inline tokens (inline_text(discord=True)): {c_discord_ticks} code spans, "
          f"{c_discord_bold} bold spans kept")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None, help="generated corpus to time (default: blog only)")
    ap.add_argument("--limit", type=int, default=2000, help="random sample of the corpus (0 = all)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--examples", type=int, default=15)
    args = ap.parse_args()
    import markdown_it
    print(f"markdown-it-py {markdown_it.__version__}; MarkdownIt('commonmark').enable('table')")
    blog = load_bodies(BLOG, None)
    res = time_corpus(blog, args.repeats)
    print_timing(f"blog {BLOG}", blog, res, args.repeats, count_files(BLOG))
    if args.corpus:
        bodies = load_bodies(args.corpus, args.limit or None)
        res = time_corpus(bodies, args.repeats)
        print_timing(f"{args.corpus}", bodies, res, args.repeats, count_files(args.corpus))
    compare(blog, args.examples)
    markup_check(blog)


if __name__ == "__main__":
    main()
