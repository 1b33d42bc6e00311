"""What does measuring the runs folder for the disk quotas cost, on a server with thousands of runs?

    .venv/bin/python benchmarks/disk_usage.py [--runs 5000]

A browser-started run checks its workspace's quota and the server's before it starts, and again at
every epoch end (runs.DiskUsage). This makes `--runs` finished run folders shaped like the app's (a
linear run of 5 epochs: config.json, run.json, metrics.csv, iterations.csv, six 31 KB checkpoints
with weights.npz a hard link to the last, two TensorBoard event files), dated an hour ago, in two
layouts: 50 workspaces of a hundred runs each (a class over a term), and one run in each of as many
workspaces (a script opening tab after tab). For each it prints, in milliseconds:

- the first measurement of the server (every run folder walked once: a server that just started);
- a check before a run starts (the workspace's quota, then the server's), once that is done;
- the same check after one more run folder was added to the workspace (a run just finished);
- a full walk without the cache, for comparison (what every check cost without it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core.runs import DiskUsage, check_disk_quotas, disk_usage, run_folder_bytes

FILES = {"config.json": 900, "run.json": 300, "metrics.csv": 1200, "iterations.csv": 30_000}
CHECKPOINT_BYTES = 31_000
EPOCHS = 5
AN_HOUR_AGO = time.time() - 3600


def make_run(folder: Path) -> None:
    (folder / "checkpoints").mkdir(parents=True)
    for name, size in FILES.items():
        (folder / name).write_bytes(b"x" * size)
    for epoch in range(EPOCHS + 1):
        (folder / "checkpoints" / f"epoch-{epoch:04d}.npz").write_bytes(b"w" * CHECKPOINT_BYTES)
    os.link(folder / "checkpoints" / f"epoch-{EPOCHS:04d}.npz", folder / "weights.npz")
    for part in ("train", "validation"):
        (folder / "tensorboard" / part).mkdir(parents=True)
        (folder / "tensorboard" / part / "events.out.tfevents.1.host.1.0.v2").write_bytes(b"e" * 2000)
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO), follow_symlinks=False)


def make_runs_folder(root: Path, runs: int, workspaces: int) -> None:
    for index in range(runs):
        workspace = root / f"workspace-{index % workspaces:05d}"
        (workspace / ".locks").mkdir(parents=True, exist_ok=True)
        make_run(workspace / f"20261201-120000-linear-{index:08x}")
    for path in [root, *root.iterdir()]:
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))


def milliseconds(action, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def full_walk(root: Path) -> int:
    return sum(run_folder_bytes(run)[0] for workspace in root.iterdir() if not workspace.name.startswith(".")
               for run in workspace.iterdir() if not run.name.startswith("."))


def measure(runs: int, workspaces: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "runs"
        make_runs_folder(root, runs, workspaces)
        os.environ["MNIST_LAB_RUNS_DIR"] = str(root)
        disk_usage.__init__()  # a server that just started: nothing remembered
        first = milliseconds(lambda: disk_usage.server_bytes(root), repeats=1)
        workspace = "workspace-00000"
        check = milliseconds(lambda: check_disk_quotas(workspace, root))
        make_run(root / workspace / "20261201-130000-linear-ffffffff")
        after_a_run = milliseconds(lambda: check_disk_quotas(workspace, root))
        walk = milliseconds(lambda: full_walk(root), repeats=3)
        assert DiskUsage().server_bytes(root) == disk_usage.server_bytes(root) == full_walk(root)
        print(f"{runs:,} runs in {workspaces:,} workspaces ({disk_usage.server_bytes(root) / 2**20:,.0f} MB): "
              f"first measurement {first:,.0f} ms, check before a run {check:,.1f} ms, "
              f"the same after a new run {after_a_run:,.1f} ms; a full walk {walk:,.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    arguments = parser.parse_args()
    os.environ.setdefault("MNIST_LAB_WORKSPACE_DISK_MB", "300")
    os.environ["MNIST_LAB_SERVER_DISK_MB"] = "1000000"  # measured, never refused
    measure(arguments.runs, workspaces=50)
    measure(arguments.runs, workspaces=arguments.runs)


if __name__ == "__main__":
    main()
