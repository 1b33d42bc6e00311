"""Workspace names the server hands out: minted with a secret in the runs folder, so an address can
open only a workspace this server made, never a hand-picked or guessed one."""

import os
import re
import stat
import threading

import pytest

from mnist_core import TrainConfig
from mnist_core.runs import (
    WORKSPACE_SECRET_FILE,
    check_workspace,
    is_minted_workspace,
    is_valid_identifier,
    list_runs,
    new_workspace,
    start_run,
    tidy_runs_folder,
    workspace_nickname,
    workspaces,
)


def test_a_minted_workspace_verifies_and_each_is_new(runs_root):
    minted = [new_workspace(runs_root) for _ in range(50)]
    assert len(set(minted)) == 50
    for name in minted:
        assert is_minted_workspace(name, runs_root) and is_valid_identifier(name) and check_workspace(name) == name
        assert len(name) == 25 and name[16] == "-"
    assert is_minted_workspace(minted[0])  # by default, the runs folder of MNIST_LAB_RUNS_DIR


def flip(character: str) -> str:
    return "0" if character != "0" else "1"


@pytest.mark.parametrize("forge", [
    lambda name: "alice",                                  # hand-picked
    lambda name: name[:16],                                # the bare random part: an id of earlier versions
    lambda name: "1a2b3c4d5e6f7a8b",                       # an old id, never minted
    lambda name: name[:-1] + flip(name[-1]),               # the tag changed
    lambda name: flip(name[0]) + name[1:],                 # the random part changed
    lambda name: name.upper(),
    lambda name: name + "\n",
    lambda name: " " + name,
    lambda name: name[:16] + "-" + "0" * 8,
    lambda name: "shared",
    lambda name: None,
    lambda name: 12345,
])
def test_hand_picked_old_and_tampered_names_are_not_minted(runs_root, forge):
    assert not is_minted_workspace(forge(new_workspace(runs_root)), runs_root)


def test_a_name_minted_by_another_server_is_not_minted_here(runs_root, tmp_path):
    other_root = tmp_path / "another-server" / "runs"
    assert not is_minted_workspace(new_workspace(other_root), runs_root)


def test_the_secret_is_made_once_private_and_never_listed_as_a_workspace(runs_root):
    assert not is_minted_workspace("0123456789abcdef-01234567", runs_root)
    assert not runs_root.exists()  # checking a name makes nothing
    first = new_workspace(runs_root)
    secret_file = runs_root / WORKSPACE_SECRET_FILE
    secret = secret_file.read_bytes()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600 and len(secret.strip()) == 64
    new_workspace(runs_root)
    assert secret_file.read_bytes() == secret and is_minted_workspace(first, runs_root)
    assert sorted(os.listdir(runs_root)) == [WORKSPACE_SECRET_FILE]  # no temporary file left
    start_run(TrainConfig(), runs_root, workspace=first)
    assert workspaces(runs_root) == [first] and len(list_runs(runs_root)[0]) == 1
    tidy_runs_folder(runs_root)
    assert secret_file.read_bytes() == secret and workspaces(runs_root) == [first]


def test_processes_starting_together_share_one_secret(runs_root):
    minted, barrier = [], threading.Barrier(8)

    def mint():
        barrier.wait()
        minted.append(new_workspace(runs_root))

    threads = [threading.Thread(target=mint) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(minted) == 8 and all(is_minted_workspace(name, runs_root) for name in minted)
    assert sorted(os.listdir(runs_root)) == [WORKSPACE_SECRET_FILE]


def test_without_a_usable_secret_a_workspace_lasts_one_session(runs_root, unwritable_runs_root, tmp_path):
    name = new_workspace(unwritable_runs_root)  # nothing can be saved there: a workspace all the same
    assert is_valid_identifier(name) and not is_minted_workspace(name, unwritable_runs_root)
    runs_root.mkdir(parents=True)
    (runs_root / WORKSPACE_SECRET_FILE).write_text("not a secret")  # damaged: never trusted
    name = new_workspace(runs_root)
    assert is_valid_identifier(name) and not is_minted_workspace(name, runs_root)
    (runs_root / WORKSPACE_SECRET_FILE).unlink()
    elsewhere = tmp_path / "secret"
    elsewhere.write_text("0" * 64)
    (runs_root / WORKSPACE_SECRET_FILE).symlink_to(elsewhere)  # a link is never followed
    assert not is_minted_workspace(new_workspace(runs_root), runs_root)


def test_a_nickname_is_short_steady_and_differs_from_workspace_to_workspace(runs_root):
    name = new_workspace(runs_root)
    assert re.fullmatch(r"[0-9A-F]{4}", workspace_nickname(name)) and workspace_nickname(name) == workspace_nickname(name)
    assert len({workspace_nickname(new_workspace(runs_root)) for _ in range(40)}) >= 38  # a class tells theirs apart
