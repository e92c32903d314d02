"""Distractor corpus for the benchmarks: thousands of plausible notes made from the real blog.

    .venv/bin/python -m bench.generate --size 10k [--out DIR] [--force]

Every generated note starts from a real note (its translations come from that note's
translations, so a generated group has the same languages) and is then remixed inside its
language: a new slug and title, paragraphs and sentences taken from other notes, table rows
swapped between tables with as many columns, words replaced by words of other notes, links
made the group's own. The layout is the blog's: `notes/<slug>-en.md` and
`_posts/<lang>/<slug>-<lang>.md`, translations grouped by file name. No generated body equals
a real one (checked) nor, in practice, another (each is drawn anew), so the index cannot
deduplicate its way out.

Why rare words are almost always replaced: 10k notes made from 228 must reuse every real
sentence about 40 times. Were its distinctive words kept ("getmac", "Redmi Buds 3",
"0308010C"), each dev question would have dozens of right answers under other names, and
the found rate would measure the generator. So a word used by few notes of its language is
replaced (SWAP_RARE) by another such word, and a common word sometimes (SWAP_COMMON) by a
common word drawn by occurrence: distractors keep the blog's style, its vocabulary and its
word frequencies, but not its facts.

Written once to `$TMPDIR/notes-bench/<size>/` (`corpus/` + `questions.yaml`) and reused while
the stamp (generator version, seed, size) matches. Group i is seeded by (seed, i) alone, so the
1k corpus is the first groups of the 10k one. `questions.yaml` holds questions cut from random
generated titles and passages, some with a typo, in the dev questions' schema.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GENERATOR_VERSION = 4
SWAP_RARE = 0.95  # a word in few notes of its language: the fact a question would look for
SWAP_COMMON = 0.3  # a word in many: style, kept mostly
COMMON_SHARE = 0.05  # common = in at least this share of the language's notes (and 3 of them)
SEED = 20250227
REAL_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "blog"  # ../shared beside the checkout
QUESTIONS_PER_SIZE = 300

_LANG_SUFFIX = re.compile(r"-(en|zh|ja|es|fr|de|hi|ar|hant|pt|it|ru|ko|cn|tw)$")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")  # "python.org" is not an end
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
_WORD = re.compile(r"(?<![\w'’-])\w[\w'’-]+")  # numbers and codes too ("0308010C", "v3")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2,}")  # no spaces: swapped by pairs
_URL = re.compile(r"https?://[^\s)\]>\"']+")
_MARKUP = re.compile(r"[*_`#>|\[\]()]+|https?://\S+")
CJK_LANGS = frozenset({"zh", "zh-hant", "ja", "ko"})


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "text" | "table" | "code"
    text: str


@dataclass(frozen=True)
class RealNote:
    lang: str
    title: str
    front: tuple[str, ...]  # front matter lines without the title line
    blocks: tuple[Block, ...]
    body: str


@dataclass(frozen=True)
class RealGroup:
    key: str
    dated: bool
    notes: dict[str, RealNote]  # lang → note


@dataclass(frozen=True)
class Vocabulary:
    """One kind of token of one language (words, CJK character pairs or code names)."""

    common_set: frozenset[str]  # casefolded
    common: tuple[str, ...]  # every occurrence of a common token: draws keep its frequency
    rare: tuple[str, ...]  # each rare token once

    @classmethod
    def of(cls, per_note: list[list[str]]) -> Vocabulary:
        notes_with = Counter(token.casefold() for tokens in per_note for token in set(tokens))
        floor = max(3.0, COMMON_SHARE * len(per_note))
        common_set = frozenset(t for t, n in notes_with.items() if n >= floor)
        occurrences = [t for tokens in per_note for t in tokens]
        common = tuple(t for t in occurrences if t.casefold() in common_set)
        rare = tuple(sorted({t for t in occurrences if t.casefold() not in common_set}))
        return cls(common_set, common, rare)

    def swap(self, token: str, rng: random.Random) -> str:
        if token.casefold() in self.common_set:
            return rng.choice(self.common) if rng.random() < SWAP_COMMON else token
        return rng.choice(self.rare) if self.rare and rng.random() < SWAP_RARE else token


EMPTY = Vocabulary(frozenset(), (), ())


@dataclass
class Pools:
    """What a language's notes offer for remixing."""

    headings: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    rows: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))  # columns → rows
    code: list[str] = field(default_factory=list)
    words: Vocabulary = EMPTY  # words of scripts written with spaces
    cjk: Vocabulary = EMPTY  # two-character runs of CJK text
    names: Vocabulary = EMPTY  # words written in code blocks


