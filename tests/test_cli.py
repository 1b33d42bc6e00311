"""`python -m mnist_core`: real MNIST, the classic output format.

The commands run in this process through `cli.main(argv)` (a new Python process per call would
spend seconds importing TensorFlow each time); one smoke test runs the real `python -m mnist_core`.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.runs import run_folders

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EPOCH_LINE = re.compile(r"^epoch=\s*(\d+), train_loss=(\d+\.\d{4}), train_acc=(\d\.\d{4}), "
                        r"val_loss=(\d+\.\d{4}), val_acc=(\d\.\d{4}), seconds=(\d+\.\d\d)$")


@pytest.mark.slow
def test_train_prints_one_classic_line_per_epoch_and_saves_the_run(runs_root, run_cli):
    completed = run_cli("train", "--model", "linear", "--epochs", "2", "--batch-size", "100", "--learning-rate", "0.01",
                        "--optimizer", "adam", "--evaluate-test")
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
    (["tensorboard", "--workspace", "../elsewhere"], "not a valid workspace name"),
])
def test_bad_arguments_give_one_line_and_exit_code_2(runs_root, run_cli, arguments, words):
    completed = run_cli(*arguments)
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert words in completed.stderr
    assert not runs_root.exists() or not any(runs_root.iterdir())


@pytest.mark.parametrize("command", [[], ["train"], ["runs"], ["fetch"], ["tensorboard"]])
def test_every_help_page_prints_and_exits_0(run_cli, command):
    """The README sends newcomers to `train --help`: argparse formats help with %, so a '%' in a reason must not crash it."""
    completed = run_cli(*command, "--help")
    assert completed.returncode == 0 and completed.stderr == ""
    assert "usage: python -m mnist_core" in completed.stdout
    if command == ["train"]:
        assert "+-0.3%" in completed.stdout and "--learning-rate" in completed.stdout


@pytest.mark.slow
def test_runs_lists_saved_runs(run_cli):
    assert run_cli("train", "--epochs", "1").returncode == 0
    completed = run_cli("runs")
    assert completed.returncode == 0
    assert re.search(r"shared\s+linear\s+completed\s+1 epoch\(s\), best epoch 1: val_acc=0\.9\d{3}", completed.stdout)


def test_tensorboard_writes_the_event_files_of_runs_saved_without_them(runs_root, run_cli, sample_dataset):
    from mnist_core import TrainConfig, train_and_record
    from mnist_core.exports import TENSORBOARD_FOLDER
    from mnist_core.results import RunStatus
    from mnist_core.runs import start_run

    trained = train_and_record(TrainConfig(epochs=2, batch_size=50), sample_dataset, runs_root=runs_root)
    list(trained)
    events = trained.recorder.folder / TENSORBOARD_FOLDER
    shutil.rmtree(events)  # as a run saved before runs wrote them
    untrained = start_run(TrainConfig(), runs_root, workspace="class-b")
    untrained.finish(RunStatus.STOPPED, "Stopped before the first epoch ended.", None)

    completed = run_cli("tensorboard")
    assert completed.returncode == 0 and completed.stderr == ""
    assert f"{trained.run_id}: wrote 2 epochs and" in completed.stdout
    assert f"{untrained.run_id}: no finished epoch, nothing to write." in completed.stdout
    assert f"tensorboard --logdir {runs_root / 'shared'}" in completed.stdout  # never runs/: it would list every workspace
    assert len(list((events / "train").glob("events.out.tfevents.*"))) == 1
    assert len(list((events / "validation").glob("events.out.tfevents.*"))) == 1

    only_one_workspace = run_cli("tensorboard", "--workspace", "class-b")
    assert trained.run_id not in only_one_workspace.stdout and untrained.run_id in only_one_workspace.stdout
    assert f"tensorboard --logdir {runs_root / 'class-b'}" in only_one_workspace.stdout


@pytest.mark.slow
def test_the_real_command_runs_as_a_module_and_reports_a_mistake_in_one_line(runs_root):
    """One real `python -m mnist_core` process: the entry point, the exit code and stderr as a user sees them."""
    environment = {**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root)}

    def python_m(*arguments):
        return subprocess.run([sys.executable, "-m", "mnist_core", *arguments], cwd=PROJECT_ROOT, env=environment,
                              capture_output=True, text=True, timeout=600)

    listed = python_m("runs")
    assert listed.returncode == 0 and listed.stderr == ""
    assert "No runs yet" in listed.stdout
    refused = python_m("train", "--epochs", "0")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == ["python -m mnist_core train: error: epochs must be a whole number between 1 and 1000 (got 0)."]


@pytest.mark.slow
def test_the_commands_that_do_not_train_never_load_tensorflow(runs_root):
    """fetch, runs and a usage error answer at once: TensorFlow (seconds to import) is only loaded to train."""
    code = ("import sys; from mnist_core import cli\n"
            "for argv in (['runs'], ['fetch'], ['train', '--epochs', '0']):\n"
            "    try: cli.main(argv)\n"
            "    except SystemExit: pass\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
                               env={**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root)})
    assert completed.stdout.splitlines()[-1] == "False False", completed.stderr
