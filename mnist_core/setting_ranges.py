"""What the sidebar lets a student choose for each setting: one table, read by the sidebar's widgets
(ui/settings.py) and by a link for students (share_links.py), so a link can never carry a value the
sidebar does not offer.

TrainConfig.validate bounds what a run may be at all, the command line's bigger models and longer runs
included. These are the classroom's narrower ranges, a fact of their own, so they have a module of
their own rather than a place in config.py: the sidebar's ends are chosen for a shared server and a
lesson, not for what the maths allows.
"""

from __future__ import annotations

import dataclasses
import math

from .config import DATASET_NAMES, MODEL_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES


@dataclasses.dataclass(frozen=True)
class SettingRange:
    """The values one widget of the sidebar offers.

    `choices`: a select box's options or a select slider's stops, in the order shown. With
    `between_choices`, any value from the lowest choice to the highest is allowed too: the sidebar shows
    a value a preset set between its stops (a model's learning rate, say) as one more stop. Without
    choices: a slider from `minimum` to `maximum` in steps of `step` (whole numbers where the ends are)."""

    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    between_choices: bool = False

    @property
    def numbers(self) -> list:
        """The numbers that bound this range: its numeric choices, or its slider's ends."""
        if self.choices:
            return [choice for choice in self.choices if isinstance(choice, (int, float)) and not isinstance(choice, bool)]
        return [self.minimum, self.maximum]

    @property
    def whole_numbers(self) -> bool:
        return bool(self.numbers) and all(isinstance(number, int) for number in self.numbers)

    def allows(self, value) -> bool:
        if self.choices:
            if value in self.choices:
                return True
            return self.between_choices and isinstance(value, (int, float)) and min(self.numbers) <= value <= max(self.numbers)
        if not isinstance(value, (int, float)) or not self.minimum <= value <= self.maximum:
            return False
        steps = (value - self.minimum) / self.step
        return math.isclose(steps, round(steps), abs_tol=1e-6)


LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (1, 8, 16, 32, 64, 100, 128, 256, 512, 1024, 4096)
SUBSET_SIZES = (100, 300, 500, 1000, 2000, 5000, 10000, 20000, None)  # None: all of the training part
L2_STRENGTHS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)

# Every setting the sidebar shows, in its order. The tuples are shared by every session on the server,
# so nothing changes them (ui/settings.py's `with_value` makes a new list for a draw).
SETTING_RANGES = {
    "dataset": SettingRange(choices=DATASET_NAMES),
    "model": SettingRange(choices=MODEL_NAMES),
    "hidden_units": SettingRange(choices=(16, 32, 64, 128, 256, 512, 1024)),
    "hidden_layers": SettingRange(minimum=1, maximum=4, step=1),
    "cnn_filters": SettingRange(choices=(4, 8, 16, 32, 64)),
    "dropout": SettingRange(minimum=0.0, maximum=0.8, step=0.05),
    "l2": SettingRange(choices=L2_STRENGTHS),
    "optimizer": SettingRange(choices=OPTIMIZER_NAMES),
    "learning_rate": SettingRange(choices=LEARNING_RATES, between_choices=True),
    "learning_rate_schedule": SettingRange(choices=SCHEDULE_NAMES),
    "momentum": SettingRange(minimum=0.0, maximum=0.99, step=0.01),
    "epochs": SettingRange(minimum=1, maximum=100, step=1),
    "batch_size": SettingRange(choices=BATCH_SIZES, between_choices=True),
    "early_stopping_patience": SettingRange(minimum=0, maximum=20, step=1),
    "validation_fraction": SettingRange(minimum=0.05, maximum=0.5, step=0.05),
    "train_subset_size": SettingRange(choices=SUBSET_SIZES),
    "label_noise": SettingRange(minimum=0.0, maximum=0.8, step=0.05),
    "seed": SettingRange(minimum=0, maximum=2**31 - 1, step=1),
    "augment_shift": SettingRange(minimum=0.0, maximum=4.0, step=0.5),
    "augment_rotation": SettingRange(minimum=0.0, maximum=30.0, step=5.0),
    "augment_scale": SettingRange(minimum=0.0, maximum=0.3, step=0.05),
    "augment_thickness": SettingRange(minimum=0.0, maximum=1.0, step=0.25),
    "augment_flip": SettingRange(minimum=0.0, maximum=0.5, step=0.1),
}

