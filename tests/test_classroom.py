"""A shared classroom server: runs that exist from the moment they are asked for, disks that refuse
to save, orphans of killed processes, and each workspace's fair share of the machine."""

import errno
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from mnist_core import RunStatus, TrainConfig, train_and_record
from mnist_core.fair_share import MAX_PARAMETERS, check_model_size, parameter_count
from mnist_core.jobs import JobBoard, TrainingJob, TrainingSlots, WorkspaceBusyError
from mnist_core.runs import (
    ORPHAN_AGE_SECONDS,
    SHARED_WORKSPACE,
    RunSaveError,
    list_runs,
    load_run,
    lock_path,
    run_folders,
    start_run,
    tidy_runs_folder,
    workspace_folder,
)
from mnist_core.runs import disk as run_store_disk
from mnist_core.runs import writer as run_writer
from tests.app_server import PROJECT_ROOT
from tests.helpers import folder_bytes, wait_until

QUICK = TrainConfig(epochs=2, batch_size=50)


def make_old(path):
    """Pretend `path` was left long ago (older than the orphan age)."""
    past = time.time() - ORPHAN_AGE_SECONDS - 10
    os.utime(path, (past, past), follow_symlinks=False)


# -- a run exists from the moment it is asked for --------------------------------------------------

def test_a_job_is_listed_as_waiting_before_it_trains(sample_dataset, runs_root):
    job = TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1), workspace="alice")  # made, not started
    (run,) = list_runs(runs_root, workspace="alice")[0]
    assert run.run_id == job.run_id and run.status == RunStatus.WAITING and run.history == []
    job.start()
    assert job.join(60) and load_run(job.run_id, runs_root, "alice").status == RunStatus.COMPLETED


RESERVE_AND_DIE = """
import os, sys
from mnist_core import TrainConfig
from mnist_core.runs import start_run
recorder = start_run(TrainConfig(), workspace="alice")
if sys.argv[1] == "running":
    recorder.mark_running()
print(recorder.run_id, flush=True)
os._exit(0)  # like a kill: nothing is tidied
"""


@pytest.mark.parametrize("stage, words", [("waiting", "while it waited for a training slot"),
                                          ("running", "nothing had been trained yet")])
def test_a_run_killed_in_the_queue_or_in_its_first_epoch_is_listed_as_interrupted(runs_root, stage, words):
    completed = subprocess.run([sys.executable, "-c", RESERVE_AND_DIE, stage], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               env={**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root)}, check=True)
    (run,), damaged = list_runs(runs_root, workspace="alice")
    assert damaged == [] and run.run_id == completed.stdout.strip()
    assert run.status == RunStatus.INTERRUPTED and run.history == [] and words in str(run.message)


def test_run_ids_are_reserved_exclusively_and_never_merged(runs_root, monkeypatch):
    draws = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(run_writer.secrets, "token_hex", lambda size: next(draws))
    monkeypatch.setattr(run_writer.time, "strftime", lambda form: "20261129-120000")  # the same second
    first, second = start_run(QUICK), start_run(QUICK)
    assert first.run_id.endswith("aaaaaaaa") and second.run_id.endswith("bbbbbbbb")
    assert len(list_runs(runs_root)[0]) == 2


def test_a_new_run_id_has_32_random_bits(runs_root):
    assert len(start_run(QUICK).run_id.rsplit("-", 1)[1]) == 8


# -- a disk that cannot be written ------------------------------------------------------------------

def test_an_unwritable_runs_folder_is_found_before_any_training(sample_dataset, unwritable_runs_root):
    with pytest.raises(RunSaveError, match=r"Cannot write to .*a-file.*free some disk space"):
        TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1))


def fail_writes_after(monkeypatch, good_writes: int) -> None:
    """The disk fills up after `good_writes` more files (ENOSPC, as a full disk says)."""
    real_write = run_writer.write_atomically
    count = {"writes": 0}

    def write(path, content):
        count["writes"] += 1
        if count["writes"] > good_writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(path, content)

    monkeypatch.setattr(run_writer, "write_atomically", write)


