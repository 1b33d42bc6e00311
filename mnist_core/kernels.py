"""Which kernel library TensorFlow computes with: oneDNN, or TensorFlow's own (Eigen).

TensorFlow turns oneDNN on by itself only where the CPU has the newer neural-network instructions
(AVX-512 VNNI or bfloat16, AVX-VNNI, AMX). On a CPU with AVX2 and FMA but none of those, many
students' laptops among them, it keeps its own Eigen kernels, and there oneDNN's convolutions and
max-pooling are much faster: on a 2-core AMD EPYC with AVX2 alone, the CNN preset's training epoch
took 8.3 s with oneDNN against 14.8 s without, the linear model's 1.4-1.6x as fast; the MLP's was
0.71-0.92x as fast, though its compiled steps alone took the same time both ways
(benchmarks/kernel_libraries.py measures each model's epoch and test-set pass both ways, in fresh
processes; the README's "Training speed" has the figures). The CNN's is the long wait in a lesson, so
MNIST Lab turns oneDNN on there too.

TensorFlow reads its switch (TF_ENABLE_ONEDNN_OPTS) once, when it starts, for the whole process:
`prefer_onednn` sets it before quiet_tensorflow imports TensorFlow, unless whoever started the
server set it already (0 keeps Eigen, 1 oneDNN, whatever the processor). Both libraries compute the
same float32 maths; they round in other places, so a run's last digits may differ between two
machines (or two settings) with the same seed, never within one server.

This module needs no TensorFlow (quiet_tensorflow.onednn_enabled asks TensorFlow what it chose).
"""

from __future__ import annotations

import logging
import os

from .precision import cpu_flags

logger = logging.getLogger(__name__)

ONEDNN_SWITCH = "TF_ENABLE_ONEDNN_OPTS"
ONEDNN = "oneDNN"
EIGEN = "Eigen"

# Where TensorFlow turns oneDNN on by itself (tensorflow/core/util/util.cc, IsMKLEnabled).
TENSORFLOW_ONEDNN_FLAGS = frozenset({"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"})
# Where MNIST Lab turns it on as well: AVX2's 256-bit vectors with fused multiply-adds, what oneDNN's
# fast float32 kernels need (measured there, see the module's docstring).
ONEDNN_FLAGS = frozenset({"avx2", "fma"})


# The switch's values TensorFlow reads as yes and no (tensorflow/core/util/env_var.cc, ReadBoolFromEnvVar).
SWITCH_VALUES = {"1": ONEDNN, "true": ONEDNN, "0": EIGEN, "false": EIGEN}


def choose_kernel_library() -> str:
    """The library a new TensorFlow process on this machine computes with, once `prefer_onednn` ran."""
    switch = os.environ.get(ONEDNN_SWITCH, "").lower()
    if switch in SWITCH_VALUES:
        return SWITCH_VALUES[switch]
    flags = cpu_flags()
    return ONEDNN if flags & TENSORFLOW_ONEDNN_FLAGS or ONEDNN_FLAGS <= flags else EIGEN


def prefer_onednn() -> None:
    """Set TensorFlow's switch to `choose_kernel_library`'s choice, unless the server set it to a value TensorFlow
    reads; a value it cannot read is logged and replaced. Call before TensorFlow loads."""
    switch = os.environ.get(ONEDNN_SWITCH)
    if switch is not None and switch.lower() in SWITCH_VALUES:
        return
    if switch is not None:
        logger.warning("%s=%r is not 0 or 1: the kernels are chosen per machine instead", ONEDNN_SWITCH, switch)
    os.environ[ONEDNN_SWITCH] = "1" if choose_kernel_library() == ONEDNN else "0"
