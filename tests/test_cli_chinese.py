"""`python -m mnist_core` under LANG=zh_CN.UTF-8: argparse's own words, the help and the mistakes read in
Chinese, the help is wrapped by display width (a Han character takes two columns), and English is unchanged.

Real processes, as a user starts them: the language comes from the environment the process starts in.
"""

import re
import subprocess
import sys
import unicodedata

import pytest

from tests.app_server import PROJECT_ROOT

COLUMNS = 80  # argparse wraps help to the terminal's width less 2
HAN = re.compile(r"[\u4e00-\u9fff]")
# argparse's English, and the English of the command line's own errors.
ARGPARSE_ENGLISH = re.compile(r"usage|options|positional arguments|show this help message|error|invalid choice|"
                              r"the following arguments are required|unrecognized arguments|argument", re.IGNORECASE)
FULL_WIDTH_CLOSING = "。，、；：？！）」』》"


def python_m(runs_root, language: str, *arguments: str, columns: int = COLUMNS) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "LANG": language, "COLUMNS": str(columns), "MNIST_LAB_RUNS_DIR": str(runs_root)}
    return subprocess.run([sys.executable, "-m", "mnist_core", *arguments], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def columns_of(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in ("W", "F") else 1 for character in line)


@pytest.mark.parametrize("command", [[], ["train"], ["fetch"], ["runs"], ["tensorboard"]])
def test_every_help_page_reads_in_chinese_and_fits_the_terminal(runs_root, command):
    completed = python_m(runs_root, "zh_CN.UTF-8", *command, "--help")
    assert completed.returncode == 0 and completed.stderr == "", completed.stderr
    text = completed.stdout
    assert text.startswith("用法：python -m mnist_core"), text
    assert ARGPARSE_ENGLISH.search(text.replace("python -m mnist_core", "")) is None, text
    lines = text.splitlines()
    assert not [line for line in lines if line.strip()[:1] in FULL_WIDTH_CLOSING and line.strip()], text
    assert not [line for line in lines if HAN.search(line) and columns_of(line) > COLUMNS - 2], text


def test_a_narrow_terminal_still_gets_chinese_help_within_its_width_and_no_orphan_punctuation(runs_root):
    columns = 52
    completed = python_m(runs_root, "zh_CN.UTF-8", "train", "--help", columns=columns)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert not [line for line in lines if HAN.search(line) and columns_of(line) > columns - 2], completed.stdout
    assert not [line for line in lines if line.strip() and line.strip()[0] in FULL_WIDTH_CLOSING], completed.stdout
    assert "±0.3%" in completed.stdout  # a % in a help text is still escaped for argparse


@pytest.mark.parametrize("arguments, kept", [
    (["launch"], "'launch'"),
    ([], "python -m mnist_core"),
    (["train", "--epochs", "many"], "--epochs"),
    (["train", "--no-such-flag"], "--no-such-flag"),
    (["train", "--epochs", "0"], "epochs"),
    (["runs", "--workspace", "a/b"], "a/b"),
])
def test_a_mistake_is_reported_in_chinese_in_one_line(runs_root, arguments, kept):
    completed = python_m(runs_root, "zh_CN.UTF-8", *arguments)
    assert completed.returncode == 2
    (line,) = completed.stderr.strip().splitlines()
    assert HAN.search(line) and kept in line, line
    assert ARGPARSE_ENGLISH.search(line.replace("python -m mnist_core", "")) is None, line


def test_the_runs_listing_reads_in_chinese(runs_root):
    from mnist_core import TrainConfig
    from mnist_core.results import RunStatus
    from mnist_core.runs import start_run

    run = start_run(TrainConfig(), runs_root, workspace="class-b")
    run.finish(RunStatus.STOPPED, "Stopped before the first epoch ended.", None)

    chinese = python_m(runs_root, "zh_CN.UTF-8", "runs")
    assert chinese.returncode == 0 and chinese.stderr == "", chinese.stderr
    (line,) = chinese.stdout.splitlines()
    assert line.startswith(run.run_id) and HAN.search(line)
    assert not re.search(r"epoch|stopped|finished", line), line

    english = python_m(runs_root, "en_US.UTF-8", "runs")
    assert re.search(r"class-b\s+linear\s+stopped\s+0 epoch\(s\), no finished epoch$", english.stdout.strip()), english.stdout


def test_english_is_unchanged(runs_root):
    helped = python_m(runs_root, "en_US.UTF-8", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: python -m mnist_core [-h] {fetch,train,runs,tensorboard,class} ...")
    assert "\npositional arguments:\n" in helped.stdout and "\noptions:\n" in helped.stdout
    assert "show this help message and exit" in helped.stdout
    refused = python_m(runs_root, "en_US.UTF-8", "launch")
    assert refused.returncode == 2
    assert refused.stderr == ("python -m mnist_core: error: argument command: invalid choice: 'launch' "
                              "(choose from 'fetch', 'train', 'runs', 'tensorboard', 'class')\n")
    missing = python_m(runs_root, "en_US.UTF-8")
    assert missing.stderr == "python -m mnist_core: error: the following arguments are required: command\n"
