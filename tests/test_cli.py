"""`python -m mnist_core`: real processes, real MNIST, the classic output format."""

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.runs import run_folders

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EPOCH_LINE = re.compile(r"^epoch=\s*(\d+), train_loss=(\d+\.\d{4}), train_acc=(\d\.\d{4}), "
                        r"val_loss=(\d+\.\d{4}), val_acc=(\d\.\d{4}), seconds=(\d+\.\d\d)$")


def run_cli(*arguments, runs_root):
    environment = {**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root)}
    return subprocess.run([sys.executable, "-m", "mnist_core", *arguments], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_train_prints_one_classic_line_per_epoch_and_saves_the_run(runs_root):
    completed = run_cli("train", "--model", "linear", "--epochs", "2", "--batch-size", "100", "--learning-rate", "0.01",
                        "--optimizer", "adam", "--evaluate-test", runs_root=runs_root)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    lines = completed.stdout.splitlines()
    epoch_lines = [EPOCH_LINE.match(line) for line in lines if line.startswith("epoch=")]
    assert len(epoch_lines) == 2 and all(epoch_lines)
    # Every printed value sits next to its own label: compare with the metrics saved under those names.
    (run_folder,) = run_folders(runs_root)
    with open(run_folder / "metrics.csv") as file:
        saved = list(csv.DictReader(file))
    for match, row in zip(epoch_lines, saved, strict=True):
        epoch, train_loss, train_acc, val_loss, val_acc, _ = match.groups()
        assert int(epoch) == int(row["epoch"])
        for printed, name in [(train_loss, "train_loss"), (train_acc, "train_acc"), (val_loss, "val_loss"), (val_acc, "val_acc")]:
            assert printed == f"{float(row[name]):.4f}", name
    test_line = next(line for line in lines if line.startswith("test_loss="))
    test_acc = float(re.search(r"test_acc=(\d\.\d{4})", test_line).group(1))
    assert test_acc > 0.90


@pytest.mark.parametrize("arguments, words", [
    (["train", "--epochs", "0"], "epochs"),
    (["train", "--epochs", "many"], "--epochs"),
    (["train", "--model", "transformer"], "model"),
    (["train", "--learning-rate", "-1"], "learning_rate"),
    (["train", "--train-subset-size", "50", "--batch-size", "100"], "batch size"),
    (["train", "--no-such-flag"], "unrecognized"),
    (["launch"], "invalid choice"),
    (["train", "--workspace", "../elsewhere"], "not a valid workspace name"),
    (["runs", "--workspace", "a/b"], "not a valid workspace name"),
])
def test_bad_arguments_give_one_line_and_exit_code_2(runs_root, arguments, words):
    completed = run_cli(*arguments, runs_root=runs_root)
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert words in completed.stderr
    assert not runs_root.exists() or not any(runs_root.iterdir())


def test_runs_lists_saved_runs(runs_root):
    assert run_cli("train", "--epochs", "1", runs_root=runs_root).returncode == 0
    completed = run_cli("runs", runs_root=runs_root)
    assert completed.returncode == 0
    assert re.search(r"shared\s+linear\s+completed\s+1 epoch\(s\), best epoch 1: val_acc=0\.9\d{3}", completed.stdout)
