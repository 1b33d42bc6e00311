"""Saving runs as they train, listing them and loading them back.

Each run belongs to a *workspace*: every browser session trains in its own, so a class of students
sees only their own runs, and each workspace is a folder of its own under the runs folder (`runs/`,
or `$MNIST_LAB_RUNS_DIR`). A page reads only its own workspace's folder, so one student's damaged
or huge files cost no other student anything. The command line trains in `shared` unless told
otherwise.

    runs/<workspace>/20261128-143000-linear-1a2b3c4d/
        config.json    the TrainConfig, so every chart can say how it was made
        metrics.csv    one row per finished epoch
        weights.npz    the weights after the last finished epoch (or the best, after an early stop)
        iterations.csv the iteration curve: the training batches' loss and accuracy, a few hundred
                       points an epoch (results.IterationLog), appended at every epoch end
        checkpoints/   epoch-0000.npz (the random start) and one per finished epoch, thinned to a
                       budget (see CHECKPOINT_BUDGET_BYTES), and past a disk quota to the last (see
                       DiskUsage); runs saved before them have none
        run.json       status, message, best epoch, times
        tensorboard/   the curves as TensorBoard event files (train/, validation/), written when the run
                       ends (training.py, with exports.py), so `tensorboard --logdir runs/<workspace>` shows them
    runs/<workspace>/.locks/20261128-143000-linear-1a2b3c4d.lock   only while it waits or trains

A run exists from the moment it is asked for: its folder, with config.json and a run.json saying
"waiting", is made before it queues for a training slot, so a run killed in the queue or in its
first epoch is still listed (interrupted, 0 epochs), and a runs folder that cannot be written is
found before any time is spent training. The folder is assembled under a hidden name and renamed
into place, so a reader never sees a run without its run.json, and its id is reserved first by
creating its lock file exclusively, so two runs never share a folder.

Every file is written to a temporary name and then renamed over the old one, and this happens at
every epoch end: a crash loses at most the epoch in progress, and no file is ever half-written.
Nothing here unpickles: weights are plain numpy arrays loaded with `allow_pickle=False`.

A run that says "running" must have a live process training it. The training process holds an OS
lock on the run's file in `.locks/` (outside the run's folder, so the folder can be renamed while
the lock is held, which Windows would refuse otherwise); the operating system drops that lock when the process dies, however it dies
(a kill, a power cut, a closed laptop lid that ends the server). A reader that finds the lock free
under a "running" run.json reports the run as *interrupted*, with the epochs saved before the end.
This is safer than remembering a process id, which a restarted server may well be given again.

The store's parts, each importing only the ones above it:

    store_format.py     the folder and file names, size limits, safe names, the lock, folder listings
    workspace_names.py  workspace names the server hands out, and their public nicknames
    checkpoints.py      how many checkpoints a run keeps, and which go first
    disk.py             the disk quotas, per workspace and for the server
    writer.py           RunRecorder: a run saved as it trains
    reader.py           SavedRun, load_run, list_runs: runs read back, whatever is on disk
    housekeeping.py     tidy_runs_folder: what killed processes left behind, cleared at start-up

Every public name is importable from `mnist_core.runs` itself.
"""

from .checkpoints import CHECKPOINT_BUDGET_BYTES, MAX_CHECKPOINTS, checkpoint_limit, checkpoints_to_drop
from .disk import DiskQuotaError, DiskUsage, check_disk_quotas, disk_quota_problem, disk_usage, run_folder_bytes
from .housekeeping import tidy_runs_folder
from .reader import (
    FinishedRuns,
    SavedRun,
    finished_runs,
    list_runs,
    load_run,
    read_history,
    read_info,
    read_iterations,
    read_run_safely,
    read_weights,
)
from .store_format import (
    CHECKPOINTS_FOLDER,
    CONFIG_FILE,
    ITERATIONS_FILE,
    LOCKS_FOLDER,
    MAX_ITERATIONS_BYTES,
    MAX_JSON_BYTES,
    MAX_METRICS_BYTES,
    METRIC_COLUMNS,
    METRICS_FILE,
    ORPHAN_AGE_SECONDS,
    RUN_FILE,
    SHARED_WORKSPACE,
    WEIGHTS_FILE,
    DamagedRunError,
    RunSaveError,
    check_workspace,
    checkpoint_epochs,
    checkpoint_name,
    is_valid_identifier,
    lock_path,
    run_folder,
    run_folders,
    runs_directory,
    workspace_folder,
    workspaces,
)
from .workspace_names import WORKSPACE_SECRET_FILE, is_minted_workspace, new_workspace, workspace_nickname, workspace_secret
from .writer import RunRecorder, start_run

__all__ = [
    "CHECKPOINT_BUDGET_BYTES", "CHECKPOINTS_FOLDER", "CONFIG_FILE", "ITERATIONS_FILE", "LOCKS_FOLDER", "MAX_CHECKPOINTS",
    "MAX_ITERATIONS_BYTES", "MAX_JSON_BYTES", "MAX_METRICS_BYTES", "METRIC_COLUMNS", "METRICS_FILE", "ORPHAN_AGE_SECONDS",
    "RUN_FILE", "SHARED_WORKSPACE", "WEIGHTS_FILE", "WORKSPACE_SECRET_FILE",
    "DamagedRunError", "DiskQuotaError", "DiskUsage", "FinishedRuns", "RunRecorder", "RunSaveError", "SavedRun",
    "check_disk_quotas", "check_workspace", "checkpoint_epochs", "checkpoint_limit", "checkpoint_name", "checkpoints_to_drop",
    "disk_quota_problem", "disk_usage", "finished_runs", "is_minted_workspace", "is_valid_identifier", "list_runs",
    "load_run", "lock_path", "new_workspace", "read_history", "read_info", "read_iterations", "read_run_safely",
    "read_weights", "run_folder", "run_folder_bytes", "run_folders", "runs_directory", "start_run", "tidy_runs_folder",
    "workspace_folder", "workspace_nickname", "workspace_secret", "workspaces",
]
