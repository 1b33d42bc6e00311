"""The set-up of a Dask worker that trains MNIST Lab's runs: `dask worker ... --preload mnist_core.dask_worker`.

It imports TensorFlow and the training code when the worker starts, so no run pays for it (15-20 s on a
2-core machine), and each worker keeps its compiled trainers (trainers.py) from one run to the next.

It also gives glibc's allocator back the thresholds it reaches by itself in a plain process. Dask's
nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536, to return freed memory to the system soon;
set that way, glibc also stops raising its mmap threshold, so every tensor over 128 KiB that a training
step allocates is a fresh mmap, its pages zeroed again, step after step. A linear epoch took 0.6-0.8 s
on a worker against 0.3-0.4 s in the app's own process, and the CNN preset 2.3x as long
(benchmarks/dask_executor.py); with these thresholds the worker trains as fast as the app.
"""

import ctypes
import ctypes.util
import logging

from . import training  # noqa: F401  (imported for its side effect: TensorFlow loaded once per worker)

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # where glibc's dynamic threshold stops growing (64-bit)
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES  # what glibc sets beside it as it grows


def use_glibc_thresholds_of_a_plain_process() -> bool:
    """Set glibc's mmap and trim thresholds as a plain process reaches them; False where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc (macOS, musl): its allocator is not the one Dask's setting slows
        return False


if not use_glibc_thresholds_of_a_plain_process():
    logger.info("glibc's malloc thresholds were left as they are: no glibc here")