def test_a_disk_that_fills_up_mid_run_ends_it_with_a_message_and_keeps_the_saved_epochs(sample_dataset, runs_root, monkeypatch):
    training = train_and_record(TrainConfig(epochs=5, batch_size=50), sample_dataset, runs_root=runs_root)
    fail_writes_after(monkeypatch, good_writes=2 + 3)  # mark_running (checkpoint 0, run.json), then epoch 1's weights, metrics and run.json
    results = list(training)
    assert [result.epoch for result in results] == [1]
    assert training.status == RunStatus.FAILED
    message = str(training.message)
    assert "No space left on device" in message and "The 1 epoch saved before are kept" in message
    saved = load_run(training.run_id, runs_root)
    assert len(saved.history) == 1 and saved.status == RunStatus.INTERRUPTED  # its last run.json could not be written
    assert not list(saved.folder.glob(".*.tmp")) and not lock_path(saved.folder).exists()


def test_the_cli_on_a_disk_that_cannot_be_written_says_so_in_one_line(run_cli, unwritable_runs_root):
    completed = run_cli("train", "--epochs", "1", "--train-subset-size", "100")
    assert completed.returncode == 1
    assert len(completed.stderr.strip().splitlines()) == 1 and "Cannot write to" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_the_cli_on_a_disk_that_fills_up_exits_with_1_and_the_reason(run_cli, runs_root, monkeypatch):
    fail_writes_after(monkeypatch, good_writes=2 + 2)  # the reservation's two files and mark_running's two
    completed = run_cli("train", "--epochs", "2", "--train-subset-size", "100", "--batch-size", "50")
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert "status=failed: The run could not be saved" in completed.stdout and "No space left on device" in completed.stdout


# -- orphans of killed processes, and runs saved before workspaces had folders --------------------

def test_start_up_removes_what_dead_processes_left_and_keeps_what_live_ones_hold(runs_root):
    held = start_run(QUICK)  # this process holds its lock: a run training right now
    parent = workspace_folder(SHARED_WORKSPACE, runs_root)
    partial, stale_lock = parent / ".partial-20261129-000000-linear-dead0001", parent / ".locks" / "20261129-000000-linear-dead0002.lock"
    partial.mkdir()
    stale_lock.write_text("")
    temporary = held.folder / ".metrics.csv.123.tmp"
    temporary.write_text("half")
    young_lock = parent / ".locks" / "20261129-000000-linear-young003.lock"
    young_lock.write_text("")  # a run starting this very moment, before it takes its lock
    for path in (partial, stale_lock, temporary, lock_path(held.folder)):
        make_old(path)
    done = tidy_runs_folder(runs_root)
    assert not partial.exists() and not stale_lock.exists()
    assert len(done) == 2
    assert temporary.exists() and lock_path(held.folder).exists() and young_lock.exists()
    held.finish(RunStatus.STOPPED, "done", None)
    make_old(temporary)
    tidy_runs_folder(runs_root)
    assert not temporary.exists()


def test_runs_saved_in_the_old_layout_move_into_their_workspace(sample_dataset, runs_root):
    for workspace in ("alice", SHARED_WORKSPACE):
        list(train_and_record(QUICK, sample_dataset, runs_root=runs_root, workspace=workspace))
    (alice_run,), _ = list_runs(runs_root, workspace="alice")
    old_place = runs_root / alice_run.run_id
    alice_run.folder.rename(old_place)  # the old layout: runs/<run id>/, its workspace in run.json
    info = json.loads((old_place / "run.json").read_text())
    (old_place / "run.json").write_text(json.dumps({**info, "workspace": "alice"}))
    assert list_runs(runs_root, workspace="alice") == ([], [])
    tidy_runs_folder(runs_root)
    (moved,), damaged = list_runs(runs_root, workspace="alice")
    assert damaged == [] and moved.run_id == alice_run.run_id and moved.history == alice_run.history
    assert len(list_runs(runs_root, workspace=SHARED_WORKSPACE)[0]) == 1


# -- fair share: one activity per workspace, limits on time and size -------------------------------

