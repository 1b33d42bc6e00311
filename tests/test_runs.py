"""Runs on disk: saved as they go, loaded back identically, damage reported rather than crashing.

What training saves is tested on runs that train; what the store reads (damage, hand edits, the CSV
export, the caches) on runs written by the store's own recorder with weights made by NumPy
(tests/helpers.py's run_written_with_numpy): the same files, in milliseconds."""

import codecs
import csv
import io
import json
import os

import numpy as np
import pytest

from mnist_core import RunStatus, TrainConfig, predict_probabilities, train_and_record
from mnist_core.exports import runs_metrics_csv, runs_metrics_csv_file
from mnist_core.runs import (
    SHARED_WORKSPACE,
    DamagedRunError,
    list_runs,
    load_run,
    run_folder,
    run_folders,
)
from tests.helpers import folder_bytes, run_written_with_numpy


def train_and_save(sample_dataset, runs_root, **overrides):
    config = TrainConfig.for_model(overrides.pop("model", "linear"), **{"epochs": 2, "batch_size": 50, **overrides})
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    list(training)
    return training, training.run_id


def test_a_finished_run_keeps_its_final_weights_once_a_hard_link_to_their_checkpoint(sample_dataset, runs_root):
    """finish() wrote weights.npz again, breaking the link to the last checkpoint: every finished run
    stored its final weights twice."""
    _, run_id = train_and_save(sample_dataset, runs_root)
    folder = load_run(run_id, runs_root).folder
    assert (folder / "weights.npz").stat().st_ino == (folder / "checkpoints" / "epoch-0002.npz").stat().st_ino


def test_an_early_stop_s_restored_best_weights_are_a_hard_link_to_the_best_checkpoint(sample_dataset, runs_root):
    """Stopped early with the best epoch's weights restored: weights.npz is that epoch's checkpoint."""
    training, run_id = train_and_save(sample_dataset, runs_root, model="mlp", epochs=40, early_stopping_patience=1,
                                      train_subset_size=200, hidden_units=256, learning_rate=0.01, optimizer="adam")
    saved = load_run(run_id, runs_root)
    assert saved.status == "early_stopped" and saved.best_epoch < len(saved.history)
    best_checkpoint = saved.folder / "checkpoints" / f"epoch-{saved.best_epoch:04d}.npz"
    assert (saved.folder / "weights.npz").stat().st_ino == best_checkpoint.stat().st_ino
    images = sample_dataset[1][0][:20] / 255.0
    np.testing.assert_array_equal(predict_probabilities(saved.load_model(), images),
                                  predict_probabilities(training.model, images))


@pytest.mark.parametrize("model_name", ["linear", "cnn"])
def test_a_saved_run_loads_back_with_identical_predictions(sample_dataset, runs_root, model_name):
    training, run_id = train_and_save(sample_dataset, runs_root, model=model_name)
    saved = load_run(run_id, runs_root)
    assert saved.config == training.config
    assert saved.history == training.history
    assert saved.status == training.status and saved.best_epoch == training.best_epoch
    (_, _), (test_images, _) = sample_dataset
    np.testing.assert_array_equal(predict_probabilities(saved.load_model(), test_images),
                                  predict_probabilities(training.model, test_images))


def test_every_epoch_is_on_disk_before_the_next_begins(sample_dataset, runs_root):
    config = TrainConfig(epochs=3, batch_size=50)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    epochs_on_disk = []
    for result in training:
        saved = load_run(training.run_id, runs_root)
        epochs_on_disk.append((result.epoch, len(saved.history), saved.status))
    assert epochs_on_disk == [(1, 1, "running"), (2, 2, "running"), (3, 3, "running")]
    assert load_run(training.run_id, runs_root).status == "completed"


def test_a_stopped_run_is_saved_as_stopped_with_its_epochs(sample_dataset, runs_root):
    config = TrainConfig(epochs=5, batch_size=50)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    next(training)
    training.close()
    saved = load_run(training.run_id, runs_root)
    assert saved.status == RunStatus.STOPPED and len(saved.history) == 1


