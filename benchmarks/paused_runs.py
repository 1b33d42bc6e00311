"""What paused runs hold of a classroom server's memory: eight students' runs paused at once.

    .venv/bin/python benchmarks/paused_runs.py [--runs 8]

Each run is the Train page's default (the linear model on all 54,000 training digits), started as a
browser starts it (a TrainingJob in a workspace of its own, through the training slots), paused
before its first step and stepped one batch, so it has made its data and rests. The process's
resident memory (VmRSS) is read before, while all of them rest, and after they are all stopped.

Side by side, each in a fresh process: "as before", a resting run keeps its copy of the data (the
split and TensorFlow's copy of its training part), as the app did before; "now", it lets go of it
while it rests and makes it again when it goes on (training.Training._let_go_of_data).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def resident_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def measure(runs: int, keep_data: bool) -> None:
    from mnist_core import TrainConfig, load_mnist, train
    from mnist_core.heavy_work import give_back_freed_memory
    from mnist_core.jobs import TrainingJob, TrainingSlots
    from mnist_core.training import Training

    if keep_data:
        Training._let_go_of_data = lambda self: None  # what the app did before: the data stays while it rests
    dataset = load_mnist()
    list(train(TrainConfig(epochs=1, train_subset_size=1000), dataset))  # TensorFlow warmed up: not a figure of paused runs
    gc.collect()
    give_back_freed_memory()
    before = resident_mib()
    slots, jobs = TrainingSlots(1), []
    for number in range(runs):
        job = TrainingJob(TrainConfig(seed=number), dataset, slots=slots, workspace=f"student-{number:02d}")
        job.pause()
        job.step_batch()
        jobs.append(job.start())
    deadline = time.monotonic() + 300
    while not all(job.snapshot().pause_seconds_left is not None and job.snapshot().step == 1 for job in jobs):
        assert time.monotonic() < deadline, "the runs did not all come to rest"
        time.sleep(0.2)
    gc.collect()
    resting = resident_mib()
    for job in jobs:
        job.stop()
    for job in jobs:
        job.join(60)
    del jobs
    gc.collect()
    give_back_freed_memory()
    after = resident_mib()
    label = "as before (data kept)" if keep_data else "now (data let go)"
    print(f"{label:>22}: {before:5.0f} MiB before, {resting:5.0f} MiB with {runs} runs resting "
          f"(+{(resting - before) / runs:4.0f} MiB a run), {after:5.0f} MiB after stopping them (+{after - before:4.0f})",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--keep-data", action="store_true", help=argparse.SUPPRESS)  # one measurement, in this process
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        with tempfile.TemporaryDirectory() as runs_root:
            os.environ["MNIST_LAB_RUNS_DIR"] = runs_root
            measure(arguments.runs, arguments.keep_data)
        return
    print(f"{arguments.runs} default linear runs on all of MNIST, paused after one batch step", flush=True)
    for keep_data in (True, False):  # each in a fresh process, so neither inherits the other's memory
        subprocess.run([sys.executable, __file__, "--one", "--runs", str(arguments.runs)] + (["--keep-data"] if keep_data else []),
                       check=True)


if __name__ == "__main__":
    main()
