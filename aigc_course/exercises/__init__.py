"""Exercises with automatic checks, hints and hidden solutions (in the style of Kaggle's learntools).

Each chapter module (``aigc_course.exercises.ch2`` ...) defines ``Question`` objects::

    from aigc_course.exercises import ch2
    ch2.q1.check(my_value_function)   # prints a verdict, returns True/False, never raises
    ch2.q1.hint()
    ch2.q1.solution()

A checker compares the learner's answer with the reference on fresh random inputs and recognises the
common wrong answers (the ones the source articles print) to say *what* is wrong.
"""
from __future__ import annotations

import inspect
import os
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
from IPython.display import Markdown, display

__all__ = ["Question", "Verdict", "close", "judge", "as_tensor", "CheckFailed"]


class CheckFailed(AssertionError):
    """Raised inside a checker to reject an answer with an explanation."""


@dataclass
class Verdict:
    """The result of a check: truthy when correct; shown once in a notebook, however it is returned."""

    ok: bool
    message: str
    shown: bool = False

    def __bool__(self) -> bool:
        return self.ok

    def text(self) -> str:
        return ("✅ **Correct.** " if self.ok else "❌ **Not yet.** ") + self.message

    def _ipython_display_(self) -> None:
        # check() displays the verdict itself; when the same object is then returned as the cell's
        # value, IPython calls this again: show it only once.
        if not self.shown:
            self.shown = True
            display(Markdown(self.text()))


@dataclass
class Question:
    """One exercise: ``checker(answer)`` raises ``CheckFailed`` (or AssertionError) to reject."""

    name: str
    prompt: str
    checker: Callable[[Any], str | None]
    hints: list[str] = field(default_factory=list)
    solution_code: str = ""
    _hint_index: int = 0

    def check(self, answer: Any, quiet: bool = False) -> Verdict:
        """Check ``answer``; print the verdict (unless ``quiet``) and return it (truthy when correct)."""
        if answer is None or answer is Ellipsis:
            verdict = Verdict(False, "no answer yet: replace the `...` with your code.")
        else:
            try:
                # a check never moves the learner's random state (building a layer to compare with draws
                # its initial weights from the global generator): the notebook's next cell sees the same
                # numbers whether or not an exercise was checked
                with torch.random.fork_rng(devices=[]):
                    note = self.checker(answer)
                verdict = Verdict(True, note or "")
            except NotImplementedError:
                verdict = Verdict(False, "the function still raises NotImplementedError: fill it in.")
            except (CheckFailed, AssertionError) as err:
                verdict = Verdict(False, str(err) or "the answer does not match the reference.")
            except Exception as err:  # the learner's code crashed: show where, do not stop the notebook
                tb = traceback.format_exception_only(type(err), err)[-1].strip()
                verdict = Verdict(False, f"your code raised `{tb}`.")
        if not quiet:
            display(verdict)
        return verdict

    def hint(self) -> None:
        """Show the next hint (they get more specific)."""
        if not self.hints:
            display(Markdown("No hint for this one: re-read the section above."))
            return
        text = self.hints[min(self._hint_index, len(self.hints) - 1)]
        self._hint_index += 1
        display(Markdown(f"💡 **Hint:** {text}"))

    def solution(self) -> None:
        """Show the reference solution (not in the student edition: ``AIGC_EDITION=student``)."""
        if os.environ.get("AIGC_EDITION") == "student":
            display(Markdown(f"The solution of {self.name} is not part of the student edition: ask your teacher, "
                             "or try `.hint()` again."))
            return
        display(Markdown(f"**Solution ({self.name})**\n\n```python\n{self.solution_code.strip()}\n```"))

    def reference(self, **names: Any) -> Any:
        """The object the reference solution defines (a function, or a value such as ``answer``), without
        showing its code: the student edition uses it where a later cell needs the reference. ``names``
        are made importable to the solution code (torch, math, numpy as np, F and scipy's linprog are already)."""
        import math

        import numpy as np
        import torch.nn.functional as F
        from scipy.optimize import linprog

        given = {"torch": torch, "math": math, "np": np, "F": F, "linprog": linprog, **names}
        namespace = dict(given)
        exec(self.solution_code, namespace)
        defined = [v for k, v in namespace.items() if k not in given and k != "__builtins__"
                   and not inspect.ismodule(v) and not inspect.isclass(v)
                   and not (inspect.isroutine(v) and v.__module__ is not None)]
        if len(defined) != 1:
            raise RuntimeError(f"{self.name}: the reference solution defines {len(defined)} objects, not one")
        return defined[0]


