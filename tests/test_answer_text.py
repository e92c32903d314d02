"""Answer text faithful to the note (issue 17): over every dev question, the code an answer shows is
whole constructs of the note's listing, the inline code it shows stays code, nothing is cut
mid-sentence, and no answer leads with a sentence that only frames its note."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge import EngineOptions
from knowledge.engine import Engine
from knowledge.indexing import build_engine
from knowledge.inline import sentence_spans
from knowledge.listing import ELLIPSIS
from knowledge.model import Answer
from knowledge.openers import learn

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus" / "blog"
DEV_FILES = (SHARED / "eval" / "questions_dev.yaml", SHARED / "eval" / "questions_dev2.yaml")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("blog"),  # beside the eval floor: the blog's index cache is built once
    pytest.mark.skipif(not CORPUS.exists(), reason="../shared is not beside the checkout"),
]

_FENCED = re.compile(r"^```[^\n]*\n(.*?)\n```$", re.S | re.M)
_RAW_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_STRING = re.compile(r""""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\\n])*'""")
_COMMENT = re.compile(r"(?:^|\s)(?://|#|--)\s.*$")
_PAIRS = {")": "(", "]": "[", "}": "{"}


@pytest.fixture(scope="module")
def answered(shared_state: Path) -> list[tuple[Answer, Path]]:
    """Every answered dev question, with the file of the note it answers from."""
    engine: Engine = build_engine([CORPUS], EngineOptions(cache_dir=shared_state / "notes-bot" / "index"))
    out = []
    for path in DEV_FILES:
        for item in yaml.safe_load(path.read_text("utf-8")):
            answer = engine.ask(item["q"])
            if answer.answered:
                out.append((answer, CORPUS / answer.sources[0].path))
    assert len(out) > 100  # the test is about something
    return out


def test_no_code_block_is_cut_inside_a_construct(answered: list[tuple[Answer, Path]]) -> None:
    cut = []
    for answer, source in answered:
        listing = {line.strip() for line in source.read_text("utf-8").splitlines()}
        for block in _FENCED.findall(answer.text):
            lines = [line for line in block.split("\n") if line.strip() != ELLIPSIS]
            if not all(line.strip() in listing for line in lines) or not _balanced(lines):
                cut.append((answer.question, block))
    assert cut == []


def _balanced(lines: list[str]) -> bool:
    """Brackets (outside strings and comments) and, on lines that start with a tag, XML tags close
    in order and none is left open."""
    stack: list[str] = []
    for line in lines:
        code = _COMMENT.sub("", _STRING.sub('""', line))
        marks = [ch for ch in code if ch in "([{)]}"]
        if code.lstrip().startswith(("<", ">")) and not code.lstrip().startswith(("<!", "<?")):
            marks += re.findall(r"</?(?=[A-Za-z])(?![^<>]*/>)", code)
        for mark in marks:
            if mark in "([{<":
                stack.append(mark)
            elif not stack or stack.pop() != _PAIRS.get(mark, "<"):
                return False
    return not stack


def test_inline_code_the_note_had_stays_code(answered: list[tuple[Answer, Path]]) -> None:
    # A span whose text the note only ever writes as code: shown in the answer, it must be code there too.
    lost = []
    for answer, source in answered:
        raw = source.read_text("utf-8")
        prose = _FENCED.sub("", answer.text)
        for content in set(_RAW_SPAN.findall(raw)):
            if len(content) < 3 or raw.count(content) != raw.count(f"`{content}`"):
                continue
            if content in prose.replace(f"`{content}`", "") and f"`{content}`" not in prose:
                lost.append((answer.question, content))
    assert lost == []


def test_nothing_is_cut_mid_sentence(answered: list[tuple[Answer, Path]]) -> None:
    cut = [(answer.question, line) for answer, _ in answered for line in _FENCED.sub("", answer.text).splitlines()
           if line.rstrip().endswith("…") and line.strip(" -…")]
    assert cut == []


def test_no_answer_leads_with_a_sentence_that_frames_its_note(answered: list[tuple[Answer, Path]],
                                                              shared_state: Path) -> None:
    engine = build_engine([CORPUS], EngineOptions(cache_dir=shared_state / "notes-bot" / "index"))
    openers = learn(engine.groups)
    assert openers.leads  # the blog has frame sentences to learn from
    framed = []
    for answer, _ in answered:
        first_line = answer.text.splitlines()[0].lstrip("- ")
        spans = sentence_spans(first_line)
        if spans and openers.frames(first_line[slice(*spans[0])]):
            framed.append((answer.question, first_line))
    assert framed == []