def test_a_workspace_runs_one_thing_at_a_time_and_stop_reaches_all_of_it(sample_dataset, runs_root):
    board, slots = JobBoard(), TrainingSlots(1)
    race = board.start("alice", "race", lambda: [
        first := TrainingJob(TrainConfig(epochs=50, batch_size=10), sample_dataset, slots=slots, workspace="alice", name="first"),
        TrainingJob(QUICK, sample_dataset, slots=slots, workspace="alice", after=first, name="second")])
    wait_until(lambda: race.jobs[0].snapshot().status == RunStatus.RUNNING)
    assert race.jobs[1].snapshot().waiting_for == "first"  # the race's runs queue one at a time
    assert slots.position(race.jobs[1]) == 0
    with pytest.raises(WorkspaceBusyError, match="already training"):
        board.start("alice", "run", lambda: pytest.fail("no second job may even be made"))
    other = board.start("bob", "run", lambda: [TrainingJob(QUICK, sample_dataset, slots=slots, workspace="bob")])
    race.stop()
    assert all(job.join(60) for job in race.jobs + other.jobs)
    assert [job.snapshot().status for job in race.jobs] == [RunStatus.STOPPED, RunStatus.STOPPED]
    assert other.jobs[0].snapshot().status == RunStatus.COMPLETED  # bob's run was not stopped by alice
    assert load_run(race.jobs[1].run_id, runs_root, "alice").status == RunStatus.STOPPED  # stopped before it started
    board.start("alice", "run", lambda: [TrainingJob(QUICK, sample_dataset, slots=slots, workspace="alice")])


def test_a_run_past_the_time_limit_stops_as_stop_does_and_says_why(sample_dataset, runs_root, monkeypatch):
    monkeypatch.setenv("MNIST_LAB_RUN_TIME_LIMIT_MINUTES", "0.02")  # 1.2 s
    job = TrainingJob(TrainConfig(epochs=1000, batch_size=10), sample_dataset, slots=TrainingSlots(1)).start()
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.status == RunStatus.STOPPED and "at most 0.02 minutes on this server" in str(snapshot.message)
    saved = load_run(job.run_id, runs_root)
    assert saved.status == RunStatus.STOPPED and len(saved.history) == len(snapshot.history) >= 1


@pytest.mark.parametrize("overrides", [{"model": "linear"}, {"model": "mlp", "hidden_layers": 3, "hidden_units": 64},
                                       {"model": "cnn", "cnn_filters": 8, "hidden_units": 32}])
def test_the_counted_parameters_match_the_built_model(overrides):
    from mnist_core.models import build_model, count_parameters

    config = TrainConfig.for_model(overrides.pop("model"), **overrides)
    assert parameter_count(config) == count_parameters(build_model(config))


def test_a_model_too_big_for_a_shared_server_is_refused_before_it_queues(sample_dataset, runs_root):
    huge = TrainConfig.for_model("mlp", hidden_units=4096, hidden_layers=8)
    assert parameter_count(huge) > MAX_PARAMETERS
    with pytest.raises(ValueError, match="parameters, more than the 8,000,000"):
        TrainingJob(huge, sample_dataset, slots=TrainingSlots(1))
    assert list_runs(runs_root) == ([], [])
    check_model_size(TrainConfig.for_model("cnn", cnn_filters=64, hidden_units=1024))  # the sliders' biggest is allowed


# -- disk quotas and the queue's length: a script opening tab after tab is bounded -------------------

def test_a_workspace_at_its_disk_quota_is_refused_before_a_run_starts(sample_dataset, runs_root, monkeypatch):
    """A new tab is a new workspace and nothing bounded a workspace's disk: a script could add 20 GB an hour."""
    earlier = train_and_record(QUICK, sample_dataset, workspace="alice")  # as the teacher's command line would
    list(earlier)
    monkeypatch.setenv("MNIST_LAB_WORKSPACE_DISK_MB", "0.05")  # 52 KB: one quick linear run takes about 110 KB
    with pytest.raises(ValueError) as refused:
        TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1), workspace="alice")
    message = str(refused.value)
    assert "This workspace's runs take 0.1 MB" in message and "at most 0.05 MB" in message
    assert "Ask your teacher to delete runs" in message
    assert [run.run_id for run in list_runs(runs_root, "alice")[0]] == [earlier.run_id]  # nothing new was saved
    TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1), workspace="bob")  # another workspace's own quota is free
    more = train_and_record(QUICK, sample_dataset, workspace="alice")  # the teacher's command line is not limited
    list(more)
    assert more.status == RunStatus.COMPLETED


