"""Regression guard: answer quality on the shared dev questions stays above the agreed floors.

Runs the real command line through ../shared/eval/score.py, exactly as a reviewer would.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
QUESTIONS = SHARED / "eval" / "questions_dev.yaml"
QUESTIONS_2 = SHARED / "eval" / "questions_dev2.yaml"
SCORER = SHARED / "eval" / "score.py"
CORPUS = SHARED / "corpus" / "blog"


# The figures measured when the floors were last set, less a question or two of slack (dev's rejected has none:
# its 12 unanswerable questions move it by 0.08 each, so the floor is the figure itself). Issue 17, second stop
# (names' case learned outside code and sentence starts; unknown words of a lower-case question read as names;
# the gate also fitted on the cross-language tldr questions, 0.15 of its weight): dev 0.864 / 0.833 / 1.000 /
# 0.842, dev2 0.790 / 0.533 / 1.000 / 0.696. Rejected fell by one question on each file and found by one, for
# tldr xlang 0.553 -> 0.630 (bench/calibrate.py, XLANG_SHARE).
FLOORS = {
    QUESTIONS: {"found": 0.85, "rejected": 0.83, "language": 0.95, "contains": 0.82},
    QUESTIONS_2: {"found": 0.76, "rejected": 0.50, "language": 0.95, "contains": 0.65},
}


@pytest.mark.slow
@pytest.mark.xdist_group("blog")  # one worker, one after the other: the first embeds the blog, the rest reuse it
@pytest.mark.skipif(not (QUESTIONS.exists() and CORPUS.exists()), reason="../shared is not beside the checkout")
@pytest.mark.parametrize("questions", list(FLOORS), ids=lambda path: path.stem)
def test_dev_questions_meet_the_floors(questions: Path, shared_state: Path) -> None:
    floors = FLOORS[questions]
    done = subprocess.run(
        [sys.executable, str(SCORER), str(questions),
         *(arg for name, floor in floors.items() for arg in (f"--min-{name}", str(floor))),
         "--", sys.executable, "-m", "bot", "ask", "--json", "--notes", str(CORPUS)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "XDG_STATE_HOME": str(shared_state)},  # the bot's index cache, shared by this run
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