def close(actual, expected, *, atol: float = 1e-5, rtol: float = 1e-4, what: str = "value") -> None:
    """Raise ``CheckFailed`` unless two numbers/tensors agree (shapes included)."""
    a = torch.as_tensor(actual, dtype=torch.float64)
    e = torch.as_tensor(expected, dtype=torch.float64)
    if a.shape != e.shape:
        raise CheckFailed(f"the {what} has shape {tuple(a.shape)}, expected {tuple(e.shape)}.")
    if not torch.allclose(a, e, atol=atol, rtol=rtol, equal_nan=False):
        err = (a - e).abs().max().item()
        raise CheckFailed(f"the {what} is off by up to {err:.3g} from the reference.")


def as_tensor(value, what: str) -> torch.Tensor:
    """The learner's answer as a float64 tensor; ``CheckFailed`` (not a crash) when it cannot be one."""
    if value is None:
        raise CheckFailed(f"your function returned None for the {what}: did you forget `return`?")
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckFailed(f"the {what} should be a number or a tensor, got {type(value).__name__} ({err}).")


def judge(actual, expected: torch.Tensor, wrong: Mapping[str, torch.Tensor], what: str,
           atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Accept ``actual`` if it matches ``expected``; otherwise name the first known wrong answer it equals."""
    a = as_tensor(actual, what)
    e = expected.to(torch.float64)

    def same(x: torch.Tensor, y: torch.Tensor) -> bool:
        y = y.to(torch.float64)
        return x.shape == y.shape and bool(torch.allclose(x, y, atol=atol, rtol=rtol))

    if same(a, e):
        return
    for message, value in wrong.items():
        if same(a, value):
            raise CheckFailed(message)
    if not torch.isfinite(a).all():
        raise CheckFailed(f"the {what} contains inf or nan; look for log(0) or a division by zero.")
    close(a, e, atol=atol, rtol=rtol, what=what)


# --------------------------------------------------------------------------------------------------
# Exercise kinds. Every page has at least two exercises whose answer is not on the page, of these kinds
# (named in the exercise's title); tests/test_exercise_kinds.py checks it.
# --------------------------------------------------------------------------------------------------
KINDS = ("predict", "apply", "investigate", "debug")


def prediction(name: str, prompt: str, measure: Callable[[], float], *, rel_tol: float = 0.0,
               abs_tol: float = 0.0, explanation: str = "", wrong: Mapping[str, float] | None = None,
               unit: str = "", hints: list[str] | None = None, solution_code: str = "") -> Question:
    """A *predict* exercise: the learner writes down a number before running the experiment.

    ``measure()`` computes the measured value (it is called at check time and cached, so the answer
    is nowhere on the page before the learner commits to one). A prediction within ``abs_tol +
    rel_tol * |measured|`` is accepted. Either way the verdict shows both numbers and the
    ``explanation``; a prediction close to one of the ``wrong`` values (the usual wrong reasoning ->
    the number it leads to) names that reasoning.
    """
    if rel_tol <= 0 and abs_tol <= 0:
        raise ValueError(f"{name}: give rel_tol or abs_tol, the band a prediction must fall in")
    cache: dict[str, float] = {}

    def measured() -> float:
        if "value" not in cache:
            cache["value"] = float(measure())
        return cache["value"]

    def checker(answer) -> str:
        value = as_tensor(answer, "prediction")
        if value.numel() != 1:
            raise CheckFailed("a prediction is one number: write it down, e.g. `answer = 0.5`.")
        guess, truth = value.item(), measured()
        band = abs_tol + rel_tol * abs(truth)
        both = f"You predicted {guess:.4g}{unit}; the measured value is {truth:.4g}{unit}."
        if abs(guess - truth) <= band:
            return f"{both} {explanation}".strip()
        for message, wrong_value in (wrong or {}).items():
            if abs(guess - wrong_value) <= band and abs(wrong_value - truth) > band:
                raise CheckFailed(f"{both} {message}")
        raise CheckFailed(f"{both} (Within ±{band:.3g}{unit} counts.) {explanation}".strip())

    return Question(name=name, prompt=prompt, checker=checker, hints=list(hints or []),
                    solution_code=solution_code)