def test_a_server_at_its_disk_quota_refuses_every_workspace_s_new_run(sample_dataset, runs_root, monkeypatch):
    for workspace in ("alice", "bob"):
        list(train_and_record(QUICK, sample_dataset, workspace=workspace))
    used = sum(folder_bytes(folder) for folder in run_folders(runs_root))
    monkeypatch.setenv("MNIST_LAB_SERVER_DISK_MB", str(used / 2**20))
    for workspace in ("alice", "carol"):
        with pytest.raises(ValueError, match="The runs on this shared server take .* MB of disk space, the most it may keep"):
            TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1), workspace=workspace)
    assert list_runs(runs_root, "carol") == ([], [])
    monkeypatch.setenv("MNIST_LAB_SERVER_DISK_MB", str(2 * used / 2**20))
    TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1), workspace="carol")


def test_a_run_that_crosses_the_quota_trains_on_keeping_only_its_last_weights(sample_dataset, runs_root, monkeypatch):
    """Nothing saved before is lost: the earlier run keeps every checkpoint, the crossing run every epoch's
    metrics and its final weights; only its own earlier checkpoints go."""
    from mnist_core.runs import checkpoint_epochs

    earlier = train_and_record(QUICK, sample_dataset, workspace="alice")
    list(earlier)
    earlier_folder = earlier.recorder.folder
    earlier_files = {path: path.read_bytes() for path in earlier_folder.rglob("*") if path.is_file()}
    monkeypatch.setenv("MNIST_LAB_WORKSPACE_DISK_MB", str(1.6 * folder_bytes(earlier_folder) / 2**20))
    monkeypatch.setattr(run_writer.RunRecorder, "QUOTA_CHECK_SECONDS", 0)  # measured at every epoch end, however quick
    job = TrainingJob(TrainConfig(epochs=8, batch_size=50), sample_dataset, slots=TrainingSlots(1), workspace="alice").start()
    assert job.join(120)
    saved = load_run(job.run_id, runs_root, "alice")
    assert saved.status == RunStatus.COMPLETED and len(saved.history) == 8
    assert checkpoint_epochs(saved.folder) == [8] and saved.checkpoint_epochs() == [0, 8]
    assert os.path.samefile(saved.folder / "weights.npz", saved.folder / "checkpoints" / "epoch-0008.npz")
    assert {path: path.read_bytes() for path in earlier_folder.rglob("*") if path.is_file()} == earlier_files
    with pytest.raises(ValueError, match="This workspace's runs take"):
        TrainingJob(QUICK, sample_dataset, slots=TrainingSlots(1), workspace="alice")


def test_the_disk_use_counts_each_file_once_and_follows_every_change(sample_dataset, runs_root, monkeypatch):
    """Measured at every Train, so remembered: a finished run's folder is walked until it settles, then
    never again, and a workspace is listed again only when its folder changes."""
    from mnist_core.runs import DiskUsage

    def trained(workspace):
        training = train_and_record(QUICK, sample_dataset, workspace=workspace)
        list(training)
        return training.recorder.folder

    first, second, other = trained("alice"), trained("alice"), trained("bob")
    naive = sum(path.stat().st_size for path in first.rglob("*") if path.is_file())
    usage = DiskUsage()
    assert usage.workspace_bytes("alice", runs_root) == folder_bytes(first) + folder_bytes(second) < naive + folder_bytes(second)
    assert usage.server_bytes(runs_root) == folder_bytes(first) + folder_bytes(second) + folder_bytes(other)
    assert usage.workspace_bytes("carol", runs_root) == 0  # no folder yet

    for path in [*runs_root.rglob("*"), runs_root]:  # an hour later: every run has settled
        os.utime(path, (time.time() - 3600, time.time() - 3600), follow_symlinks=False)
    walked = []
    real_walk = run_store_disk.run_folder_bytes
    monkeypatch.setattr(run_store_disk, "run_folder_bytes", lambda folder: walked.append(folder) or real_walk(folder))
    usage.server_bytes(runs_root)
    assert len(walked) == 3
    assert usage.server_bytes(runs_root) == folder_bytes(first) + folder_bytes(second) + folder_bytes(other) and len(walked) == 3

    shutil.rmtree(first)  # deleted by the teacher
    assert usage.workspace_bytes("alice", runs_root) == folder_bytes(second) and len(walked) == 3
    third = trained("alice")
    assert usage.workspace_bytes("alice", runs_root) == folder_bytes(second) + folder_bytes(third)
    shutil.rmtree(workspace_folder("bob", runs_root))
    assert usage.server_bytes(runs_root) == folder_bytes(second) + folder_bytes(third)


