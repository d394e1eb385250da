"""Helpers shared by the exercise-checker tests (tests/test_exercises_*.py)."""


def rejected(question, answer, *phrases: str) -> None:
    """Assert that ``question`` rejects ``answer`` and that its message names the mistake (``phrases``)."""
    verdict = question.check(answer, quiet=True)
    assert not verdict, f"{question.name} accepted a wrong answer"
    for phrase in phrases:
        assert phrase in verdict.message, f"{question.name}: {phrase!r} not in {verdict.message!r}"