@dataclass(frozen=True)
class GeneratedNote:
    rel_path: str
    lang: str
    title: str
    body: str  # markdown after the front matter
    text: str  # the whole file


@dataclass(frozen=True)
class Corpus:
    root: Path  # holds notes/ and _posts/
    questions: Path
    files: int


# ------------------------------------------------------------------ reading the real corpus
def parse_size(text: str) -> int:
    """"1k" → 1000, "50k" → 50000, "0" or "real" → 0 (the real corpus alone)."""
    text = text.strip().lower()
    if text in ("0", "real"):
        return 0
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def size_label(files: int) -> str:
    if files == 0:
        return "real"
    return f"{files // 1000}k" if files % 1000 == 0 else str(files)


def note_lang(rel: Path) -> str:
    return rel.parts[1] if rel.parts[0] == "_posts" and len(rel.parts) > 2 else "en"


def split_blocks(body: str) -> list[Block]:
    """Blank-line separated blocks; a fenced code block is a block of its own, blank lines and all."""
    blocks: list[Block] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        if lines:
            blocks.append(classify("\n".join(lines)))
            lines.clear()

    for line in body.splitlines():
        fence = line.lstrip().startswith("```")
        if fence and not fenced:
            flush()  # text right above a fence stays text
        if fence:
            fenced = not fenced
        if not line.strip() and not fenced:
            flush()
        else:
            lines.append(line)
        if fence and not fenced:
            flush()  # the closing fence ends the code block
    flush()
    return blocks


def classify(text: str) -> Block:
    lines = text.splitlines()
    if lines[0].lstrip().startswith("```"):
        return Block("code", text)
    if all(line.lstrip().startswith("|") for line in lines):
        return Block("table", text)
    if len(lines) == 1 and lines[0].startswith("#"):
        return Block("heading", text)
    return Block("text", text)


def read_note(path: Path, lang: str) -> RealNote | None:
    text = path.read_text("utf-8")
    parts = re.split(r"^---[ \t]*$", text, maxsplit=2, flags=re.M)
    if len(parts) < 3 or parts[0].strip():
        return None  # no front matter: not a blog note
    meta = yaml.safe_load(parts[1]) or {}
    front = tuple(line for line in parts[1].strip("\n").splitlines() if not line.startswith("title:"))
    body = parts[2].lstrip("\n")
    return RealNote(lang, str(meta.get("title", "")), front, tuple(split_blocks(body)), body)


def read_real_groups(corpus: Path) -> list[RealGroup]:
    """Real notes grouped by file name, like the blog (and the scorer) group translations."""
    by_key: dict[str, dict[str, RealNote]] = defaultdict(dict)
    dated: dict[str, bool] = {}
    for path in sorted(corpus.rglob("*.md")):
        rel = path.relative_to(corpus)
        note = read_note(path, note_lang(rel))
        if note is None:
            continue
        key = _LANG_SUFFIX.sub("", _DATE_PREFIX.sub("", path.stem))
        by_key[key].setdefault(note.lang, note)
        dated[key] = dated.get(key, False) or bool(_DATE_PREFIX.match(path.name))
    return [RealGroup(key, dated[key], notes) for key, notes in sorted(by_key.items())]


