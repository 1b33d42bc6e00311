"""Which arithmetic a run computes in: float32, or mixed bfloat16 where the CPU multiplies bfloat16 itself.

Mixed bfloat16 (Keras' "mixed_bfloat16" policy) keeps every weight, the logits and the loss in float32
and computes the layers' products in bfloat16, 16-bit floats with float32's range and 8 bits of
precision. A CPU with native bfloat16 instructions (`avx512_bf16`, or Intel's AMX tiles, `amx_bf16`)
does twice the multiply-adds a cycle in bfloat16; one without them emulates it, slower than float32.
So the path is chosen per machine, from /proc/cpuinfo, and only for the model where it was measured to
win (benchmarks/training_speed.py, on a 2-core AMD EPYC with avx512_bf16): the CNN's training epoch at
its preset's batch of 128, 1.26x and 1.65x as fast in two runs, to the same validation accuracy within a
few hundredths of a point. The linear model and the MLP wait on memory more than on multiplication, and
stay float32.

A run records the path it took (run.json's "precision"), and every model rebuilt from it (Exam,
Inside, Replay, its downloaded .keras file) computes the same way, so its numbers are the run's own.
The same seed on the same path gives the same numbers; on the other path they differ by rounding.

This module needs no TensorFlow: the runs' reader and the pages read it.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

FLOAT32 = "float32"
MIXED_BFLOAT16 = "mixed_bfloat16"
PRECISIONS = (FLOAT32, MIXED_BFLOAT16)

NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
BFLOAT16_MODELS = frozenset({"cnn"})  # where it was measured to win (see the module's docstring)

# Set to float32 or mixed_bfloat16 to choose the path for every model on this server (the tests try
# both paths on any machine); unset or "auto": chosen per machine as above.
PRECISION_VARIABLE = "MNIST_LAB_PRECISION"


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The first processor's flags in /proc/cpuinfo (none where there is no such file)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively."""
    return bool(cpu_flags() & NATIVE_BFLOAT16_FLAGS)


def machine_precision(model: str) -> str:
    """The path a new run of `model` takes on this machine: MNIST_LAB_PRECISION if set to a path, else
    mixed bfloat16 for the models it wins on where the CPU has native bfloat16, else float32."""
    chosen = os.environ.get(PRECISION_VARIABLE, "auto").strip()
    if chosen in PRECISIONS:
        return chosen
    if chosen not in ("", "auto"):
        warn_of_unknown_precision(chosen)
    return MIXED_BFLOAT16 if model in BFLOAT16_MODELS and native_bfloat16() else FLOAT32


@functools.cache
def warn_of_unknown_precision(chosen: str) -> None:
    """Log a wrong MNIST_LAB_PRECISION once per value, not once per run the server starts."""
    logger.warning("%s=%r is not one of auto, %s: chosen per machine instead", PRECISION_VARIABLE, chosen,
                   ", ".join(PRECISIONS))
