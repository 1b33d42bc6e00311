"""How fast is a class board, read by a projector every few seconds and posted to by a class at once?

    .venv/bin/python benchmarks/class_board.py [--entries 200] [--epochs 20] [--posts 40] [--rounds 5]

Runs are made in memory (a SavedRun whose curves are made up: posting reads nothing of a run's
folder), so nothing trains and TensorFlow is never loaded. In a fresh runs folder it measures:

- reading a board of `--entries` entries of `--epochs` epochs each (board(): every entry file read,
  checked and ranked), then the summaries a page draws from it (same_settings_spread,
  common_to_the_top); the median of `--rounds` reads;
- `--posts` posts at once from as many threads (a class pressing *Post* in the same second; the
  server's sessions are threads of one process): the time until all have landed, the slowest single
  post (what the last student waits), and how many are on the board afterwards;
- the same posts from 4 processes at once (the class's lock file is what keeps them apart);
- the board page drawn whole, as Streamlit's AppTest runs it (the table, the curves, the spread and what
  the top share): the median of `--rounds` page runs, AppTest's own overhead included, so an upper bound
  on what a projector waits at each refresh.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core import RunStatus, TrainConfig
from mnist_core.classes import board, common_to_the_top, new_class, post_entry, same_settings_spread
from mnist_core.results import EpochResult
from mnist_core.runs import new_workspace

PROCESSES = 4


def made_up_run(runs_root: Path, workspace: str, number: int, epochs: int):
    """A finished run as the reader returns one, its curves made up and different for each number."""
    from mnist_core.runs import SavedRun

    config = TrainConfig.for_model(("linear", "mlp", "cnn")[number % 3], epochs=epochs, seed=number % 7,
                                   learning_rate=(0.001, 0.003, 0.01)[number % 3])
    history = [EpochResult(epoch, 1.0 / epoch, min(0.99, 0.8 + 0.01 * epoch), 1.1 / epoch,
                           min(0.98, 0.78 + 0.01 * epoch + 0.0001 * number), 0.5, epoch * 100)
               for epoch in range(1, epochs + 1)]
    run_id = f"20261201-120000-{config.model}-{number:08x}"
    return SavedRun(run_id=run_id, folder=runs_root / workspace / run_id, config=config, history=history,
                    status=RunStatus.COMPLETED, message="", best_epoch=epochs, name=run_id, created=time.time())


def timed_posts(runs_root: Path, class_id: str, runs: list, prefix: str) -> tuple[float, float, int]:
    """Post every run at once from a thread each: (seconds until all landed, the slowest post, failures)."""
    start, slowest, failures = threading.Barrier(len(runs) + 1), [], []

    def post(number: int, run) -> None:
        start.wait()
        began = time.perf_counter()
        try:
            post_entry(class_id, run, f"{prefix} {number}", runs_root=runs_root)
        except Exception as error:  # noqa: BLE001 - a lost post is what this measures
            failures.append(error)
        slowest.append(time.perf_counter() - began)

    threads = [threading.Thread(target=post, args=(number, run)) for number, run in enumerate(runs)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, max(slowest), len(failures)


def post_from_a_process(arguments) -> tuple[float, float, int]:
    runs_root, class_id, workspace, first, count, epochs, go = arguments
    runs = [made_up_run(runs_root, workspace, number, epochs) for number in range(first, first + count)]
    go.wait()
    return timed_posts(runs_root, class_id, runs, f"process {first}")


def page_run_seconds(runs_root: Path, class_id: str, rounds: int) -> list[float]:
    """The seconds of each of `rounds` runs of the board page, in a session that opened the class's link."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["MNIST_LAB_RUNS_DIR"] = str(runs_root)
    app = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=300)
    app.query_params["class"] = class_id
    app.run()
    app.switch_page("pages/board.py")
    seconds = []
    for _ in range(rounds):
        began = time.perf_counter()
        app.run()
        seconds.append(time.perf_counter() - began)
        assert not app.exception and len(app.dataframe[0].value) > 0
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        runs_root = Path(folder) / "runs"
        keys = new_class("benchmark", runs_root)
        students = [new_workspace(runs_root) for _ in range(40)]
        for number in range(options.entries):
            post_entry(keys.class_id, made_up_run(runs_root, students[number % 40], number, options.epochs),
                       f"student {number}", runs_root=runs_root)
        reads, summaries = [], []
        for _ in range(options.rounds):
            began = time.perf_counter()
            shown = board(keys.class_id, runs_root)
            reads.append(time.perf_counter() - began)
            began = time.perf_counter()
            same_settings_spread(shown), common_to_the_top(shown)
            summaries.append(time.perf_counter() - began)
        assert len(shown.entries) == options.entries and not shown.problems
        print(f"board of {options.entries} entries ({options.epochs} epochs each): read in "
              f"{statistics.median(reads) * 1000:.1f} ms (median of {options.rounds}; first {reads[0] * 1000:.1f} ms), "
              f"summaries in {statistics.median(summaries) * 1000:.1f} ms")
        board_of_many = keys.class_id

        for round_number in range(options.rounds):
            keys = new_class(f"posts {round_number}", runs_root)
            runs = [made_up_run(runs_root, students[number % 40], number, options.epochs) for number in range(options.posts)]
            seconds, slowest, failures = timed_posts(runs_root, keys.class_id, runs, "student")
            landed = len(board(keys.class_id, runs_root).entries)
            print(f"{options.posts} posts at once from threads: all landed in {seconds * 1000:.0f} ms, the slowest post "
                  f"took {slowest * 1000:.0f} ms; {landed} of {options.posts} on the board, {failures} refused")

        keys = new_class("posts from processes", runs_root)
        share = options.posts // PROCESSES
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager:
            go = manager.Event()
            with context.Pool(PROCESSES) as pool:
                waiting = pool.map_async(post_from_a_process, [
                    (runs_root, keys.class_id, students[index], index * share, share, options.epochs, go)
                    for index in range(PROCESSES)])
                time.sleep(3)  # the processes start (imports) before the posts begin together
                go.set()
                results = waiting.get(timeout=300)
        landed = len(board(keys.class_id, runs_root).entries)
        print(f"{share * PROCESSES} posts at once from {PROCESSES} processes: the slowest process's posts landed in "
              f"{max(seconds for seconds, _slowest, _failures in results) * 1000:.0f} ms, the slowest post took "
              f"{max(slowest for _seconds, slowest, _failures in results) * 1000:.0f} ms; {landed} of "
              f"{share * PROCESSES} on the board, {sum(failures for *_times, failures in results)} refused")

        # Last: AppTest runs the page as __main__, after which the processes above could not find their function.
        page = page_run_seconds(runs_root, board_of_many, options.rounds)
        print(f"the board page with {options.entries} entries, drawn whole: {statistics.median(page) * 1000:.0f} ms "
              f"(median of {options.rounds} page runs under AppTest; slowest {max(page) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
