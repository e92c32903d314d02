"""Question → ranked notes and passages, with a confidence that can say "nothing answers".

1. The question becomes query units: each word (or CJK bigram) with its alternatives —
   its 5-letter prefix for cognates, and vocabulary words within a small edit distance
   when the word itself is unknown (typos: looked up in the vocabulary, never the text).
2. BM25 over the inverted index scores only passages sharing a term (rare words weigh
   more than in plain BM25); a match in the note's title adds to all its passages, a
   match in a table row's first cell (what the row is about) to that row.
3. Passages are grouped by translation group (a note in all its languages). A group
   ranks by its best passage plus a share of its next best ones, times how much of the
   question it covers. The confidence weighs that coverage, the margin over the
   runner-up and the strength of the best passage's own match, so a question about
   something absent ("does Groq use vLLM?") is rejected even though "vLLM" matches well.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from .dense import TITLE_ROW
from .gate import Evidence, gate_for
from .index import Index, Postings
from .text import CAPITALISED_LANGUAGES, PREFIX_LEN, PREFIX_MARK, is_compound_term, name_terms, stop_words, terms

# Tuned on the dev questions as a whole (never per question); see tests/test_eval_floor.py.
TITLE_WEIGHT = 1.2
ROW_KEY_WEIGHT = 0.5
IDF_POWER = 1.6  # rare words (names, flags) outweigh several common ones
PREFIX_FACTOR = 0.35
TYPO_CUTOFF = 75.0
COMPLETION_FACTOR = 0.5  # "jav" → "java": a word cut short
UNTRANSLATED_WORD_FACTOR = 0.3  # the asker's ordinary words, in a note not translated to their language
FOREIGN_UNKNOWN_FACTOR = 0.02  # unknown words of a language no note is written in
UNKNOWN_CJK_FACTOR = 0.1  # an unknown CJK pair mostly straddles two words rather than naming a topic
PREFIX_CREDIT = 0.56  # how much of a word a shared 5-letter prefix covers (cognates, inflections)
CANDIDATE_PASSAGES = 300
RERANKED_GROUPS = 20
SUPPORT_PASSAGES = 4
SUPPORT_WEIGHT = 0.25
FUSION_WEIGHT = 0.2  # a group's word score (share of the best) added to its cosine: with one row per fact, 0.2 ranks
# the right note first for 202 of the 210 answerable dev questions (0.35: 200) and 317 of 416 xlang (287)
TITLE_ROW_WEIGHT = 0.85  # a title is short: its cosine with a short question runs high
MISSING_NAME_PENALTY = 0.1  # taken off for the share of the question's known names a group lacks
STANDOUT_AMONG = 20  # groups a cosine is compared with (a z-score means the same in a big blog as a small one)
NAME_PRESENT = 0.3  # a name counts as mentioned by a note from this much credit (typo, prefix) up
UNKNOWN_NAME_LENGTH = 4  # shorter unknown words typed in lower case are as often abbreviations or slips
COMMON_FRACTION = 0.05  # terms in more passages than this count as covered wherever they are…
MIN_COMMON_PASSAGES = 20  # …and than this (in a handful of notes, every word is in 5% of the passages)


_NO_POSTINGS = Postings(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))  # a word only titles have


@dataclass(frozen=True)
class QueryUnit:
    """One word of the question and the index terms that may stand for it."""

    word: str
    alternatives: tuple[tuple[str, float], ...]  # (index term, how much it counts), best first
    weight: float  # share of the question's meaning: the word's idf (high when unknown)
    name: bool = False  # written like a name ("DeepSeek", "EPFL"): the same in every language
    # A CJK pair between two other pairs of the question ("存输" in 保存|输出): the words those
    # (indices into the units) whose presence covers both its characters.
    between: tuple[int, int] | None = None


@dataclass(frozen=True)
class GroupHit:
    group: int
    score: float
    passage: int  # best passage id in the group
    coverage: float  # 0..1: weighted share of the question's words found in the group
    match: float = 0.0  # the best passage's own score (times coverage), without the note's support


@dataclass(frozen=True)
class SearchResult:
    units: tuple[QueryUnit, ...]
    hits: tuple[GroupHit, ...]  # best first
    confidence: float
    scores: np.ndarray | None = field(default=None, repr=False, compare=False)  # every passage's score
    name_scores: np.ndarray | None = field(default=None, repr=False, compare=False)  # the part names gave
    row_scores: np.ndarray | None = field(default=None, repr=False, compare=False)  # every dense row's cosine
    evidence: Evidence | None = None  # what the confidence was decided on
    # A near miss: names of the question the first group never mentions, while it has the others.
    absent_names: tuple[str, ...] = ()

    @property
    def best(self) -> GroupHit | None:
        return self.hits[0] if self.hits else None


def query_units(index: Index, question: str, language: str | None = None, lower_case: bool = False
                ) -> tuple[QueryUnit, ...]:
    """The question's words and what stands for them in the index. `lower_case`: the asker typed it
    with no capital at all (`question` may hold some: the notes' case of names, knowledge.casing)."""
    units: dict[str, QueryUnit] = {}
    unknown_weight = index.unseen_idf
    # In a language no note is written in, unknown words are that language's grammar, not a
    # missing topic; names in Latin letters still count in full.
    foreign = language is not None and language not in index.languages
    names = name_terms(question, language)
    # Typed all in lower case, a question shows no names by their capitals: a word no note has in
    # any form (not even a close spelling) is read as one, as "Redis" would be.
    # (Not in German, where capitals show nouns, not names, and a missing one tells nothing either.)
    uncased = lower_case and not foreign and language not in CAPITALISED_LANGUAGES
    for word in terms(question, prefixes=False):
        if word in units or (not index.knows(word) and _looks_like_stop_word(word)):
            continue
        alternatives = _alternatives(index, word)
        if any(factor > PREFIX_FACTOR for _, factor in alternatives):
            weight = max(index.idf(term) for term, factor in alternatives if factor > PREFIX_FACTOR)
        elif alternatives:
            weight = index.idf(word)
        elif is_compound_term(word):
            weight = 0.0  # its parts are units of their own
        elif foreign and not word.isascii():
            weight = unknown_weight * FOREIGN_UNKNOWN_FACTOR
        elif len(word) <= 2 and _cjk(word):
            weight = unknown_weight * UNKNOWN_CJK_FACTOR
        else:
            weight = unknown_weight
        name = word in names or is_compound_term(word) or (uncased and not alternatives and _unknown_name(word))
        units[word] = QueryUnit(word, tuple(alternatives), weight, name)
    return _with_cjk_neighbours(tuple(units.values()))


def _unknown_name(word: str) -> bool:
    return len(word) >= UNKNOWN_NAME_LENGTH and word.isascii() and word[:1].isalpha()


def _with_cjk_neighbours(units: tuple[QueryUnit, ...]) -> tuple[QueryUnit, ...]:
    """Mark each CJK pair that overlaps the pair before it and the pair after it."""
    cjk = [len(u.word) == 2 and _cjk(u.word) for u in units]
    marked = list(units)
    for i in range(1, len(units) - 1):
        if cjk[i - 1] and cjk[i] and cjk[i + 1] and units[i - 1].word[1] == units[i].word[0] \
                and units[i].word[1] == units[i + 1].word[0]:
            marked[i] = dataclasses.replace(units[i], between=(i - 1, i + 1))
    return tuple(marked)


def _cjk(word: str) -> bool:
    """A CJK character or pair (its terms are character pairs, not words)."""
    return ord(word[0]) >= 0x2E80


def _alternatives(index: Index, word: str) -> list[tuple[str, float]]:
    """Index terms standing for a question word: itself, else close spellings or completions; and its prefix."""
    found: list[tuple[str, float]] = []
    if index.knows(word):  # a title's words count as the note's
        found.append((word, 1.0))
    elif word.isascii() and word[:1].isalpha():
        if len(word) >= 4:
            for match, similarity, _ in process.extract(
                word, index.similar_words(word), scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=3
            ):
                found.append((match, (similarity / 100.0) ** 2))
        if len(word) >= 3 and not found:
            found.extend((match, COMPLETION_FACTOR) for match in index.completions(word))
    if len(word) > PREFIX_LEN and word.isalpha():
        prefix = PREFIX_MARK + word[:PREFIX_LEN]
        if prefix in index.postings:
            found.append((prefix, PREFIX_FACTOR))
    return found


def _looks_like_stop_word(word: str) -> bool:
    """A misspelt "does"/"what" ("dose", "waht") is filler, not an unknown topic."""
    if len(word) < 3 or not word.isascii() or not word[:1].isalpha():
        return False
    near = [w for w in _stop_words_from(word[0]) if abs(len(w) - len(word)) <= 1]
    return process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF) is not None