def test_a_refused_run_leaves_no_folder(sample_dataset, runs_root):
    config = TrainConfig(batch_size=5000)
    with pytest.raises(ValueError):
        train_and_record(config, sample_dataset, runs_root=runs_root)
    assert list_runs(runs_root) == ([], [])


def edit_run_json(folder, **changes):
    info = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**info, **changes}))


def replace_with_a_link(path, target="/etc/passwd"):
    path.unlink()
    path.symlink_to(target)


def make_the_lock_a_folder(folder):
    edit_run_json(folder, status="running")
    (folder.parent / ".locks" / f"{folder.name}.lock").mkdir(parents=True)


@pytest.mark.parametrize("damage, words", [
    (lambda folder: (folder / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,seconds,iterations\n1,0.5,0.9\n"),
     "metrics.csv is damaged"),
    (lambda folder: (folder / "config.json").write_text("{not json"), "config.json is damaged"),
    (lambda folder: (folder / "config.json").write_text(json.dumps({"epochs": -3})), "config.json is damaged"),
    (lambda folder: (folder / "run.json").write_text("[]"), "run.json is damaged"),
    (lambda folder: (folder / "weights.npz").unlink(), "weights.npz is missing"),
    # Hostile files, each seen crashing every page of every workspace or echoing a file it should never open:
    (lambda folder: edit_run_json(folder, best_epoch=float("inf")), "best_epoch must be a whole number"),  # 1e999 in JSON
    (lambda folder: (folder / "config.json").write_text("[" * 20000 + "]" * 20000), "config.json is damaged"),
    (lambda folder: (folder / "run.json").write_text("[" * 200000 + "]" * 200000), "far more than the app ever writes"),
    (lambda folder: (folder / "run.json").write_text(json.dumps({"padding": "x" * 200_000})), "far more than the app ever writes"),
    (lambda folder: (folder / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,seconds,iterations\n"
                                                         "1," + "9" * 140_000 + ",0.9,0.5,0.8,1.0,10\n"), "metrics.csv is damaged"),
    (lambda folder: (folder / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,seconds,iterations\n"
                                                         "1,nan,0.9,0.5,0.8,1.0,10\n"), "not a finite number"),
    (lambda folder: replace_with_a_link(folder / "metrics.csv"), "a link, not a file"),
    (lambda folder: replace_with_a_link(folder / "run.json", folder / "config.json"), "a link, not a file"),
    (make_the_lock_a_folder, "lock file"),
])
def test_a_damaged_run_is_named_and_skipped(runs_root, damage, words):
    good, bad = (run_written_with_numpy(runs_root, seed=seed).run_id for seed in (0, 1))
    damage(runs_root / SHARED_WORKSPACE / bad)
    runs, damaged = list_runs(runs_root)
    assert [run.run_id for run in runs] == [good]
    message = str(damaged[0])  # a Message: its English
    assert len(damaged) == 1 and bad in message and words in message
    assert "root:" not in message  # nothing of /etc/passwd is echoed
    with pytest.raises(DamagedRunError):  # and loading it alone is the same named damage, never another error
        load_run(bad, runs_root)



def test_a_linked_run_folder_is_never_followed(runs_root, tmp_path):
    run_id = run_written_with_numpy(runs_root).run_id
    (runs_root / SHARED_WORKSPACE / "elsewhere").symlink_to(runs_root / SHARED_WORKSPACE / run_id)
    assert [run.run_id for run in list_runs(runs_root)[0]] == [run_id]
    with pytest.raises(DamagedRunError):
        load_run("elsewhere", runs_root)


def test_weights_that_would_unpack_to_far_more_than_the_model_are_refused_unread(runs_root):
    """A zip bomb: a few kilobytes on disk that unpack to 400 MB. Refused from the zip's directory."""
    run_id = run_written_with_numpy(runs_root).run_id
    saved = load_run(run_id, runs_root)
    with np.load(saved.folder / "weights.npz") as archive:
        names = list(archive.files)
    np.savez_compressed(saved.folder / "weights.npz", **{name: np.zeros(100_000_000, np.float32) for name in names[:1]},
                        **{name: np.zeros(1, np.float32) for name in names[1:]})
    assert (saved.folder / "weights.npz").stat().st_size < 1_000_000
    with pytest.raises(DamagedRunError, match="unpacks to 400,000,"):
        saved.load_model()


@pytest.mark.parametrize("change, words", [
    (lambda array: np.ascontiguousarray(array.T), "has the shape"),  # as many numbers, another shape: (10, 784)
    (lambda array: array.astype(np.float16), "float16"),  # fewer bytes: passed the size check
    (lambda array: array.astype(np.float64), "float64|unpacks to"),  # twice the bytes: the size check sees it first
    (lambda array: np.full_like(array, np.nan), "not finite"),
])
def test_weights_of_the_wrong_shape_type_or_value_are_refused(runs_root, change, words):
    """The reader checked byte sizes only: a transposed kernel, float16 or float64 arrays passed it."""
    run_id = run_written_with_numpy(runs_root).run_id
    saved = load_run(run_id, runs_root)
    with np.load(saved.folder / "weights.npz") as archive:
        weights = {name: archive[name] for name in archive.files}
    kernel = next(name for name, array in weights.items() if array.ndim == 2)
    (saved.folder / "weights.npz").unlink()  # a new file: the hard-linked checkpoint keeps the good weights
    np.savez(saved.folder / "weights.npz", **{**weights, kernel: change(weights[kernel])})
    with pytest.raises(DamagedRunError, match=words):
        saved.load_model()


def test_an_identifier_with_a_trailing_newline_is_refused(runs_root):
    with pytest.raises(ValueError, match="not a valid"):
        run_folder("shared\n", runs_root)

def test_unreadable_weights_are_reported_when_the_model_is_loaded(runs_root):
    run_id = run_written_with_numpy(runs_root).run_id
    (runs_root / SHARED_WORKSPACE / run_id / "weights.npz").write_bytes(b"garbage")
    with pytest.raises(DamagedRunError, match="weights.npz cannot be read"):
        load_run(run_id, runs_root).load_model()


@pytest.mark.parametrize("run_id", ["../outside", "a/b", "..", ".hidden", "", "x" * 200, "/etc"])
def test_run_identifiers_cannot_escape_the_runs_folder(run_id, runs_root):
    with pytest.raises(ValueError, match="not a valid run identifier"):
        run_folder(run_id, runs_root)


def test_several_runs_export_to_one_csv(runs_root):
    run_written_with_numpy(runs_root, TrainConfig.for_model("linear", epochs=2, batch_size=50))
    run_written_with_numpy(runs_root, TrainConfig.for_model("linear", epochs=2, batch_size=50, optimizer="sgd"))
    runs, _ = list_runs(runs_root)
    rows = list(csv.DictReader(io.StringIO(runs_metrics_csv(runs))))
    assert len(rows) == 4
    assert {row["run_id"] for row in rows} == {run.run_id for run in runs}
    first = next(run for run in runs if run.run_id == rows[0]["run_id"])
    assert float(rows[0]["val_acc"]) == first.history[0].val_acc and rows[0]["epoch"] == "1"
    # The settings travel with the metrics, so a spreadsheet can tell the runs apart.
    assert {row["optimizer"] for row in rows} == {"adam", "sgd"}
    assert float(rows[0]["learning_rate"]) == first.config.learning_rate and rows[0]["train_subset_size"] == ""


def test_the_csv_download_opens_in_a_spreadsheet_with_chinese_names_intact(runs_root):
    """Excel on a Chinese Windows reads a CSV without a byte order mark as GBK: mojibake."""
    run_written_with_numpy(runs_root, TrainConfig(epochs=1, batch_size=100), name="学习率 0.1")
    runs, _ = list_runs(runs_root)
    download = runs_metrics_csv_file(runs)
    assert download.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(download.decode("utf-8-sig"))))
    assert rows[0]["name"] == "学习率 0.1" and "run_id" in rows[0]


