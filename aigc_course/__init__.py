"""aigc_course: the shared package of the AIGC course (GANs, VAEs and the maths behind them).

``import aigc_course as ac``; chapters show the idea, this package holds the plumbing.
"""
from . import config, runtime
from .config import GANConfig, TrainConfig, VAEConfig
from .runtime import autocast, describe, device, profile, set_seed

__version__ = "0.1.0"
