"""What Replay of the biggest CNN costs a classroom server's memory: one student, then four at once.

    .venv/bin/python benchmarks/replay_memory.py

The biggest CNN the Train page's sliders make (64 filters, a 1,024-unit dense layer, 6.5 M parameters)
is trained for 2 epochs on 100 digits, as the issue's trial did, into four workspaces (one run each,
so no student's page finds another's frames already computed). Then, for each setting, a fresh
`streamlit run` serves it and headless Chromium opens Replay: one page alone, then four pages at
once, then four more (their own runs again: what is left after the second four says whether memory
grows with every page or only once). The server's resident memory (VmRSS) is sampled every 0.1 s:
reported are its rise at the peak over the memory before each round, and what is left 10 s after
the pages closed (has it been given back?).

The settings side by side, each on its own fresh server:
- "as before": measuring batches of 2,000 digits (MNIST_LAB_EVALUATION_MEMORY_MB large enough) and
  no turns (MNIST_LAB_HEAVY_WORK_AT_ONCE=100), which is what the app did before the budget;
- "budgeted": the defaults (64 MB of layer outputs a batch, two heavy jobs at once).
Freed memory is handed back to the system (malloc_trim) after heavy work in both.
Goal (issue 24): under +300 MiB for each page, and returned afterwards.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from mnist_core import TrainConfig, load_mnist, train_and_record
from mnist_core.runs import new_workspace
from tests.app_server import CHROMIUM, CHROMIUM_FLAGS, open_workspace_page, running_app

BIGGEST_CNN = TrainConfig(model="cnn", cnn_filters=64, hidden_units=1024, epochs=2, batch_size=50, train_subset_size=100)
SETTINGS = {"as before": {"MNIST_LAB_EVALUATION_MEMORY_MB": "100000", "MNIST_LAB_HEAVY_WORK_AT_ONCE": "100"},
            "budgeted": {}}
STUDENTS = 4
SETTLE_SECONDS = 10


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc: this script measures memory on Linux only")


class PeakSampler:
    """The highest VmRSS of a process, sampled every 0.1 s while in use."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, resident_mib(self.pid))
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exception):
        self._stop.set()
        self._thread.join()


def replay(browser, url: str, workspaces: list[str]) -> float:
    """Open Replay in each workspace at once (a page each), wait until every page shows its twenty
    digits and confusion matrix; seconds until the last one did."""
    from playwright.sync_api import expect

    started = time.perf_counter()
    contexts = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in workspaces]
    pages = [context.new_page() for context in contexts]
    ready_after = []
    for page, workspace in zip(pages, workspaces):
        open_workspace_page(page, url, workspace, "Replay")
    for page in pages:
        expect(page.get_by_text("Validation confusion matrix")).to_be_visible(timeout=300_000)
        ready_after.append(time.perf_counter() - started)
    for context in contexts:
        context.close()
    return max(ready_after)


def measure(browser, runs_root: Path, log: Path, workspaces: list[str], environment: dict) -> dict:
    with running_app(runs_root, log, **environment) as (server, url):
        open_workspace_page(browser.new_page(), url, workspaces[0], "Train")  # TensorFlow imported, MNIST loaded
        time.sleep(2)
        idle = resident_mib(server.pid)
        result = {}
        rounds = (("alone", workspaces[:1]), ("four at once", workspaces[1:1 + STUDENTS]),
                  ("four more", workspaces[1 + STUDENTS:]))
        for label, chosen in rounds:
            before = resident_mib(server.pid)
            with PeakSampler(server.pid) as sampler:
                seconds = replay(browser, url, chosen)
            time.sleep(SETTLE_SECONDS)
            result[label] = {"before": before, "peak": sampler.peak - before, "left": resident_mib(server.pid) - before,
                             "seconds": seconds, "pages": len(chosen)}
        result["idle"] = idle
        return result


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=300_000)  # the first visit imports TensorFlow; four pages share two cores
    dataset = load_mnist()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        print(f"Replay of the biggest CNN ({BIGGEST_CNN.cnn_filters} filters, {BIGGEST_CNN.hidden_units} units), "
              f"2 epochs on 100 digits; each page replays its own run", flush=True)
        for label, environment in SETTINGS.items():
            runs_root = Path(folder) / label.replace(" ", "-")
            workspaces = [new_workspace(runs_root) for _ in range(1 + 2 * STUDENTS)]
            for workspace in workspaces:
                list(train_and_record(BIGGEST_CNN, dataset, runs_root=runs_root, workspace=workspace, name="big-cnn"))
            result = measure(browser, runs_root, Path(folder) / f"{label}.log", workspaces, environment)
            for case in ("alone", "four at once", "four more"):
                figures = result[case]
                print(f"{label:>9}, {case:>12}: server {figures['before']:5.0f} MiB before, peak +{figures['peak']:5.0f} MiB "
                      f"(+{figures['peak'] / figures['pages']:4.0f} a page), +{figures['left']:5.0f} MiB left "
                      f"{SETTLE_SECONDS} s after; pages ready in {figures['seconds']:.1f} s", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