def test_a_run_name_that_looks_like_a_formula_stays_text_in_the_csv(runs_root):
    """A spreadsheet opening the export must not run a student's run name as a formula."""
    name = '=HYPERLINK("http://example.com","click")'
    run_written_with_numpy(runs_root, TrainConfig(epochs=1, batch_size=100), name=name)
    runs, _ = list_runs(runs_root)
    rows = list(csv.DictReader(io.StringIO(runs_metrics_csv(runs))))
    assert rows[0]["name"] == "'" + name


# -- faults: a killed training process, a half-made folder, hand edits -----------------------------

@pytest.mark.slow
def test_a_run_whose_process_is_killed_is_listed_as_interrupted_with_its_saved_epochs(sample_dataset, runs_root, kill_a_training_run):
    run_id = kill_a_training_run("class-a")
    runs, damaged = list_runs(runs_root, workspace="class-a")
    assert damaged == [] and [run.run_id for run in runs] == [run_id]
    saved = runs[0]
    assert saved.status == "interrupted" and len(saved.history) >= 2
    assert f"its {len(saved.history)} epochs and their weights are kept." in str(saved.message)
    assert [result.epoch for result in saved.history] == list(range(1, len(saved.history) + 1))
    model = saved.load_model()  # the weights of the last epoch saved before the kill
    probabilities = predict_probabilities(model, sample_dataset[1][0])
    assert probabilities.shape == (300, 10) and np.isfinite(probabilities).all()