def build_pools(groups: list[RealGroup]) -> dict[str, Pools]:
    pools: dict[str, Pools] = defaultdict(Pools)
    tokens: dict[str, dict[str, list[list[str]]]] = defaultdict(lambda: defaultdict(list))  # lang → kind → per note
    for group in groups:
        for lang, note in group.notes.items():
            pool = pools[lang]
            for block in note.blocks:
                add_block(pool, block)
            prose = " ".join([note.title] + [b.text for b in note.blocks if b.kind != "code"])
            code = " ".join(b.text for b in note.blocks if b.kind == "code")
            tokens[lang]["words"].append([w for w in _WORD.findall(prose) if not _CJK.search(w)])
            tokens[lang]["cjk"].append(list(cjk_pairs(prose)))
            tokens[lang]["names"].append(_WORD.findall(code))
    for lang, pool in pools.items():
        pool.words, pool.cjk, pool.names = (Vocabulary.of(tokens[lang][k]) for k in ("words", "cjk", "names"))
    return dict(pools)


def add_block(pool: Pools, block: Block) -> None:
    if block.kind == "heading":
        pool.headings.append(block.text.lstrip("#").strip())
    elif block.kind == "code":
        pool.code.append(block.text)
    elif block.kind == "table":
        for row in block.text.splitlines()[2:]:
            pool.rows[row.count("|")].append(row)
    elif _WORD.search(block.text):  # not a lone "---" rule: a note of rules alone says nothing
        pool.texts.append(block.text)
        pool.sentences.extend(s for line in block.text.splitlines() if not line.lstrip().startswith("|")
                              for s in _SENTENCE_END.split(_LIST_MARKER.sub("", line)) if len(s) > 20)


def cjk_pairs(text: str) -> Iterable[str]:
    return (run[i:i + 2] for run in _CJK.findall(text) for i in range(0, len(run) - 1, 2))


# ------------------------------------------------------------------ remixing
def swap_words(text: str, words: Vocabulary, rng: random.Random, cjk: Vocabulary = EMPTY) -> str:
    """Replace words (and pairs of CJK characters) as `Vocabulary.swap` decides. Markup and
    punctuation stay, so the block keeps its markdown shape."""
    if cjk.common or cjk.rare:
        text = _CJK.sub(lambda m: swap_cjk_run(m.group(0), cjk, rng), text)
    return _WORD.sub(lambda m: m.group(0) if _CJK.search(m.group(0)) else words.swap(m.group(0), rng), text)


def swap_cjk_run(run: str, cjk: Vocabulary, rng: random.Random) -> str:
    chunks = [run[i:i + 2] for i in range(0, len(run), 2)]
    return "".join(cjk.swap(c, rng) if len(c) == 2 else c for c in chunks)


