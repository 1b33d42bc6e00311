"""A class's queued runs through this server's own threads, and through a Dask cluster of 1 and 2 workers.

    .venv/bin/python benchmarks/dask_executor.py [--linear-runs 20] [--cnn-runs 4]

Side by side in one run, on all of MNIST: `--linear-runs` runs of the Train page's default (the linear
model, its preset) and `--cnn-runs` of the CNN preset, each started at once as a class of students would
press Train together (a TrainingJob in a workspace of its own), through

- the local executor, with this machine's training slots (one per two cores), as `make run` serves them;
- a Dask `LocalCluster` of 1 worker process, and of 2, each worker with one training slot and the
  worker preload, as the README's "Past one machine" starts them (here on this one machine).

For each: the wall time until the last run has finished, and the time from the first click to that
run's first epoch on the page (what the first student waits for), and the median over all runs (what a
student in the middle of the queue waits for); and how long Pause, Step one batch and Stop take from
the click to the page (on a cluster: through the scheduler to the worker and back). The clusters start before the clock does: a school
starts its workers once, not per run. Runs save to a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def class_of_runs(config, count: int, dataset, executor) -> dict:
    """Start `count` runs of `config` at once through `executor`; when each first shows an epoch, and the end."""
    from mnist_core.jobs import TrainingJob

    clicked = time.perf_counter()
    jobs = [TrainingJob(dataclasses.replace(config, seed=number), dataset, workspace=f"student-{number:02d}", executor=executor).start()
            for number in range(count)]
    first_epoch: dict[int, float] = {}
    while len(first_epoch) < count or not all(job.snapshot().finished for job in jobs):
        for number, job in enumerate(jobs):
            if number not in first_epoch and (job.snapshot().history or job.snapshot().finished):
                first_epoch[number] = time.perf_counter() - clicked
        time.sleep(0.05)
    wall = time.perf_counter() - clicked
    statuses = {str(job.snapshot().status) for job in jobs}
    assert statuses == {"completed"}, statuses
    return {"wall": wall, "first": first_epoch[0], "median": statistics.median(first_epoch.values())}


def button_latencies(dataset, executor, tries: int = 5) -> dict:
    """How long a page's Pause, Step one batch and Stop take to show on the page (median of `tries`): from the
    click until the snapshot says the run rests, has taken the step, has stopped."""
    from mnist_core import TrainConfig
    from mnist_core.jobs import TrainingJob

    def iterations(job) -> int:
        snapshot = job.snapshot()
        return (snapshot.epoch - 1) * snapshot.steps_per_epoch + snapshot.step

    def seconds_until(condition) -> float:
        started = time.perf_counter()
        while not condition():
            time.sleep(0.01)
        return time.perf_counter() - started

    pause, step, stop = [], [], []
    for number in range(tries):
        job = TrainingJob(TrainConfig(epochs=50, seed=number), dataset, workspace=f"buttons-{number}", executor=executor).start()
        seconds_until(lambda job=job: iterations(job) > 0)
        job.pause()
        pause.append(seconds_until(lambda job=job: job.snapshot().pause_seconds_left is not None))
        before = iterations(job)  # a run paused at an epoch's end steps into the next epoch
        job.step_batch()
        step.append(seconds_until(lambda job=job, before=before: iterations(job) == before + 1
                                  and job.snapshot().pause_seconds_left is not None))
        job.resume()
        seconds_until(lambda job=job: job.snapshot().pause_seconds_left is None)
        job.stop()
        stop.append(seconds_until(lambda job=job: job.snapshot().finished))
    return {"pause": statistics.median(pause), "step": statistics.median(step), "stop": statistics.median(stop)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--linear-runs", type=int, default=20)
    parser.add_argument("--cnn-runs", type=int, default=4)
    arguments = parser.parse_args()

    import os

    os.environ["MNIST_LAB_RUNS_DIR"] = tempfile.mkdtemp(prefix="dask-benchmark-")
    from distributed import LocalCluster

    from mnist_core import TrainConfig, load_mnist, train
    from mnist_core.dask_executor import DaskExecutor
    from mnist_core.executors import local_executor

    dataset = load_mnist()
    list(train(TrainConfig(epochs=1, train_subset_size=1000), dataset))  # TensorFlow warmed up in this process too
    classes = [("linear", TrainConfig.for_model("linear"), arguments.linear_runs),
               ("cnn", TrainConfig.for_model("cnn"), arguments.cnn_runs)]
    print(f"{os.cpu_count()} cores; local training slots: {local_executor.slots.count}", flush=True)
    for name, config, count in classes:
        print(f"{name}: {count} runs, {config.epochs} epochs each, batch {config.batch_size}", flush=True)

    results = {}
    for workers in (None, 1, 2):
        if workers is None:
            label, executor, cluster = "local threads", local_executor, None
        else:
            started = time.perf_counter()
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, resources={"training_slot": 1},
                                   preload=["mnist_core.dask_worker"], host="127.0.0.1", dashboard_address=":0")
            executor = DaskExecutor(cluster.scheduler_address)
            executor.connect()
            while executor.slots.count != workers:
                time.sleep(0.1)
            label = f"Dask, {workers} worker{'s' if workers > 1 else ''}"
            print(f"{label}: cluster started in {time.perf_counter() - started:.1f} s (once per school day)", flush=True)
        try:
            buttons = button_latencies(dataset, executor)
            print(f"  {label:14} buttons, click to page (median of 5): Pause {buttons['pause']:.2f} s, Step one batch "
                  f"{buttons['step']:.2f} s, Stop {buttons['stop']:.2f} s", flush=True)
            for name, config, count in classes:
                if count:
                    results[label, name] = figures = class_of_runs(config, count, dataset, executor)
                    print(f"  {label:14} {name:6}: all {count} done in {figures['wall']:6.1f} s; first epoch on the page "
                          f"after {figures['first']:5.1f} s for the first click, {figures['median']:6.1f} s median", flush=True)
        finally:
            if cluster is not None:
                executor.close()
                cluster.close()

    print("\nside by side (wall time until the class's last run finished)")
    for name, _, count in classes:
        if count:
            row = "  ".join(f"{label}: {figures['wall']:6.1f} s" for (label, kind), figures in results.items() if kind == name)
            print(f"  {name:6} x{count:<3} {row}")


if __name__ == "__main__":
    main()