def test_a_run_in_progress_in_this_process_is_not_called_interrupted(sample_dataset, runs_root):
    config = TrainConfig(epochs=3, batch_size=50)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    next(training)
    assert load_run(training.run_id, runs_root).status == "running"
    list(training)
    assert load_run(training.run_id, runs_root).status == "completed"
    assert not any((runs_root / SHARED_WORKSPACE / ".locks").iterdir())  # the lock goes with the run's end


def test_each_workspace_lists_only_its_own_runs(sample_dataset, runs_root):
    for workspace in ("alice", "bob", "bob"):
        config = TrainConfig(epochs=1, batch_size=50)
        list(train_and_record(config, sample_dataset, runs_root=runs_root, workspace=workspace))
    assert len(list_runs(runs_root, workspace="alice")[0]) == 1
    assert len(list_runs(runs_root, workspace="bob")[0]) == 2
    assert list_runs(runs_root, workspace="carol") == ([], [])
    assert len(list_runs(runs_root)[0]) == 3


@pytest.mark.parametrize("workspace", ["../other", "a/b", "", ".."])
def test_a_workspace_name_cannot_be_a_path(sample_dataset, runs_root, workspace):
    with pytest.raises(ValueError, match="not a valid workspace name"):
        train_and_record(TrainConfig(), sample_dataset, runs_root=runs_root, workspace=workspace)


def test_a_run_name_with_a_path_in_it_is_only_a_label(sample_dataset, runs_root):
    config = TrainConfig(epochs=1, batch_size=50)
    training = train_and_record(config, sample_dataset, runs_root=runs_root, name="../../etc/passwd")
    list(training)
    assert [path.name for path in runs_root.parent.iterdir()] == ["runs"]
    assert [path.name for path in runs_root.iterdir()] == [SHARED_WORKSPACE]
    assert [folder.name for folder in run_folders(runs_root)] == [training.run_id]
    assert load_run(training.run_id, runs_root).name == "../../etc/passwd"


@pytest.mark.parametrize("edit, words", [
    (lambda info: info.update(best_epoch=99), None),                     # a best epoch that does not exist
    (lambda info: info.update(workspace="../../elsewhere"), None),     # the folder says whose it is, not run.json
    (lambda info: info.pop("status"), "run.json is damaged"),
    (lambda info: info.update(created="yesterday"), "run.json is damaged"),
])
def test_a_hand_edited_run_json_is_read_safely_or_named(runs_root, edit, words):
    run_id = run_written_with_numpy(runs_root).run_id
    path = runs_root / SHARED_WORKSPACE / run_id / "run.json"
    info = json.loads(path.read_text())
    edit(info)
    path.write_text(json.dumps(info))
    runs, damaged = list_runs(runs_root)
    if words is None:
        assert damaged == [] and runs[0].workspace == SHARED_WORKSPACE
        assert runs[0].best_result is None or info["best_epoch"] != 99
    else:
        assert runs == [] and run_id in str(damaged[0]) and words in str(damaged[0])


