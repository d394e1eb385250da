"""Helpers shared by the exercise-checker tests (tests/test_exercises_*.py)."""
from __future__ import annotations

import pytest
import torch


def rejected(question, answer, *phrases: str) -> None:
    """Assert that ``question`` rejects ``answer`` and that its message names the mistake (``phrases``)."""
    verdict = question.check(answer, quiet=True)
    assert not verdict, f"{question.name} accepted a wrong answer"
    for phrase in phrases:
        assert phrase in verdict.message, f"{question.name}: {phrase!r} not in {verdict.message!r}"


def solution_of(question, **names):
    """The one object (a function, or an ``answer``) that the question's shown solution code defines,
    run with ``names`` (e.g. ``torch=torch``) already imported: ``Question.reference``."""
    return question.reference(**names)


def checker_tests(questions, solution, none_phrases=("None",), numeric=()):
    """The three tests every exercise module gets: the shown solution is accepted; a stub, a crash and a
    ``None`` answer get a verdict (not an exception), the last one naming the problem (any of
    ``none_phrases``; not asked of the ``numeric`` questions, whose answer is a number, not a function);
    and checking leaves the global random state alone."""
    ids = [q.name for q in questions]

    @pytest.mark.parametrize("question", questions, ids=ids)
    def test_shown_solution_is_accepted(question):
        verdict = question.check(solution(question), quiet=True)
        assert verdict, verdict.message

    @pytest.mark.parametrize("question", questions, ids=ids)
    def test_stub_and_crash_give_a_verdict_not_an_exception(question):
        assert not question.check(None, quiet=True)
        assert not question.check(..., quiet=True)
        if question in numeric:
            return

        def crashes(*args):
            raise ZeroDivisionError("boom")

        verdict = question.check(crashes, quiet=True)
        assert not verdict and "ZeroDivisionError" in verdict.message
        verdict = question.check(lambda *args: None, quiet=True)
        assert not verdict and any(p in verdict.message for p in none_phrases), verdict.message

    def test_checkers_leave_the_global_rng_alone():
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        for question in questions:
            question.check(solution(question), quiet=True)
        torch.testing.assert_close(torch.rand(3), expected)

    return (test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
            test_checkers_leave_the_global_rng_alone)
