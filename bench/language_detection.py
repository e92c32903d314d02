"""Accuracy of knowledge.detect against plain py3langid, per language, on labelled short texts.

    .venv/bin/python bench/language_detection.py [--errors] [--dev]

Sets: tests/data/language_questions.yaml (hand-written questions) and the note titles of the
blog corpus (label from `_posts/<lang>/`, `notes/` is English). Titles written identically
under several labels ("DeepSeek V3", "Curl") cannot be told apart by any detector and are
counted separately. `--dev` also scores the held-out dev set: run it once, not to tune.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.detect import LANGUAGES, detect_language  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "language_questions.yaml"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the checkout
CORPUS = SHARED / "corpus" / "blog"
DEV = SHARED / "eval" / "questions_dev.yaml"

Sample = tuple[str, str]  # (text, label)
Detector = Callable[[str], str]


def load_questions(path: Path) -> list[Sample]:
    return [(str(item["q"]), str(item["lang"])) for item in yaml.safe_load(path.read_text("utf-8"))]


def load_titles(corpus: Path) -> tuple[list[Sample], list[Sample]]:
    """(titles, ambiguous titles): the label of a note is its `_posts/<lang>/` folder."""
    samples: list[Sample] = []
    for path in sorted(corpus.rglob("*.md")):
        parts = path.relative_to(corpus).parts
        label = parts[1] if parts[0] == "_posts" and len(parts) > 2 else "en"
        text = path.read_text("utf-8")
        if not text.startswith("---"):
            continue
        front = yaml.safe_load(text.split("---", 2)[1]) or {}
        if front.get("title"):
            samples.append((str(front["title"]).strip(), label))
    labels: dict[str, set[str]] = defaultdict(set)
    for title, label in samples:
        labels[title].add(label)
    clear = [s for s in samples if len(labels[s[0]]) == 1]
    ambiguous = [s for s in samples if len(labels[s[0]]) > 1]
    return clear, ambiguous


def py3langid_detector(restrict: list[str] | None) -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if restrict:
        identifier.set_languages(restrict)
    return lambda text: identifier.classify(text)[0]


def score(detector: Detector, samples: list[Sample]) -> tuple[dict[str, tuple[int, int]], list[tuple[str, str, str]]]:
    """Per label (right, total), and the misses as (label, got, text)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses: list[tuple[str, str, str]] = []
    for text, label in samples:
        got = detector(text)
        total[label] += 1
        if got == label:
            right[label] += 1
        else:
            misses.append((label, got, text))
    return {lang: (right[lang], total[lang]) for lang in total}, misses


def print_table(title: str, samples: list[Sample], detectors: dict[str, Detector], errors: bool) -> None:
    langs = [lang for lang in LANGUAGES if any(label == lang for _, label in samples)]
    langs += sorted({label for _, label in samples} - set(langs))
    print(f"\n## {title} ({len(samples)} texts)\n")
    print(f"| {'detector':<30} | " + " | ".join(f"{lang:>7}" for lang in langs) + " | overall |")
    print(f"|{'-' * 32}|" + "|".join("-" * 9 for _ in langs) + "|---------|")
    all_misses = {}
    for name, detector in detectors.items():
        table, misses = score(detector, samples)
        all_misses[name] = misses
        right = sum(r for r, _ in table.values())
        cells = " | ".join(f"{table[lang][0] / table[lang][1]:>7.1%}" for lang in langs)
        print(f"| {name:<30} | {cells} | {right / len(samples):>7.1%} |  ({right}/{len(samples)})")
    if errors:
        for label, got, text in all_misses["knowledge.detect"]:
            print(f"  miss: {label:>7} -> {got:<7} {text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list knowledge.detect's misses")
    parser.add_argument("--dev", action="store_true", help="also score the held-out dev set (q, lang)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()

    iso = sorted({lang.split("-")[0] for lang in LANGUAGES})  # py3langid has no zh-hant label
    names: frozenset[str] = frozenset()
    if args.corpus.is_dir():  # the names the engine would learn from these notes (knowledge.names)
        from knowledge.indexing.grouping import group_translations
        from knowledge.names import untranslated_names
        from knowledge.notes import load_notes

        names = untranslated_names(group_translations(load_notes([args.corpus]).notes))
        print(f"{len(names)} names learned from {args.corpus}")
    detectors: dict[str, Detector] = {
        "knowledge.detect": lambda text: detect_language(text, names=names),
        "py3langid (all 140 languages)": py3langid_detector(None),
        f"py3langid ({len(iso)} languages)": py3langid_detector(iso),
    }
    questions = load_questions(QUESTIONS)
    print_table("Questions: tests/data/language_questions.yaml", questions, detectors, args.errors)
    if args.corpus.is_dir():
        titles, ambiguous = load_titles(args.corpus)
        print_table(f"Note titles: {args.corpus}", titles, detectors, args.errors)
        print(f"\n(left out: {len(ambiguous)} titles written identically under several labels: "
              f"{sorted({t for t, _ in ambiguous})})")
    if args.dev and DEV.is_file():
        dev = [(str(d["q"]), str(d["lang"])) for d in yaml.safe_load(DEV.read_text("utf-8")) if d.get("q")]
        print_table(f"Held-out dev set: {DEV}", dev, detectors, args.errors)

    texts = [text for text, _ in questions]
    detect_language(texts[0], names=names)  # the first call loads the model
    start = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for text in texts:
            detect_language(text, names=names)
    per_call = (time.perf_counter() - start) / (rounds * len(texts))
    print(f"\nknowledge.detect: {per_call * 1e6:.0f} µs per question after the first call")
    print("Note: py3langid has no zh-hant label, so both baselines miss every zh-hant text.")


if __name__ == "__main__":
    main()