def test_weights_holding_pickled_objects_are_refused(runs_root):
    run_id = run_written_with_numpy(runs_root).run_id
    np.savez(runs_root / SHARED_WORKSPACE / run_id / "weights.npz", **{"dense/kernel": np.array([object()], dtype=object)})
    with pytest.raises(DamagedRunError, match="weights.npz cannot be read"):
        load_run(run_id, runs_root).load_model()


# -- every epoch kept: checkpoints --------------------------------------------------------------------

def test_a_run_keeps_its_random_start_and_every_epoch_and_loads_each(sample_dataset, runs_root):
    from mnist_core.models import build_model, get_weights

    config = TrainConfig(epochs=3, batch_size=50)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    list(training)
    saved = load_run(training.run_id, runs_root)
    assert saved.checkpoint_epochs() == [0, 1, 2, 3]
    start, last = get_weights(saved.load_checkpoint(0)), get_weights(saved.load_checkpoint(3))
    for name, value in get_weights(build_model(config)).items():  # epoch 0: the seeded random start
        np.testing.assert_array_equal(start[name], value)
    for name, value in get_weights(saved.load_model()).items():
        np.testing.assert_array_equal(last[name], value)
    first_epoch = get_weights(saved.load_checkpoint(1))
    assert all(not np.array_equal(first_epoch[name], start[name]) for name in start)  # it learned in epoch 1

    # A run saved before checkpoints existed still lists and loads, with none to look back at.
    for path in (saved.folder / "checkpoints").iterdir():
        path.unlink()
    (saved.folder / "checkpoints").rmdir()
    older = load_run(training.run_id, runs_root)
    assert older.checkpoint_epochs() == [] and older.load_model() is not None


def test_checkpoints_beyond_the_budget_are_thinned_keeping_the_first_the_best_and_the_last(sample_dataset, runs_root,
                                                                                            monkeypatch):
    from mnist_core.runs import checkpoints, checkpoints_to_drop

    # Dense where a model changes most, early; sparser later (evenly spread on a logarithmic scale).
    assert sorted(set(range(11)) - set(checkpoints_to_drop(list(range(11)), {0, 10}, 6))) == [0, 1, 2, 4, 6, 10]
    assert 1 in set(range(41)) - set(checkpoints_to_drop(list(range(41)), {0, 40}, 29))  # epoch 1 stays
    assert sorted(checkpoints_to_drop(list(range(6)), {0, 2, 5}, 3)) == [1, 3, 4]  # the best (2) stays
    assert checkpoints_to_drop([0, 1, 2], {0, 1, 2}, 2) == []  # never below what must stay

    monkeypatch.setattr(checkpoints, "MAX_CHECKPOINTS", 5)
    training = train_and_record(TrainConfig(epochs=9, batch_size=50), sample_dataset, runs_root=runs_root)
    list(training)
    kept = load_run(training.run_id, runs_root).checkpoint_epochs()
    assert len(kept) == 5 and kept[0] == 0 and kept[-1] == 9 and training.best_epoch in kept
    assert load_run(training.run_id, runs_root).load_checkpoint(kept[2]) is not None


