"""What a long run's news weighs on its way from a Dask worker to the app, with and without the app's count.

    .venv/bin/python benchmarks/dask_news.py [--epochs 100]

A run on a worker sends its news (status, epochs, iteration curve, progress) through the scheduler about
five times a second. The iteration curve grows by up to 200 points an epoch (results.POINTS_PER_EPOCH):
a 100-epoch run's is 20,000. Side by side in one run, on all of MNIST, the linear preset for `--epochs`
epochs on a `LocalCluster` of 1 worker (as the README's "Past one machine" starts one):

- *the app's count*: what the app ships, the app telling the worker with each heartbeat how many finished
  points it holds, and the worker sending only the rest;
- *the whole curve*: the app never telling its count (RemotePauseControl.hold_points a no-op), so every
  news carries the whole curve, as before the count existed.

For each: the news the app read, the largest one and all of them together (pickled bytes), the run's
wall time, and whether the app's curve at the end equals the run's saved iterations.csv.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_long_run(config, dataset, executor) -> dict:
    """Train `config` on the cluster; the sizes of the news the app read, the wall time, the curve's check."""
    import pickle

    from mnist_core import dask_executor
    from mnist_core.jobs import TrainingJob
    from mnist_core.runs import load_run

    sizes: list[int] = []

    class MeasuringPickle:  # the module's pickle, counting what the app unpickles (only news is pickled there)
        @staticmethod
        def loads(data):
            sizes.append(len(data))
            return pickle.loads(data)

        dumps = staticmethod(pickle.dumps)

    dask_executor.pickle = MeasuringPickle
    try:
        started = time.perf_counter()
        job = TrainingJob(config, dataset, workspace="news", executor=executor).start()
        assert job.join(1800)
        wall = time.perf_counter() - started
    finally:
        dask_executor.pickle = pickle
    snapshot = job.snapshot()
    assert str(snapshot.status) == "completed", snapshot.message
    saved = load_run(snapshot.run_id, workspace="news").iterations()
    same = [point.iteration for point in snapshot.iterations] == [point.iteration for point in saved]
    return {"news": len(sizes), "largest": max(sizes), "total": sum(sizes), "wall": wall, "points": len(saved),
            "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    arguments = parser.parse_args()

    os.environ["MNIST_LAB_RUNS_DIR"] = tempfile.mkdtemp(prefix="dask-news-")
    from distributed import LocalCluster

    from mnist_core import TrainConfig, load_mnist
    from mnist_core.dask_executor import DaskExecutor, RemotePauseControl

    dataset = load_mnist()
    config = dataclasses.replace(TrainConfig.for_model("linear"), epochs=arguments.epochs)
    print(f"linear preset, {config.epochs} epochs, batch {config.batch_size}, all of MNIST; a LocalCluster of 1 worker",
          flush=True)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, resources={"training_slot": 1},
                           preload=["mnist_core.dask_worker"], host="127.0.0.1", dashboard_address=":0")
    executor = DaskExecutor(cluster.scheduler_address)
    executor.connect()
    hold_points = RemotePauseControl.hold_points
    try:
        results = {}
        for way in ("the app's count", "the whole curve"):
            RemotePauseControl.hold_points = hold_points if way == "the app's count" else lambda self, count: None
            results[way] = figures = one_long_run(config, dataset, executor)
            print(f"  {way:16}: {figures['news']:4} news read, largest {figures['largest'] / 1024:7.1f} KiB, all "
                  f"{figures['total'] / 2**20:6.1f} MiB; run {figures['wall']:5.1f} s; {figures['points']} points, "
                  f"the app's curve {'equals' if figures['same'] else 'DIFFERS FROM'} iterations.csv", flush=True)
    finally:
        RemotePauseControl.hold_points = hold_points
        executor.close()
        cluster.close()
    count, whole = results["the app's count"], results["the whole curve"]
    print(f"\nside by side: largest news {whole['largest'] / count['largest']:.0f}x smaller, all news "
          f"{whole['total'] / count['total']:.0f}x less, with the app's count")


if __name__ == "__main__":
    main()
