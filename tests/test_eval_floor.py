"""Regression guard: answer quality on the shared dev questions stays above the agreed floors.

Runs the real command line through ../shared/eval/score.py, exactly as a reviewer would.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
QUESTIONS = SHARED / "eval" / "questions_dev.yaml"
SCORER = SHARED / "eval" / "score.py"
CORPUS = SHARED / "corpus" / "blog"


@pytest.mark.skipif(not (QUESTIONS.exists() and CORPUS.exists()), reason="../shared is not beside the checkout")
def test_dev_questions_meet_the_floors() -> None:
    done = subprocess.run(
        [sys.executable, str(SCORER), str(QUESTIONS),
         "--min-found", "0.92", "--min-rejected", "0.80", "--min-language", "0.95", "--min-contains", "0.85",
         "--", sys.executable, "-m", "bot", "ask", "--json", "--notes", str(CORPUS)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
