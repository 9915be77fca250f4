"""Which IMP level each epoch of one long `model.fit` trains, and where each level starts.

`LotteryTicket` runs every level inside one `fit`: level `i` of the run takes
epochs `[i * epochs_per_level, (i + 1) * epochs_per_level)`. A trunk's level 0
trains from step 0 and every later level from the rewind step k; a control
(reinit) trains every level from step 0. Each level takes the same number of
optimizer steps, so a rewound level ends at step k + epochs_per_level * steps
per epoch (the command line ends every level at `train_steps` instead).
"""
import dataclasses

from lottery_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class LevelPlan:
    """The levels one `fit` trains, in order.

    Attributes:
      first_level: the IMP level of the run's first level (0 for a trunk, 1 for a control).
      last_level: the IMP level of its last level.
      epochs_per_level: `fit` epochs per level.
      rewind_step: the step levels after the first start at (0 for a control).
    """

    first_level: int
    last_level: int
    epochs_per_level: int
    rewind_step: int = 0

    def __post_init__(self):
        if self.epochs_per_level < 1:
            raise ConfigError(f"epochs_per_level must be >= 1, got {self.epochs_per_level}.")
        if self.last_level < self.first_level:
            raise ConfigError(f"levels must be >= {self.first_level}, got {self.last_level}.")

    @property
    def level_count(self) -> int:
        return self.last_level - self.first_level + 1

    @property
    def total_epochs(self) -> int:
        """The `epochs=` to pass to `fit`."""
        return self.level_count * self.epochs_per_level

    def level_of(self, epoch: int) -> int:
        """The IMP level `fit`'s epoch `epoch` (0-based) trains."""
        return self.first_level + epoch // self.epochs_per_level

    def starts_level(self, epoch: int) -> bool:
        return epoch % self.epochs_per_level == 0

    def ends_level(self, epoch: int) -> bool:
        return epoch % self.epochs_per_level == self.epochs_per_level - 1

    def first_epoch(self, level: int) -> int:
        return (level - self.first_level) * self.epochs_per_level

    def start_step(self, level: int) -> int:
        """The global step a level's training starts at (its learning rate and data position)."""
        return self.rewind_step if level > self.first_level else 0
