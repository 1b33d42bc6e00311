"""Does a classroom server's memory stay flat as run follows run? 100 linear runs in one process.

    .venv/bin/python benchmarks/server_memory.py [--runs 100]

A server process trains run after run for a whole lesson. Each run here goes the way a browser's
does: a TrainingJob started through the job board, in a workspace of its own (so the board keeps
each finished job, as it keeps each student's latest), on all of MNIST (one epoch of the linear
model), saved to a temporary runs folder. Like a class, the runs change what students change most:
the learning rate, its schedule, the batch size and the seed. The process's resident memory (VmRSS) is read
after each run; the figure that matters is the growth after the first 5 runs, once TensorFlow has
settled its allocator: it must stay within 20 MiB over the remaining runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core import TrainConfig, load_mnist
from mnist_core.jobs import JobBoard, TrainingJob

GROWTH_BUDGET_MIB = 20
SETTLING_RUNS = 5


def resident_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    runs = parser.parse_args().runs
    dataset = load_mnist()
    board = JobBoard()
    with tempfile.TemporaryDirectory() as runs_root:
        os.environ["MNIST_LAB_RUNS_DIR"] = runs_root
        started, memory = time.perf_counter(), {}
        for number in range(1, runs + 1):
            workspace = f"student-{number:03d}"
            config = TrainConfig(epochs=1, seed=number, learning_rate=(0.001, 0.003, 0.01, 0.03)[number % 4],
                                 batch_size=(100, 50, 200)[number % 3], learning_rate_schedule=("constant", "cosine")[number % 2])
            activity = board.start(workspace, "run",
                                   lambda config=config, workspace=workspace: [TrainingJob(config, dataset, workspace=workspace)])
            activity.jobs[0].join()
            assert activity.jobs[0].snapshot().status == "completed", activity.jobs[0].snapshot().message
            gc.collect()
            memory[number] = resident_mib()
            if number in (1, SETTLING_RUNS, 10, 25, 50, 75, 100) or number == runs:
                print(f"after run {number:3d}: {memory[number]:7.0f} MiB resident", flush=True)
        growth = memory[runs] - memory[SETTLING_RUNS]
        print(f"{runs} runs in {time.perf_counter() - started:.0f} s; growth after the first {SETTLING_RUNS} runs: "
              f"{growth:+.1f} MiB ({'within' if growth <= GROWTH_BUDGET_MIB else 'OVER'} the {GROWTH_BUDGET_MIB} MiB budget)")


if __name__ == "__main__":
    main()
