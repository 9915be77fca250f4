"""Errors that reach the user as one clear message (never a deep stack trace)."""


class LotteryError(Exception):
    """Base class: the command line prints the message and exits non-zero."""


class ConfigError(LotteryError):
    """A config value is unknown, out of range or contradicts stored results."""


class DataError(LotteryError):
    """A dataset is missing, truncated or corrupt."""


class StoreError(LotteryError):
    """Stored experiment state is unreadable or locked."""


class CorruptFileError(StoreError):
    """A stored file fails its checksum or cannot be parsed."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path} is corrupt ({reason}); delete it and rerun to recompute it.")
        self.path = path


class TrainingError(LotteryError):
    """Training diverged (NaN or inf loss); the last checkpoint is left intact."""
