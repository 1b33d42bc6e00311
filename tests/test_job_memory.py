"""A class trains run after run on one server: a finished job must not keep its training data.

In a file of its own, away from the job tests' Dask cluster (tests/conftest.py, one per test module that
uses it): a cluster's scheduler and client, alive in this process, would be counted in its memory."""

import pytest

from mnist_core import TrainConfig
from mnist_core.jobs import TrainingJob


def resident_mib() -> float:
    from pathlib import Path

    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


@pytest.mark.slow
def test_finished_runs_do_not_keep_the_training_data_in_memory(full_dataset, runs_root):
    """A class trains run after run on one server: memory must not grow by a training set (42 MB) per run."""
    import gc

    config = TrainConfig(epochs=1, validation_fraction=0.1)
    for _ in range(2):  # warm TensorFlow up: the second run still settles its allocator; after it, memory stays flat
        TrainingJob(config, full_dataset, runs_root=runs_root).start().join()
    gc.collect()
    before = resident_mib()
    jobs = []
    for _ in range(5):  # one after another, as the class's runs come out of the queue
        jobs.append(TrainingJob(config, full_dataset, runs_root=runs_root).start())
        jobs[-1].join()
    gc.collect()
    grown = resident_mib() - before
    assert all(job.snapshot().status == "completed" and job.model is not None for job in jobs)
    assert grown < 40, f"memory grew by {grown:.0f} MiB over 5 finished runs"