@lru_cache(maxsize=64)
def _stop_words_from(letter: str) -> tuple[str, ...]:
    return tuple(w for w in stop_words() if w[:1] == letter and len(w) >= 3)


def search(index: Index, question: str, language: str | None = None, limit: int = 10,
           vector: np.ndarray | None = None, lower_case: bool = False) -> SearchResult:
    """Rank translation groups for a question; `vector` is the question's sentence vector
    (None: words only); `lower_case` as for `query_units`. The confidence is the gate's probability
    that the first is right."""
    units = query_units(index, question, language, lower_case)
    n = index.passage_count
    dense = _dense(index, vector) if vector is not None and index.dense is not None and n else None
    if (not units and dense is None) or n == 0:
        return SearchResult(units, (), 0.0)
    scores, content, name_scores, postings, titles = _lexical_scores(index, units)
    ranked = _lexical_groups(index, scores, content, max(limit, RERANKED_GROUPS))
    lexical_order = [g for g, _, _, _ in ranked]
    candidates = list(lexical_order)
    if dense is not None:
        seen = set(lexical_order)
        candidates += [g for g in dense.top(RERANKED_GROUPS) if g not in seen]
    if not candidates:
        return SearchResult(units, (), 0.0, scores, name_scores)
    group_ids = np.fromiter(candidates, dtype=np.int32, count=len(candidates))
    coverage, found = _coverage(index, units, group_ids, language, postings, titles)
    lexical = {g: (supported * coverage[i], score * coverage[i], pid)
               for i, (g, supported, score, pid) in enumerate(ranked)}
    lexical_hits = sorted((GroupHit(g, s, pid, coverage[i], m) for i, (g, (s, m, pid)) in enumerate(lexical.items())),
                          key=lambda hit: -hit.score)
    lexical_confidence = _confidence(lexical_hits, index.unseen_idf ** IDF_POWER)
    top_lexical = max((s for s, _, _ in lexical.values()), default=0.0)
    names = [i for i, unit in enumerate(units) if unit.name and unit.alternatives]
    hits = []
    for i, g in enumerate(candidates):
        words, match, pid = lexical.get(g, (0.0, 0.0, -1))
        share = words / top_lexical if top_lexical > 0 else 0.0
        meaning = float(dense.group_scores[g]) if dense is not None else 0.0
        if pid < 0:
            pid = dense.best_passage(index, g) if dense is not None else -1
        if pid < 0:
            continue
        score = words
        if dense is not None:
            # A note that lacks a name the question asks about ("DeepSeek" in "does DeepSeek use vLLM?")
            # is about something else, however close its meaning.
            missing = sum(1 for u in names if found[u][i] < NAME_PRESENT) / len(names) if names else 0.0
            score = meaning + FUSION_WEIGHT * share - MISSING_NAME_PENALTY * missing
        hits.append(GroupHit(g, score, pid, coverage[i], match))
    hits.sort(key=lambda hit: -hit.score)
    if not hits:
        return SearchResult(units, (), 0.0, scores, name_scores)
    first = hits[0]
    at = candidates.index(first.group)
    evidence = _evidence(index, units, first, at, found, dense, lexical, top_lexical,
                         lexical_hits[0].group if lexical_hits else -1, lexical_confidence, language)
    confidence = gate_for(dense is not None).probability(evidence)
    named = [u for u in range(len(units)) if units[u].name and units[u].weight > 0]
    absent = tuple(units[u].word for u in named if not units[u].alternatives or found[u][at] < NAME_PRESENT)
    if len(absent) == len(named):
        absent = ()  # it has none of the question's names: not a near miss of this note
    return SearchResult(units, tuple(hits[:limit]), confidence, scores, name_scores,
                        dense.row_scores if dense is not None else None, evidence, absent)