def mix_sentences(text: str, pool: Pools, rng: random.Random) -> str:
    """Line by line (a list stays a list): borrow sentences of other notes, sometimes reorder."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.lstrip().startswith("|") or not pool.sentences:
            continue  # a table row inside a text block: keep its cells
        marker = _LIST_MARKER.match(line)
        prefix = marker.group(0) if marker else ""
        sentences = [s for s in _SENTENCE_END.split(line[len(prefix):]) if s]
        for i in range(len(sentences)):
            if rng.random() < 0.4:
                sentences[i] = rng.choice(pool.sentences)
        if len(sentences) > 2 and rng.random() < 0.3:
            rng.shuffle(sentences)
        lines[n] = prefix + " ".join(sentences)
    return "\n".join(lines)


def remix_block(block: Block, pool: Pools, lang: str, rng: random.Random) -> Block:
    """Borrow from other notes of the language, then swap words (see the module's docstring)."""
    roll = rng.random()
    if block.kind == "heading":
        level = block.text[: len(block.text) - len(block.text.lstrip("#"))]
        text = rng.choice(pool.headings) if pool.headings and roll < 0.4 else block.text.lstrip("#").strip()
        return Block("heading", f"{level} {swap_words(text, pool.words, rng, pool.cjk)}")
    if block.kind == "code":
        code = rng.choice(pool.code) if pool.code and roll < 0.3 else block.text
        lines = code.splitlines()  # the fences (and their language tag) stay
        if len(lines) < 3:
            return Block("code", code)
        body = swap_words("\n".join(lines[1:-1]), pool.names, rng)
        return Block("code", "\n".join([lines[0], body, lines[-1]]))
    if block.kind == "table":
        return Block("table", remix_table(block.text, pool, rng))
    if roll < 0.3 and pool.texts:
        text = rng.choice(pool.texts)  # a paragraph of another note
    elif roll < 0.65:
        text = mix_sentences(block.text, pool, rng)
    else:
        text = block.text
    return Block("text", swap_words(text, pool.words, rng, pool.cjk))


def remix_table(text: str, pool: Pools, rng: random.Random) -> str:
    lines = text.splitlines()
    head, rows = lines[:2], lines[2:]
    for i, row in enumerate(rows):
        others = pool.rows.get(row.count("|"), [])
        if others and rng.random() < 0.5:
            row = rng.choice(others)  # a row of another table with as many columns
        rows[i] = swap_words(row, pool.words, rng, pool.cjk)
    rng.shuffle(rows)
    return "\n".join(head + rows)


def remix_body(note: RealNote, pool: Pools, rng: random.Random) -> list[Block]:
    blocks: list[Block] = []
    for block in note.blocks:
        roll = rng.random()
        if roll < 0.05:
            continue  # dropped: lengths vary
        blocks.append(remix_block(block, pool, note.lang, rng))
        if roll > 0.95 and pool.texts:  # a paragraph of another note inserted
            blocks.append(remix_block(Block("text", rng.choice(pool.texts)), pool, note.lang, rng))
    return blocks or [remix_block(Block("text", rng.choice(pool.texts)), pool, note.lang, rng)]


def new_title(title: str, pool: Pools, rng: random.Random, taken: set[str]) -> str:
    candidate = swap_words(title, pool.words, rng, pool.cjk)
    while candidate in taken:  # never a real title (nor an earlier generated one)
        candidate = f"{candidate} {rng.choice(pool.words.common) if pool.words.common else rng.randint(2, 99)}"
    taken.add(candidate)
    return candidate


def make_links_own(body: str, slug: str) -> str:
    """A fragment per group: translations share links (as real ones do), generated groups do not,
    so that link-based translation grouping cannot merge a distractor into a real note."""
    return _URL.sub(lambda m: m.group(0) if "#" in m.group(0) else f"{m.group(0)}#{slug}", body)


def new_slug(group: RealGroup, other: RealGroup, index: int) -> str:
    words = [w for w in group.key.split("-") if w.isascii() and w][:2]
    words += [w for w in other.key.split("-") if w.isascii() and w][-1:]
    return "-".join(words + [f"g{index:x}"]).lower()


def render_note(note: RealNote, title: str, blocks: list[Block], slug: str) -> str:
    front = "\n".join(list(note.front) + [f"title: {json.dumps(title, ensure_ascii=False)}"])
    body = "\n\n".join(block.text for block in blocks)
    return f"---\n{front}\n---\n\n{make_links_own(body, slug)}\n"


def generate_group(index: int, groups: list[RealGroup], pools: dict[str, Pools],
                   taken: set[str], real_bodies: set[str]) -> list[GeneratedNote]:
    rng = random.Random(f"{SEED}:{index}")  # a string seed is stable across runs and Python versions
    group, other = rng.choice(groups), rng.choice(groups)
    slug = new_slug(group, other, index)
    if group.dated:
        slug = f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}-{slug}"
    out: list[GeneratedNote] = []
    for lang, note in sorted(group.notes.items()):
        pool = pools[lang]
        blocks = remix_body(note, pool, rng)
        body = "\n\n".join(b.text for b in blocks)
        while body in real_bodies:  # nothing verbatim: swap words until it differs
            blocks = [Block(b.kind, swap_words(b.text, pool.words, rng, pool.cjk)) for b in blocks]
            body = "\n\n".join(b.text for b in blocks)
        title = new_title(note.title, pool, rng, taken)
        rel = f"notes/{slug}-en.md" if lang == "en" else f"_posts/{lang}/{slug}-{lang}.md"
        out.append(GeneratedNote(rel, lang, title, body, render_note(note, title, blocks, slug)))
    return out


