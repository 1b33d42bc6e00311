"""How many of a run's checkpoints are kept, and which go first when they do not all fit."""

from __future__ import annotations

import math

# Every epoch's weights, for looking back at how a run learned: epoch 0 (the random start) and each
# finished epoch, up to MAX_CHECKPOINTS and CHECKPOINT_BUDGET_BYTES a run (weights.npz is a hard link
# to the last, so it costs nothing more). The linear model's 31 KB keep all of a 100-epoch run; a
# default MLP (1.1 MB) keeps 29; the sliders' biggest CNN (26 MB) its last alone. Beyond the bound the
# run is thinned (`checkpoints_to_drop`): the last always stays, and the best while early stopping may
# restore it; then the best and the random start if they fit, then as many others as fit. The random
# start needs no file to come back: it is rebuilt from the run's seed (SavedRun.checkpoint_weights).
MAX_CHECKPOINTS = 101
CHECKPOINT_BUDGET_BYTES = 32 * 1024 * 1024


def checkpoint_limit(checkpoint_bytes: int) -> int:
    """How many checkpoints of this size fit the budget (at most MAX_CHECKPOINTS). It can be 0 (a
    model bigger than the budget, from the command line): the ones that must stay stay all the same."""
    return min(MAX_CHECKPOINTS, CHECKPOINT_BUDGET_BYTES // max(checkpoint_bytes, 1))


def checkpoints_to_drop(epochs: list[int], keep: set[int], limit: int, rather_keep: tuple[int, ...] = ()) -> list[int]:
    """Which checkpoints to delete so that at most `limit` remain, never one of `keep`.

    First the others, never the newest: each time the one whose neighbours are closest on a
    logarithmic scale of epochs, so the ones left are dense where a model changes most, in its first
    epochs, and sparser later (a 40-epoch run kept to 29 checkpoints keeps every epoch up to 18, then
    about every other one). Only then those of `rather_keep`, the last named first (pass the random
    start last: it is rebuilt from the seed, so it is the cheapest to lose)."""
    epochs, dropped = sorted(epochs), []
    spared = set(keep) | set(rather_keep)
    while len(epochs) > limit:
        others = [index for index in range(len(epochs) - 1) if epochs[index] not in spared]
        if others:
            index = min(others, key=lambda index: (math.log1p(epochs[index + 1]) - math.log1p(epochs[index - 1] if index else 0),
                                                   -epochs[index]))
        else:
            wanted_least = [epoch for epoch in reversed(rather_keep) if epoch in epochs and epoch not in keep]
            if not wanted_least:
                break
            index = epochs.index(wanted_least[0])
        dropped.append(epochs.pop(index))
    return dropped
