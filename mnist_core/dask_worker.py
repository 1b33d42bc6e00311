"""The set-up of a Dask worker that trains MNIST Lab's runs: `dask worker ... --preload mnist_core.dask_worker`.

It imports TensorFlow and the training code when the worker starts, so no run pays for it (15-20 s on a
2-core machine), and each worker keeps its compiled trainers (trainers.py) from one run to the next.
"""

from . import training  # noqa: F401  (imported for its side effect: TensorFlow loaded once per worker)