def test_the_biggest_cnn_the_sliders_allow_keeps_its_checkpoints_within_the_budget(sample_dataset, runs_root):
    """The sliders' biggest CNN (26 MB of weights a checkpoint) must keep to the 32 MB checkpoint budget: no
    floor of checkpoints may override it. Only its final weights fit; the random start is rebuilt from the
    run's seed, so Replay still offers it."""
    from mnist_core.models import build_model, get_weights
    from mnist_core.runs import CHECKPOINT_BUDGET_BYTES, checkpoint_epochs

    _, run_id = train_and_save(sample_dataset, runs_root, model="cnn", cnn_filters=64, hidden_units=1024, epochs=2,
                               train_subset_size=100)
    saved = load_run(run_id, runs_root)
    weights = saved.folder / "weights.npz"
    assert 2 * weights.stat().st_size > CHECKPOINT_BUDGET_BYTES  # room for one checkpoint only
    assert checkpoint_epochs(saved.folder) == [2]  # the files: the final weights, nothing else
    assert os.path.samefile(weights, saved.folder / "checkpoints" / "epoch-0002.npz")
    assert folder_bytes(saved.folder) < weights.stat().st_size + 1_000_000  # weights.npz and its checkpoint: one file
    assert saved.checkpoint_epochs() == saved.replayable_epochs() == [0, 2]
    start = saved.checkpoint_weights(0)
    for name, value in get_weights(build_model(saved.config)).items():  # the seeded random start, as it was
        np.testing.assert_array_equal(start[name], value)
    assert saved.load_checkpoint(0) is not None and saved.load_checkpoint(2) is not None


def test_a_run_that_may_restore_its_best_epoch_keeps_it_whatever_the_budget(sample_dataset, runs_root, monkeypatch):
    """With no room for any checkpoint, a run keeps only what it must: while it trains, its last epoch's weights
    and, as early stopping may restore them, its best epoch's; once it ends, its final weights alone."""
    from mnist_core.runs import checkpoint_epochs, checkpoints

    monkeypatch.setattr(checkpoints, "CHECKPOINT_BUDGET_BYTES", 1)
    kept_while_training = []
    config = TrainConfig.for_model("mlp", epochs=40, batch_size=50, early_stopping_patience=1, train_subset_size=200,
                                   hidden_units=256, learning_rate=0.01, optimizer="adam")
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    for result in training:
        kept_while_training.append((checkpoint_epochs(training.recorder.folder), result.epoch, training.best_epoch))
    assert all(kept == sorted({epoch, best}) for kept, epoch, best in kept_while_training)
    saved = load_run(training.run_id, runs_root)
    assert saved.status == "early_stopped" and saved.best_epoch < len(saved.history)
    assert checkpoint_epochs(saved.folder) == [saved.best_epoch]  # the final weights: the restored best epoch's
    assert os.path.samefile(saved.folder / "weights.npz", saved.folder / "checkpoints" / f"epoch-{saved.best_epoch:04d}.npz")
    images = sample_dataset[1][0][:20] / 255.0
    np.testing.assert_array_equal(predict_probabilities(saved.load_model(), images),
                                  predict_probabilities(training.model, images))


# -- the iteration curve, saved with the run --------------------------------------------------------

def test_the_iteration_curve_is_saved_with_the_run_and_replays_as_it_was_drawn_live(sample_dataset, runs_root):
    training, run_id = train_and_save(sample_dataset, runs_root, epochs=3)
    saved = load_run(run_id, runs_root)
    live, replayed = training.iterations.points, saved.iterations()
    assert len(replayed) == len(live) and replayed[-1].iteration == training.history[-1].iterations
    for before, after in zip(live, replayed):
        assert after.iteration == before.iteration
        assert after.loss == pytest.approx(before.loss, rel=1e-5) and after.accuracy == pytest.approx(before.accuracy, rel=1e-5)


def test_a_stopped_run_keeps_the_iterations_of_its_unfinished_epoch(sample_dataset, runs_root):
    steps = []
    config = TrainConfig(epochs=3, batch_size=10)
    training = train_and_record(config, sample_dataset, runs_root=runs_root, stop_requested=lambda: len(steps) > 0 and
                                training.iterations.iterations > 1.5 * training.steps_per_epoch,
                                on_progress=lambda *progress: steps.append(progress))
    list(training)
    saved = load_run(training.run_id, runs_root)
    assert saved.status == RunStatus.STOPPED and len(saved.history) == 1
    assert saved.iterations()[-1].iteration == training.iterations.points[-1].iteration > training.steps_per_epoch