# ------------------------------------------------------------------ questions
def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip: two letters swapped, a letter dropped or doubled."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def question_from(note: GeneratedNote, rng: random.Random) -> tuple[str, str] | None:
    """(question, kind) cut from the note's title or one of its passages."""
    if rng.random() < 0.3:
        text, kind = note.title, "gen-title"
    else:
        texts = [b.text for b in split_blocks(note.body) if b.kind in ("text", "table")]
        if not texts:
            return None
        text, kind = rng.choice(texts), "gen-passage"
    text = " ".join(_MARKUP.sub(" ", _LIST_MARKER.sub("", line)) for line in text.splitlines())
    text = " ".join(text.split())
    if note.lang in CJK_LANGS:
        start = rng.randrange(max(1, len(text) - 16))
        return (text[start:start + rng.randint(8, 16)], kind) if len(text) >= 6 else None
    words = text.split()
    if len(words) < 3:
        return None
    start = rng.randrange(max(1, len(words) - 8))
    window = words[start:start + rng.randint(4, 8)]
    long_words = [i for i, w in enumerate(window) if len(w) >= 5]
    if long_words and rng.random() < 0.5:
        i = rng.choice(long_words)
        window[i] = typo(window[i], rng)
        kind += "-typo"
    return " ".join(window), kind


def make_questions(notes: list[GeneratedNote], count: int) -> list[dict[str, object]]:
    rng = random.Random(f"{SEED}:questions")
    questions: list[dict[str, object]] = []
    for _ in range(count * 3):  # some draws give nothing usable: bounded retries
        if len(questions) == count or not notes:
            break
        note = rng.choice(notes)
        made = question_from(note, rng)
        if made is None:
            continue
        key = _LANG_SUFFIX.sub("", _DATE_PREFIX.sub("", Path(note.rel_path).stem))
        questions.append({"q": made[0], "lang": note.lang, "expect": key,
                          "answer_lang": note.lang, "kind": made[1]})
    return questions


# ------------------------------------------------------------------ writing
def stamp_for(files: int) -> dict[str, object]:
    return {"generator": GENERATOR_VERSION, "seed": SEED, "swap": [SWAP_RARE, SWAP_COMMON, COMMON_SHARE],
            "files": files, "questions": QUESTIONS_PER_SIZE}


def default_base() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "notes-bench"


def generate(files: int, target: Path, real: Path = REAL_CORPUS) -> None:
    groups = read_real_groups(real)
    pools = build_pools(groups)
    taken = {note.title for group in groups for note in group.notes.values()}
    real_bodies = {note.body.strip() for group in groups for note in group.notes.values()}
    written: list[GeneratedNote] = []
    index = 0
    while len(written) < files:
        for note in generate_group(index, groups, pools, taken, real_bodies)[: files - len(written)]:
            path = target / "corpus" / note.rel_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(note.text, "utf-8")
            written.append(note)
        index += 1
    questions = make_questions(written, QUESTIONS_PER_SIZE)
    (target / "questions.yaml").write_text(yaml.safe_dump(questions, allow_unicode=True, sort_keys=False), "utf-8")


def ensure_corpus(files: int, base: Path | None = None, force: bool = False) -> Corpus | None:
    """The generated corpus of `files` notes, written on first use; None for 0 (real corpus alone)."""
    if files == 0:
        return None
    base = base or default_base()
    target = base / size_label(files)
    stamp = target / "stamp.json"
    if not force and stamp.exists() and json.loads(stamp.read_text()) == stamp_for(files):
        return Corpus(target / "corpus", target / "questions.yaml", files)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{size_label(files)}-", dir=base))
    generate(files, staging)
    (staging / "stamp.json").write_text(json.dumps(stamp_for(files)))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # whole or nothing: an interrupted run is never reused
    return Corpus(target / "corpus", target / "questions.yaml", files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1k", help="files to generate: 1k, 10k, 50k or a number")
    parser.add_argument("--out", type=Path, default=None, help="base folder (default $TMPDIR/notes-bench)")
    parser.add_argument("--force", action="store_true", help="regenerate even when the stamp matches")
    args = parser.parse_args()
    corpus = ensure_corpus(parse_size(args.size), args.out, args.force)
    print(corpus.root if corpus else REAL_CORPUS)


if __name__ == "__main__":
    main()