def _lexical_scores(index: Index, units: tuple[QueryUnit, ...]):
    """BM25 of every passage (title and row-subject matches added), and the parts named below."""
    n = index.passage_count
    scores = np.zeros(n, dtype=np.float32)
    title_scores = np.zeros(len(index.notes), dtype=np.float32)
    name_scores = np.zeros(n, dtype=np.float32) if any(unit.name for unit in units) else None
    # Looked up once: the coverage below reads the same postings (layers are concatenated per look-up).
    postings = {term: index.postings.get(term) or _NO_POSTINGS for unit in units for term, _ in unit.alternatives}
    titles = {term: index.title_postings.get(term) for term in postings}
    for unit in units:
        for term, factor in unit.alternatives:
            posting = postings[term]
            gain = (index.idf(term) ** IDF_POWER * factor) * posting.weights
            scores[posting.passages] += gain
            if unit.name and name_scores is not None:
                name_scores[posting.passages] += gain
            titled = titles[term]
            if titled is not None:
                title_scores[titled.passages] += index.title_idf(term) ** IDF_POWER * factor
            keyed = index.key_postings.get(term)
            if keyed is not None:  # the question names what this table row is about
                scores[keyed.passages] += ROW_KEY_WEIGHT * index.idf(term) ** IDF_POWER * factor
    titled_notes = np.flatnonzero(title_scores)
    # What the passages themselves say, without their note's title (a copy only when a title adds).
    content = scores.copy() if titled_notes.size else scores
    if titled_notes.size:  # only those notes' passages: a gather over every passage costs more
        pids, owner = index.passages_of(titled_notes)
        scores[pids] += TITLE_WEIGHT * title_scores[titled_notes][owner]
    if index.dead.size:  # passages of notes replaced by an incremental reload
        scores[index.dead] = 0.0
    return scores, content, name_scores, postings, titles


