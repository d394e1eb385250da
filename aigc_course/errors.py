"""Errors the course expects and explains (the CLI prints them without a traceback)."""


class CourseError(RuntimeError):
    """Base class: an expected problem whose message says what to do."""


class DataError(CourseError):
    """A data set could not be found, read or verified."""


class DataNotFoundError(DataError):
    """No copy of a data set anywhere we looked, and downloading was impossible or forbidden."""


class ChecksumError(DataError):
    """A file's SHA-256 differs from the known one (the file is moved aside, never used)."""


class IDXFormatError(DataError):
    """A file is not a valid IDX array (bad magic number, wrong size, truncated)."""


class CheckpointError(CourseError):
    """A checkpoint or weights file is missing, tampered with or does not match the model."""


class TrainingDiverged(CourseError):
    """Losses became NaN/Inf; the last good checkpoint is kept."""


class Interrupted(KeyboardInterrupt):
    """Training stopped on a signal (Ctrl-C, SIGTERM, SIGHUP) after saving a checkpoint (or, on a second
    signal, at once); the CLI exits with 128 + ``signum`` (130 for Ctrl-C, 143 for SIGTERM)."""

    def __init__(self, message: str = "", signum: int = 2):
        super().__init__(message)
        self.signum = signum
