"""A classroom at once: N browser sessions train together against one `streamlit run`.

    .venv/bin/python benchmarks/classroom_load.py [--sessions 1 5 10]

For each N it starts a fresh server (so each N's memory is its own), opens N headless Chromium
sessions, names a run in each and presses Train in all of them within a second or two (the default
linear model, 5 epochs on all 54,000 training digits). While they train and queue, a new visitor
keeps opening the app and its Train page: that is the page load time a late student sees.
Reported per N:

- page load time while trainings run (landing page, then Train page; median and worst), next to
  the same visit on the idle server just before: the ratio is what the trainings cost a visitor;
- peak server memory (the server's VmHWM, resident high-water mark);
- each session's time from pressing Train to "Finished" (the queue shows in it), as seen between
  two visits of the late visitor (so to within about 3 s);
- runs finished and runs lost: a session's run counts as finished only if its own workspace holds
  exactly its one run, completed with every epoch. Lost must be 0.

Bounded: at most 10 sessions (one Chromium, one context each) and 10 minutes per N.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from mnist_core import TrainConfig
from mnist_core.executors import default_slot_count
from mnist_core.runs import list_runs
from tests.app_server import CHROMIUM, CHROMIUM_FLAGS, open_train_page, running_app, workspace_of

MOST_SESSIONS = 10
TIME_LIMIT_SECONDS = 600
EPOCHS = TrainConfig().epochs  # the Train page's default run


def peak_memory_mib(pid: int) -> float:
    """The process's resident high-water mark (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc: this script measures memory on Linux only")


def timed_visit(page, url: str) -> float:
    """Seconds to open the app and go to its Train page, as a student would."""
    start = time.perf_counter()
    open_train_page(page, url)
    return time.perf_counter() - start


def measure(browser, sessions: int, folder: Path) -> dict:
    runs_root = folder / f"runs-{sessions}"
    with running_app(runs_root, folder / f"server-{sessions}.log") as (server, url):
        open_train_page(browser.new_page(), url)  # the first visit imports TensorFlow and loads MNIST: not a classroom figure
        visitor = browser.new_context()

        def late_visit() -> float:
            visitor_page = visitor.new_page()
            seconds = timed_visit(visitor_page, url)
            visitor_page.close()
            return seconds

        idle_times = [late_visit() for _ in range(3)]
        students = []
        for number in range(sessions):
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            open_train_page(page, url)
            name = f"student-{number + 1}"
            page.get_by_role("textbox", name="Run name (optional)").fill(name)
            page.get_by_role("textbox", name="Run name (optional)").press("Enter")
            students.append((page, name))
        started = {}
        for page, name in students:
            page.get_by_role("button", name="Train", exact=True).click()
            started[name] = time.perf_counter()

        # A late visitor opens the app again and again until every run has ended.
        load_times = []
        finished_at = {}
        deadline = time.monotonic() + TIME_LIMIT_SECONDS
        while len(finished_at) < sessions and time.monotonic() < deadline:
            load_times.append(late_visit())
            for page, name in students:
                if name not in finished_at and page.get_by_text(f"Finished all {EPOCHS} epoch(s).").count():
                    finished_at[name] = time.perf_counter()
        peak = peak_memory_mib(server.pid)
        workspaces = {name: workspace_of(page) for page, name in students}
        for page, _ in students:
            page.context.close()
        visitor.close()

    finished = 0
    for name, workspace in workspaces.items():
        runs, damaged = list_runs(runs_root, workspace=workspace)
        if not damaged and [(run.name, run.status, len(run.history)) for run in runs] == [(name, "completed", EPOCHS)]:
            finished += 1
    waits = [finished_at[name] - started[name] for name in finished_at]
    return {"sessions": sessions, "finished": finished, "lost": sessions - finished, "peak_mib": peak,
            "idle_median": statistics.median(idle_times), "load_median": statistics.median(load_times), "load_worst": max(load_times), "loads": len(load_times),
            "train_median": statistics.median(waits) if waits else float("nan"), "train_worst": max(waits, default=float("nan"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10])
    arguments = parser.parse_args()
    if max(arguments.sessions) > MOST_SESSIONS or min(arguments.sessions) < 1:
        parser.error(f"sessions must be between 1 and {MOST_SESSIONS}")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=120_000)  # ten sessions on two cores: a page may take a while
    print(f"training slots: {default_slot_count()}; each session trains the default linear model, {EPOCHS} epochs", flush=True)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for sessions in arguments.sessions:
            result = measure(browser, sessions, Path(folder))
            print(f"N={result['sessions']:2d}: page load while training median {result['load_median']:.2f} s, "
                  f"worst {result['load_worst']:.2f} s ({result['loads']} loads), idle {result['idle_median']:.2f} s "
                  f"(ratio {result['load_median'] / result['idle_median']:.2f}); peak server memory {result['peak_mib']:.0f} MiB; "
                  f"Train to Finished median {result['train_median']:.1f} s, worst {result['train_worst']:.1f} s; "
                  f"runs finished {result['finished']}, lost {result['lost']}", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
