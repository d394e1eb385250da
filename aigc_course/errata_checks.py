"""Helpers shared by the errata pages' checks (``chapters/appendix/errata*.py``).

Each page records the entries whose check passed (``record = CheckRecord()``, then
``record.passed("E05")``), runs an article's failing code with :func:`error_of`, and for the
discriminator claims fits a 1-D logistic discriminator with :func:`fit_logistic_d`.
"""
from __future__ import annotations

from typing import Callable

import torch

from . import losses

__all__ = ["CheckRecord", "error_of", "entry_number", "fit_logistic_d", "accuracy"]


class CheckRecord:
    """The entries whose checks have passed on one page."""

    def __init__(self) -> None:
        self.checked: set[str] = set()

    def passed(self, *ids: str) -> None:
        """Record that the checks of the entries ``ids`` have passed."""
        self.checked.update(ids)
        print("passed:", ", ".join(ids))


def error_of(fn: Callable[[], object]) -> Exception:
    """Run ``fn`` (the article's version), print the exception it raises and return it.

    Fails if ``fn`` runs without an error, so a check built on it cannot pass by accident.
    """
    try:
        fn()
    except Exception as exc:  # we want to show whatever torch raises, exactly as it says it
        print(f"{type(exc).__name__}: {exc}")
        return exc
    raise AssertionError("the article's version ran without an error")


def entry_number(entry: str) -> int:
    """"E101" -> 101, so that E101 sorts after E99."""
    return int(entry[1:])


def fit_logistic_d(real: torch.Tensor, fake: torch.Tensor, loss_fn=losses.gan_d_loss,
                   init: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """(w, b) of D(x) = sigmoid(w x + b) minimising ``loss_fn`` (by default the GAN discriminator
    loss) on 1-D samples, starting from ``init``, by L-BFGS in float64."""
    wb = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([wb], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(wb[0] * real + wb[1], wb[0] * fake + wb[1])
        loss.backward()
        return loss

    opt.step(closure)
    return wb.detach()


def accuracy(wb: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> float:
    """Accuracy of D(x) = sigmoid(w x + b) at telling ``real`` from ``fake`` (threshold 1/2)."""
    d_real, d_fake = torch.sigmoid(wb[0] * real + wb[1]), torch.sigmoid(wb[0] * fake + wb[1])
    return 0.5 * ((d_real > 0.5).double().mean() + (d_fake < 0.5).double().mean()).item()