def test_an_oversized_iteration_curve_is_refused_by_name_not_cut_short(runs_root):
    """An iterations.csv past its size bound is refused by name: cut at the bound, its first part would pass
    for the whole curve."""
    from mnist_core.runs import MAX_ITERATIONS_BYTES

    training = run_written_with_numpy(runs_root)
    run_id = training.run_id
    path = load_run(run_id, runs_root).folder / "iterations.csv"
    rows = "".join(f"{iteration},0.5,0.5\n" for iteration in range(1, MAX_ITERATIONS_BYTES // 10))
    path.write_text("iteration,loss,accuracy\n" + rows)
    assert path.stat().st_size > MAX_ITERATIONS_BYTES
    points, problem = load_run(run_id, runs_root).iterations_and_problem()
    assert points == [] and "iterations.csv" in str(problem) and "bytes" in str(problem)
    assert load_run(run_id, runs_root).history == training.history


def test_a_folder_with_more_checkpoints_than_the_app_keeps_offers_only_as_many(runs_root):
    """Hand-made checkpoint files beyond MAX_CHECKPOINTS are not all offered: one GIF would read every one."""
    from mnist_core.runs import MAX_CHECKPOINTS, checkpoint_name

    run_id = run_written_with_numpy(runs_root).run_id
    folder = load_run(run_id, runs_root).folder / "checkpoints"
    first = (folder / checkpoint_name(0)).read_bytes()
    for epoch in range(1, 3 * MAX_CHECKPOINTS):
        (folder / checkpoint_name(epoch)).write_bytes(first)
    offered = load_run(run_id, runs_root).checkpoint_epochs()
    assert len(offered) == MAX_CHECKPOINTS and offered[0] == 0 and offered[-1] == 3 * MAX_CHECKPOINTS - 1
    assert offered == sorted(set(offered))


def test_a_damaged_or_missing_iteration_curve_leaves_the_run_readable(runs_root):
    training = run_written_with_numpy(runs_root)
    run_id = training.run_id
    path = load_run(run_id, runs_root).folder / "iterations.csv"
    complete = path.read_text()
    path.write_text(complete + "123")  # a crash in the middle of an append: the broken line is skipped
    assert len(load_run(run_id, runs_root).iterations()) == len(training.iterations)
    for damage in ("iteration,loss,accuracy\n5,nan,0.5\n", "iteration,loss,accuracy\n5,1,0.5\n4,1,0.5\n", "weights\n1,2,3\n"):
        path.write_text(damage)
        saved = load_run(run_id, runs_root)
        assert saved.iterations() == [] and saved.history == training.history
    path.unlink()  # a run saved before the curve was
    assert load_run(run_id, runs_root).iterations() == []


def test_a_finished_run_is_read_once_and_again_only_when_its_files_change(runs_root):
    """Every page lists its workspace's runs at every rerun: a finished run's files are read once, then
    lent while they stay the same (the README gives what that saves on a workspace of 5,000 runs)."""
    run_written_with_numpy(runs_root)
    (first,), _damaged = list_runs(runs_root)
    (again,), _damaged = list_runs(runs_root)
    assert again is first  # not read again
    metrics = first.folder / "metrics.csv"
    metrics.write_text(metrics.read_text().rsplit("\n", 2)[0] + "\n")  # the teacher's hand takes the last epoch off
    (changed,), _damaged = list_runs(runs_root)
    assert changed is not first and len(changed.history) == len(first.history) - 1
    metrics.write_text("not metrics\n")
    runs, damaged = list_runs(runs_root)
    assert runs == [] and len(damaged) == 1 and "metrics.csv" in str(damaged[0])


def test_a_run_still_training_is_read_afresh_every_time(sample_dataset, runs_root):
    from mnist_core.runs import start_run

    recorder = start_run(TrainConfig(), runs_root)
    try:
        (first,), _damaged = list_runs(runs_root)
        (again,), _damaged = list_runs(runs_root)
        assert again is not first and again.status == first.status == RunStatus.WAITING
    finally:
        recorder.discard()
