"""Is the gate's limit its model or its evidence? Other classifiers on the same calibration cases.

Reads bench/out/calibration.csv (written by `python -m bench.calibrate`), fits each model on
one side of its note split and scores the other side, both ways, as calibrate.py's held-out
rows do, and prints found/rejected per case kind at one threshold. The shipped gate is the
logistic model; if a model with interactions (boosted trees, a small neural network) did much
better on the same evidence, the gate's form would be what to change.

Needs scikit-learn, which the bot does not depend on:

    pip install scikit-learn
    python -m bench.calibrate            # writes bench/out/calibration.csv
    python -m bench.gate_models [--threshold 0.4] [--corpus blog]
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np

CASES = Path(__file__).parent / "out" / "calibration.csv"
KINDS = ("asked", "leave-translation-out", "leave-note-out", "leave-fact-out")


def load(path: Path, corpus: str) -> tuple[np.ndarray, np.ndarray, list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["corpus"] == corpus]
    features = [name for name in rows[0] if name.startswith("hybrid_")] if rows else []
    x = np.array([[float(row[name]) for name in features] for row in rows])
    y = np.array([int(row["label"]) for row in rows])
    return x, y, rows


def models() -> dict[str, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic (the gate's form)": make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=3000)),
        "boosted trees, depth 2": HistGradientBoostingClassifier(max_depth=2, learning_rate=0.05, max_iter=200,
                                                                 l2_regularization=1.0),
        "boosted trees, depth 3": HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=200,
                                                                 l2_regularization=1.0),
        "random forest": RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0),
        "neural network, 16 units": make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), alpha=1.0,
                                                                                  max_iter=3000, random_state=0)),
    }


def held_out(model: object, x: np.ndarray, y: np.ndarray, rows: list[dict[str, str]],
             threshold: float) -> Counter:
    """right/total per "kind/found|rejected", each side scored by a model fitted on the other
    (leave-fact-out cases are scored, never fitted on, as in calibrate.py)."""
    from sklearn.base import clone

    side = np.array([row["side"] for row in rows])
    fitted_on = np.array([row["kind"] != "leave-fact-out" for row in rows])
    tally: Counter = Counter()
    for train, test in (("A", "B"), ("B", "A")):
        fitted = clone(model).fit(x[(side == train) & fitted_on], y[(side == train) & fitted_on])
        chosen = np.flatnonzero(side == test)
        answered = fitted.predict_proba(x[chosen])[:, 1] >= threshold
        for i, said in zip(chosen.tolist(), answered.tolist()):
            want = bool(rows[i]["expect"])
            right = (said and y[i] == 1) if want else not said
            name = f"{rows[i]['kind']}/{'found' if want else 'rejected'}"
            tally[name + "/n"] += 1
            tally[name + "/ok"] += int(right)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=0.4)
    parser.add_argument("--corpus", default="blog", help='"blog" or "blog+tldr"')
    args = parser.parse_args(argv)
    try:
        candidates = models()
    except ImportError:
        print("needs scikit-learn: pip install scikit-learn", file=sys.stderr)
        return 2
    if not CASES.exists():
        print(f"{CASES} is missing: run python -m bench.calibrate first", file=sys.stderr)
        return 2
    x, y, rows = load(CASES, args.corpus)
    columns = [f"{kind}/{what}" for kind in KINDS for what in ("found", "rejected")
               if any(row["kind"] == kind and bool(row["expect"]) == (what == "found") for row in rows)]
    print(f"Held-out rates over {args.corpus} at threshold {args.threshold} ({len(rows)} cases)\n")
    print("| model | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, model in candidates.items():
        tally = held_out(model, x, y, rows, args.threshold)
        print(f"| {name} | " + " | ".join(f"{tally[c + '/ok']}/{tally[c + '/n']}" for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
