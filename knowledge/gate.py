"""Answer or say "I don't know": a small logistic model over evidence that means the same in every language.

The evidence about the best note (`Evidence`) is what a reader would weigh: how close
its meaning is to the question and by how much it beats the next note (sentence
vectors), whether the word search agrees, how much of the question's words it holds
(counted in full only where the note exists in the asker's language), and whether the
question names something — a product, a command, a version — that the note never
mentions in any language.

The weights are learned by `bench/calibrate.py` from the dev questions turned into
answerable, cross-language and near-miss cases (a held-out split reports how it
generalises) and stored in `data/gate.json`; two models, one for when the sentence
vectors are on and one for lexical search alone. The output is a probability that
the answer is right: the engine answers above `min_confidence`.
"""
from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, fields
from functools import lru_cache
from pathlib import Path

GATE_FILE = Path(__file__).with_name("data") / "gate.json"


@dataclass(frozen=True)
class Evidence:
    """What is known about the best-ranked note for one question (every field about that note)."""

    dense: float = 0.0  # cosine of its closest row with the question (0 without vectors)
    dense_margin: float = 0.0  # that cosine minus the best of any other note
    dense_first: float = 0.0  # 1 when it is also the sentence vectors' own first note
    dense_z: float = 0.0  # how far its cosine stands above the next notes' (z-score among the top 20)
    dense_section: float = 0.0  # cosine of its closest section (its title left out): is the detail there?
    lexical: float = 0.0  # its word-search score over the best word-search score (0..1)
    lexical_first: float = 0.0  # 1 when it is the word search's own first note
    lexical_confidence: float = 0.0  # the word search's confidence in it (coverage, margin, strength)
    coverage: float = 0.0  # weighted share of the question's words found in it
    missing_names: float = 0.0  # names in the question other notes mention and it does not (0, 1 or 2 for more)
    unknown_names: float = 0.0  # names in the question no note mentions (0, 1 or 2 for more)
    names: float = 0.0  # names in the question (0, 1 or 2 for more)
    translated: float = 0.0  # 1 when it exists in the asker's language

    def vector(self) -> tuple[float, ...]:
        """The fields, then products with `translated`: words found weigh more where the note is
        in the asker's language, meaning more where it is not."""
        other = 1.0 - self.translated
        return (*astuple(self), self.lexical_confidence * self.translated, self.coverage * self.translated,
                self.dense * other, self.dense_margin * other, self.dense_section * other)


FEATURES: tuple[str, ...] = (*(f.name for f in fields(Evidence)), "lexical_confidence_translated",
                             "coverage_translated", "dense_untranslated", "dense_margin_untranslated",
                             "dense_section_untranslated")


@dataclass(frozen=True)
class Gate:
    """p(right) = sigmoid(bias + Σ weight·feature)."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector()))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict) -> Gate:
        by_name = dict(zip(data["features"], data["weights"]))
        # A feature the file does not know weighs nothing: an older file still loads.
        return cls(tuple(float(by_name.get(name, 0.0)) for name in FEATURES), float(data["bias"]))


@lru_cache(maxsize=1)
def gates() -> dict[str, Gate]:
    """{"hybrid": …, "lexical": …} from data/gate.json."""
    data = json.loads(GATE_FILE.read_text(encoding="utf-8"))
    return {name: Gate.from_json(model) for name, model in data["models"].items()}


def gate_for(dense: bool) -> Gate:
    return gates()["hybrid" if dense else "lexical"]