def test_the_server_lets_a_bounded_number_of_runs_wait(sample_dataset, runs_root, monkeypatch):
    """One run waits per workspace, but workspaces were unbounded: a script opening tabs queued without end."""
    monkeypatch.setenv("MNIST_LAB_MAX_QUEUED_RUNS", "2")
    board, no_free_slot = JobBoard(), TrainingSlots(0)  # nothing trains: every run started waits

    def one_run(workspace):
        return lambda: [TrainingJob(QUICK, sample_dataset, slots=no_free_slot, workspace=workspace)]

    waiting = [board.start(workspace, "run", one_run(workspace)) for workspace in ("alice", "bob")]
    with pytest.raises(ValueError, match="2 runs are already waiting for a training slot on this shared server, the most"):
        board.start("carol", "run", lambda: pytest.fail("no run may even be saved"))
    assert list_runs(runs_root, "carol") == ([], [])
    waiting[0].stop()
    assert waiting[0].jobs[0].join(60)
    waiting.append(board.start("carol", "run", one_run("carol")))  # a place in the queue came free
    for activity in waiting:
        activity.stop()
    assert all(job.join(60) for activity in waiting for job in activity.jobs)


def test_the_time_estimate_follows_how_fast_this_server_has_really_trained():
    """A busy classroom server trains several times slower than the quiet machine's cost model says: the
    estimate scales with the server's recent runs, and comes as a range."""
    from mnist_core import TrainConfig
    from mnist_core.fair_share import ServerPace, estimated_training_seconds

    config, available = TrainConfig(epochs=4), 60_000
    model_seconds = estimated_training_seconds(config, available)
    pace = ServerPace()
    likely, slowest, runs = pace.estimate(config, available)
    assert (likely, slowest, runs) == (model_seconds, 2 * model_seconds, 0)  # nothing measured yet
    for ratio in (3.0, 5.0, 4.0):  # three runs of 2 epochs each, 3-5x slower than the model says
        pace.record(config, available, epochs_trained=2, seconds=ratio * model_seconds / 2)
    likely, slowest, runs = pace.estimate(config, available)
    assert likely == pytest.approx(4.0 * model_seconds) and slowest == pytest.approx(5.0 * model_seconds) and runs == 3
    for _ in range(ServerPace.RECENT_RUNS):  # the server is quiet again: the old paces drop out
        pace.record(config, available, epochs_trained=4, seconds=model_seconds)
    assert pace.estimate(config, available)[:2] == pytest.approx((model_seconds, model_seconds))


def test_a_finished_run_tells_the_server_its_pace(sample_dataset, runs_root):
    from mnist_core import TrainConfig
    from mnist_core.fair_share import server_pace
    from mnist_core.jobs import TrainingJob

    before = list(server_pace._ratios)
    job = TrainingJob(TrainConfig(epochs=1, batch_size=100), sample_dataset, name="pace", workspace="pace-tests")
    job.start()
    # The page sees the run finished a moment before its thread has recorded the pace.
    wait_until(lambda: list(server_pace._ratios) != before)  # one more pace (the oldest dropped, if it was full)