def _lexical_groups(index: Index, scores: np.ndarray, content: np.ndarray, limit: int
                    ) -> list[tuple[int, float, float, int]]:
    """(group, score with support, best passage's score, best passage) of the best groups, best first."""
    top = _top(scores, CANDIDATE_PASSAGES)
    best_per_group: dict[int, tuple[float, int]] = {}
    support: dict[int, list[float]] = {}
    for pid in top.tolist():  # best first
        group = int(index.note_group[index.passage_note[pid]])
        score = float(scores[pid])
        if group not in best_per_group:
            best_per_group[group] = (score, pid)
        elif len(support.setdefault(group, [])) < SUPPORT_PASSAGES:
            support[group].append(float(content[pid]))  # a title counts once, not once per passage
    # A note about the question says it in more than one place (and in each translation);
    # one short block that happens to hold the same words is weaker evidence.
    supported = {g: score + SUPPORT_WEIGHT * sum(support.get(g, ())) for g, (score, _) in best_per_group.items()}
    ranked = sorted(best_per_group.items(), key=lambda item: -supported[item[0]])[:limit]
    return [(g, supported[g], score, pid) for g, (score, pid) in ranked]


@dataclass(frozen=True)
class DenseHits:
    """The question's sentence vector against every row: per row, and per group (its best row)."""

    row_scores: np.ndarray  # (rows,) cosine; rows of replaced notes are -1
    group_scores: np.ndarray  # (groups,) best row of each group; -1 for groups without rows

    def top(self, k: int) -> list[int]:
        k = min(k, self.group_scores.size)
        best = np.argpartition(self.group_scores, -k)[-k:] if k else np.zeros(0, dtype=np.int64)
        return [int(g) for g in best[np.argsort(-self.group_scores[best], kind="stable")] if self.group_scores[g] > -1]

    def best_passage(self, index: Index, group: int) -> int:
        """The passage where the group's best row starts (its first passage for a title row)."""
        dense = index.dense
        assert dense is not None
        rows = dense.rows_of([index.note_ids[note.path] for note in index.groups[group].notes])
        if rows.size == 0:
            return -1
        row = int(rows[np.argmax(self.row_scores[rows])])
        note = int(dense.row_note[row])
        local = max(0, int(dense.row_passage[row]))
        return int(index.note_first_passage[note]) + min(local, max(0, int(index.note_sizes[note]) - 1))


def _dense(index: Index, vector: np.ndarray) -> DenseHits:
    dense = index.dense
    assert dense is not None
    rows = dense.query(vector)
    rows[dense.title_rows] *= TITLE_ROW_WEIGHT
    row_groups = index.note_group[dense.row_note]
    rows[row_groups < 0] = -1.0  # notes replaced or removed by a reload
    groups = np.full(len(index.groups), -1.0, dtype=np.float32)
    note_best = np.maximum.reduceat(rows, dense.note_starts) if rows.size else rows
    owners = index.note_group[dense.row_note[dense.note_starts]]
    alive = owners >= 0
    np.maximum.at(groups, owners[alive], note_best[alive])
    return DenseHits(rows, groups)


