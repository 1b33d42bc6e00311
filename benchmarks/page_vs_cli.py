"""Does the dashboard slow training down? The same config trained from the Train page and from the CLI.

    .venv/bin/python benchmarks/page_vs_cli.py

For the linear model and the CNN it trains the Train page's preset twice from the command line
(`python -m mnist_core train`) and twice from the page, in a real `streamlit run` driven by headless
Chromium that keeps the page open (so the live charts and progress bar poll the run throughout). The
figure compared is the run's own training time: the sum of its epochs' seconds as saved in
metrics.csv. Runs alternate CLI, page, CLI, page so that drift on the machine hits both. The
target is a page run at most 10% slower than the CLI run.
"""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from mnist_core import TrainConfig
from mnist_core.runs import run_folders
from tests.app_server import CHROMIUM, CHROMIUM_FLAGS, open_train_page, running_app

MODEL_LABELS = {"linear": "Linear (softmax of xW + b)", "cnn": "CNN (convolutions)"}


def training_seconds(runs_root: Path) -> float:
    """Total epoch seconds of the newest run in `runs_root`."""
    newest = max(run_folders(runs_root), key=lambda folder: folder.stat().st_mtime)
    with open(newest / "metrics.csv") as file:
        return sum(float(row["seconds"]) for row in csv.DictReader(file))


def run_cli(model: str, epochs: int, runs_root: Path) -> float:
    subprocess.run([sys.executable, "-m", "mnist_core", "train", "--model", model, "--epochs", str(epochs)],
                   cwd=PROJECT_ROOT, env={**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root)}, check=True,
                   stdout=subprocess.DEVNULL)
    return training_seconds(runs_root)


def run_page(page, url: str, model: str, epochs: int, runs_root: Path) -> float:
    from playwright.sync_api import expect

    open_train_page(page, url)
    page.get_by_role("combobox", name="Model", exact=True).click()
    page.get_by_role("option", name=MODEL_LABELS[model]).click()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(f"Finished all {epochs} epoch(s).")).to_be_visible(timeout=600_000)
    return training_seconds(runs_root)


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # the first visit imports TensorFlow and verifies MNIST

    with tempfile.TemporaryDirectory() as folder:
        cli_root, page_root = Path(folder) / "cli-runs", Path(folder) / "page-runs"
        cli_root.mkdir()
        with running_app(page_root, Path(folder) / "server.log") as (_, url):
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for model in ("linear", "cnn"):
                    epochs = TrainConfig.for_model(model).epochs  # the preset the page loads
                    cli_seconds, page_seconds = [], []
                    for _ in range(2):
                        cli_seconds.append(run_cli(model, epochs, cli_root))
                        page_seconds.append(run_page(page, url, model, epochs, page_root))
                    cli, from_page = statistics.mean(cli_seconds), statistics.mean(page_seconds)
                    print(f"{model} ({epochs} epochs): CLI {cli:.2f} s, page {from_page:.2f} s of training "
                          f"(runs: CLI {', '.join(f'{s:.2f}' for s in cli_seconds)}; page {', '.join(f'{s:.2f}' for s in page_seconds)}); "
                          f"page/CLI = {from_page / cli:.3f}", flush=True)
                browser.close()


if __name__ == "__main__":
    main()
