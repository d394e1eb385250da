"""The helpers the errata pages share (aigc_course.errata_checks)."""
import pytest
import torch

from aigc_course import losses
from aigc_course.errata_checks import CheckRecord, accuracy, entry_number, error_of, fit_logistic_d


def test_error_of_returns_the_error_and_refuses_code_that_runs(capsys):
    exc = error_of(lambda: torch.ones(2) @ torch.ones(3))
    assert isinstance(exc, RuntimeError) and "RuntimeError" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="ran without an error"):
        error_of(lambda: 1 + 1)


def test_record_and_entry_order():
    record = CheckRecord()
    record.passed("E101", "E99")
    assert record.checked == {"E101", "E99"}
    assert sorted(record.checked, key=entry_number) == ["E99", "E101"]


def test_fitted_discriminator_is_the_optimal_one_for_two_gaussians():
    gen = torch.Generator().manual_seed(0)
    real = 1.0 + torch.randn(20_000, generator=gen, dtype=torch.float64)
    fake = -1.0 + torch.randn(20_000, generator=gen, dtype=torch.float64)
    wb = fit_logistic_d(real, fake, loss_fn=losses.gan_d_loss)
    # D*(x) = p/(p+q) = sigmoid(2x) for N(1,1) against N(-1,1)
    torch.testing.assert_close(wb, torch.tensor([2.0, 0.0], dtype=torch.float64), atol=0.08, rtol=0)
    assert 0.8 < accuracy(wb, real, fake) < 0.86        # Phi(1) = 0.841