def _evidence(index: Index, units: tuple[QueryUnit, ...], first: GroupHit, at: int, found: list[np.ndarray],
              dense: DenseHits | None, lexical: dict, top_lexical: float, lexical_first: int,
              lexical_confidence: float, language: str | None) -> Evidence:
    names = [i for i, unit in enumerate(units) if unit.name and unit.weight > 0]
    unknown = sum(1 for i in names if not units[i].alternatives)
    missing = sum(1 for i in names if units[i].alternatives and found[i][at] < NAME_PRESENT)
    group = index.groups[first.group]
    meaning = margin = own_first = section = dense_z = 0.0
    if dense is not None and index.dense is not None:
        rows = index.dense.rows_of([index.note_ids[note.path] for note in group.notes])
        rows = rows[index.dense.row_passage[rows] != TITLE_ROW]
        section = float(dense.row_scores[rows].max()) if rows.size else 0.0
        scores = dense.group_scores
        meaning = float(scores[first.group])
        live = scores[scores > -1]  # groups emptied by a reload have no rows
        # The best few, sorted (a partition, not a sort of every group): the runner-up and the z-score's top.
        k = min(STANDOUT_AMONG, live.size)
        top = np.sort(np.partition(live, live.size - k)[live.size - k:]) if k else live
        if top.size and meaning >= top[-1]:  # it is the best (a tie leaves another group's equal score second)
            runner_up = float(top[-2]) if top.size > 1 else None
        else:
            runner_up = float(top[-1]) if top.size else None
        margin = meaning - runner_up if runner_up is not None else meaning
        own_first = float(int(np.argmax(scores)) == first.group)
        dense_z = float((meaning - top.mean()) / max(float(top.std()), 1e-3)) if top.size > 2 else 0.0
    words = lexical.get(first.group, (0.0, 0.0, -1))[0]
    return Evidence(
        dense=meaning, dense_margin=margin, dense_first=own_first, dense_z=dense_z, dense_section=section,
        lexical=words / top_lexical if top_lexical > 0 else 0.0,
        lexical_first=float(lexical_first == first.group),
        lexical_confidence=lexical_confidence if lexical_first == first.group else 0.0,
        coverage=first.coverage,
        missing_names=float(min(2, missing)), unknown_names=float(min(2, unknown)), names=float(min(2, len(names))),
        translated=float(language is None or group.in_language(language) is not None),
    )


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    positive = np.flatnonzero(scores > 0)
    if positive.size > k:
        positive = positive[np.argpartition(scores[positive], -k)[-k:]]
    return positive[np.argsort(-scores[positive], kind="stable")]


def _coverage(
    index: Index, units: tuple[QueryUnit, ...], group_ids: np.ndarray, language: str | None,
    postings: dict[str, Postings], titles: dict[str, Postings | None],
) -> tuple[list[float], list[np.ndarray]]:
    """For each group, the idf-weighted share of question words that occur somewhere in it.

    Where a group has no note in the asker's language, the asker's ordinary words could
    only match by chance (cognates), so they weigh less there; names weigh in full.
    """
    translated = np.array([language is None or index.groups[g].in_language(language) is not None
                           for g in group_ids.tolist()], dtype=bool)
    total = np.zeros(group_ids.size, dtype=np.float64)
    covered = np.zeros(group_ids.size, dtype=np.float64)
    common = max(COMMON_FRACTION * index.passage_count, MIN_COMMON_PASSAGES)
    found: list[np.ndarray] = []  # per unit: how much of it each group has
    for unit in units:
        best = np.zeros(group_ids.size, dtype=np.float64)
        for term, factor in unit.alternatives:
            posting = postings[term]
            if posting.df > common:
                best = np.maximum(best, factor)
                continue
            # Mark the groups the term occurs in (shifted by one: dead notes are group -1),
            # then read the candidates' marks: linear, where np.isin would sort.
            marks = np.zeros(len(index.groups) + 1, dtype=bool)
            marks[index.note_group[index.passage_note[posting.passages]] + 1] = True
            titled = titles[term]
            if titled is not None:
                marks[index.note_group[titled.passages] + 1] = True
            present = marks[group_ids + 1]
            credit = PREFIX_CREDIT if term.startswith(PREFIX_MARK) else factor
            best = np.maximum(best, np.where(present, credit, 0.0))
        found.append(best)
    for i, (unit, best) in enumerate(zip(units, found)):
        if unit.between is not None:  # both its characters are there, in the pairs beside it
            best = found[i] = np.maximum(best, np.minimum(found[unit.between[0]], found[unit.between[1]]))
        weight = unit.weight if unit.name else np.where(translated, unit.weight, unit.weight * UNTRANSLATED_WORD_FACTOR)
        total += weight
        covered += weight * best
    return (covered / np.maximum(total, 1e-9)).tolist(), found


def _confidence(hits: list[GroupHit], scale: float) -> float:
    """High when the best group covers the question, stands out from the runner-up, and
    matches strongly for this index (`scale`: the score of one word found nowhere else)."""
    if not hits:
        return 0.0
    first = hits[0]
    second = hits[1].score if len(hits) > 1 else 0.0
    margin = (first.score - second) / first.score if first.score > 0 else 0.0
    strength = first.match / (first.match + scale)  # the passage's own match: support only ranks
    return float(first.coverage**1.5 * (0.5 + 0.5 * margin) * strength)
