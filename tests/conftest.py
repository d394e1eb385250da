"""Shared test settings."""
import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The test models are tiny: one thread is fastest and does not fight other processes for the cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
