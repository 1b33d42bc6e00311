"""The time machine: a run replayed epoch by epoch, every view following one scrubber.

The engine part (pictures of weights, the digits followed, the answers at one epoch) with the real
engine; the page with Streamlit's AppTest on a real, tiny training run: trained on the Train page here
where what the Train page does after training is checked, else a copy of one trained there once per
test session (conftest.py's train_page_template)."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnist_core import TrainConfig, train_and_record
from mnist_core.exam import ExamResult, mark_answers
from mnist_core.models import build_model, get_weights
from mnist_core.palette import TRAIN_COLOUR, VALIDATION_COLOUR, rgb
from mnist_core.pictures import first_layer_tiles, weight_picture
from mnist_core.replay import by_heart_pairs, overfits, panel_digits
from mnist_core.runs import load_run
from tests.helpers import TEST_WORKSPACE, button, copy_workspace, open_page, rerun_until, train_on_the_train_page


@pytest.mark.parametrize("model_name, tiles, tile_shape", [("linear", 10, (28, 28)), ("mlp", 32, (28, 28)),
                                                            ("cnn", 16, (3, 3))])
def test_each_model_s_first_layer_is_drawn_as_tiles_of_its_input_s_shape(model_name, tiles, tile_shape):
    config = TrainConfig.for_model(model_name)
    weights = get_weights(build_model(config))
    drawn = first_layer_tiles(model_name, weights)
    assert drawn.shape == (tiles, *tile_shape)
    picture = weight_picture(config, weights)
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
    assert picture.shape[1] <= 600  # fits beside the curves on a projector


def test_the_linear_templates_are_its_columns_of_w_in_the_charts_colours():
    config = TrainConfig()
    weights = get_weights(build_model(config))
    (w_path,) = [path for path in weights if path.endswith("/W")]
    weights[w_path] = np.zeros_like(weights[w_path])
    weights[w_path][0, 3] = 1.0    # the top-left pixel votes for digit 3
    weights[w_path][27, 3] = -1.0  # and the 28th against it
    tiles = first_layer_tiles("linear", weights)
    assert tiles[3][0, 0] == 1.0 and tiles[3][0, 27] == -1.0 and not tiles[2].any()
    picture = weight_picture(config, weights)
    third_tile_left = 3 * (28 * 4 + 4)
    # Full positive and negative weights in the palette's validation and training colours, as on the curves.
    assert tuple(picture[0, third_tile_left]) == rgb(VALIDATION_COLOUR)
    assert tuple(picture[0, third_tile_left + 27 * 4]) == rgb(TRAIN_COLOUR)
    assert tuple(picture[0, 0]) == (255, 255, 255)  # a zero weight is white


def test_an_epoch_s_answers_match_the_checkpoint_s_model_and_the_panel_follows_two_digits_a_class(sample_dataset, runs_root):
    from mnist_core.config import split_for_config
    from mnist_core.models import predict_probabilities

    config = TrainConfig(epochs=3, batch_size=50)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    list(training)
    run = load_run(training.run_id, runs_root)
    split = split_for_config(sample_dataset, config)
    views = [mark_answers(run.load_checkpoint(epoch), split.validation_images, split.validation_labels)
             for epoch in run.checkpoint_epochs()]
    assert views[0].accuracy == pytest.approx(np.mean(split.validation_labels == 0))  # all-zero weights: every answer 0
    assert views[-1].accuracy == pytest.approx(training.history[-1].val_acc)  # the very number the run measured
    probabilities = predict_probabilities(run.load_checkpoint(2), split.validation_images)
    np.testing.assert_array_equal(views[2].predictions, probabilities.argmax(axis=1))
    assert views[2].confusion.sum() == len(split.validation_labels)

    labels = split.validation_labels
    panel = panel_digits(labels, views[1], views[-1])
    assert len(panel) == 20 and len(set(panel.tolist())) == 20
    assert labels[panel].tolist() == [digit for digit in range(10) for _twice in range(2)]  # two a class, in order
    learned_late = np.flatnonzero((views[1].predictions != labels) & (views[-1].predictions == labels))
    for story in panel[::2]:  # each class's first: a digit learned late, where the run learned one of its class late
        if np.isin(learned_late, np.flatnonzero(labels == labels[story])).any():
            assert story in learned_late
        else:  # none learned late: the one the last epoch found hardest, a mistake if it made any on this class
            members = labels == labels[story]
            still_wrong = members & (views[-1].predictions != labels)
            assert views[-1].predictions[story] != labels[story] if still_wrong.any() else \
                views[-1].confidences[story] == views[-1].confidences[members].min()


def view_of(predictions):
    """Marked answers that are `predictions`, each given with 90% confidence."""
    predictions = np.asarray(predictions)
    return ExamResult(loss=0.0, accuracy=0.0, confusion=np.zeros((10, 10), np.int64), predictions=predictions,
                      confidences=np.full(len(predictions), 0.9))


def test_an_overfitting_run_pairs_a_training_digit_learned_by_heart_with_a_validation_digit_still_wrong():
    from mnist_core.results import EpochResult

    def ending(train_acc, val_acc):
        return [EpochResult(1, 0.1, train_acc, 0.5, val_acc, 1.0, 10)]

    assert overfits(ending(1.0, 0.87)) and not overfits(ending(0.93, 0.92)) and not overfits([])
    training_labels = np.array([3, 3, 5, 7])
    first_training, last_training = view_of([3, 8, 6, 1]), view_of([3, 3, 5, 1])  # the second 3 and the 5 learned by heart
    validation_labels = np.array([3, 3, 5, 5, 7])
    first_validation, last_validation = view_of([8, 8, 5, 6, 7]), view_of([3, 8, 5, 6, 7])
    pairs = by_heart_pairs(training_labels, first_training, last_training, validation_labels, first_validation,
                           last_validation)
    # 3: training digit 1 (learned), validation digit 1 (wrong all along; digit 0 turned right);
    # 5: training digit 2, validation digit 3; 7: nothing learned by heart, nothing still wrong: no pair.
    assert pairs == [(1, 1), (2, 3)]


# -- the page ----------------------------------------------------------------------------------------

def scrubber(app):
    return app.select_slider(key="replay_epoch")


@pytest.mark.pages
def test_the_scrubber_moves_every_view_of_a_replayed_run(runs_root):
    app = open_page("pages/train.py")
    train_on_the_train_page(app, epochs=3, training_examples=300, name="to-replay")
    (link,) = app.get("page_link")  # the finished run points the way to its replay
    assert link.proto.label.startswith("Replay this run") and link.proto.page == "replay"
    app.switch_page("pages/replay.py").run()
    assert not app.exception
    assert scrubber(app).options == ["epoch 0: the random start", "epoch 1", "epoch 2", "epoch 3"]
    assert scrubber(app).value == 0

    def views(app):
        charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
        curve_points = {trace["name"]: len(trace["x"]) for chart in charts[:2] for trace in chart["data"]}
        confusion = charts[2]["data"][1]["z"] if len(charts) > 2 else None  # the mistakes' layer
        images = app.get("image")
        captions = [caption.value for caption in app.caption]
        return curve_points, confusion, len(images), captions

    start_curves, start_matrix, start_images, start_captions = views(app)
    assert set(start_curves.values()) == {0}  # the random start: nothing trained, nothing drawn
    assert start_images >= 1 + 20  # the weights and the twenty digits
    for epoch in (1, 3):
        scrubber(app).set_value(epoch).run()
        curves, matrix, images, captions = views(app)
        assert not app.exception
        assert curves["training loss"] == epoch and curves["validation accuracy"] == epoch
        assert matrix != start_matrix and images == start_images
        assert any(caption.startswith(f"Epoch {epoch}: training accuracy") for caption in captions)
    # Step back with the button: every view follows again, and the buttons know where it stands.
    button(app, "Back").click().run()
    assert scrubber(app).value == 2 and views(app)[0]["training loss"] == 2
    scrubber(app).set_value(3).run()
    assert button(app, "Next").disabled and not button(app, "Back").disabled  # at the last epoch, dragged there
    scrubber(app).set_value(0).run()
    assert button(app, "Back").disabled and not button(app, "Next").disabled


def replay_a_copy(runs_root, template, damage=lambda: None):
    """The Replay page opened on a copy of `template`'s run (one trained on the Train page), after `damage`."""
    workspace = copy_workspace(template, runs_root)
    damage()
    return open_page("pages/replay.py", workspace=workspace)


@pytest.mark.pages
def test_play_moves_through_the_epochs_and_stops_at_the_last(runs_root, train_page_template):
    app = replay_a_copy(runs_root, train_page_template(epochs=2))
    app.segmented_control(key="replay_speed").set_value(1.0).run()
    button(app, "Play").click().run()
    # While it plays, the player moves the epoch: a bar shows it, no slider a student could drag against it.
    assert app.session_state["replay_playing"] and not app.get("select_slider") and app.get("progress")
    assert button(app, "Back").disabled and button(app, "Next").disabled
    rerun_until(app, lambda page: not page.session_state["replay_playing"], seconds=60)
    assert scrubber(app).value == 2 and not app.exception
    button(app, "Play").click().run()  # at the last epoch, Play starts again from the random start
    assert app.session_state["replay_playing"] and app.session_state["replay_position"] == 0
    button(app, "Pause").click().run()
    assert scrubber(app).value == app.session_state["replay_position"] < 2 and not button(app, "Next").disabled


@pytest.mark.pages
def test_a_run_saved_before_checkpoints_replays_its_curves_and_says_why_no_more(runs_root, train_page_template):
    import shutil

    def remove_the_checkpoints():
        (run_folder,) = [folder for folder in runs_root.glob("*/*") if (folder / "checkpoints").is_dir()]
        shutil.rmtree(run_folder / "checkpoints")

    app = replay_a_copy(runs_root, train_page_template(epochs=2), remove_the_checkpoints)
    assert not app.exception and not app.error
    assert any("saved before every epoch's weights were kept" in info.value for info in app.info)
    assert scrubber(app).options == ["epoch 1", "epoch 2"] and not app.get("image")
    assert len(app.get("plotly_chart")) == 2  # the curves alone
    assert not [button for button in app.get("download_button") if "GIF" in button.proto.label]


@pytest.mark.pages
def test_a_damaged_checkpoint_is_named_and_the_other_epochs_still_replay(runs_root, train_page_template):
    def damage_epoch_1():
        (checkpoint,) = runs_root.glob("*/*/checkpoints/epoch-0001.npz")
        checkpoint.unlink()
        checkpoint.write_bytes(b"not a zip")  # a new file: the hard link to weights.npz is left intact

    app = replay_a_copy(runs_root, train_page_template(epochs=2), damage_epoch_1)
    scrubber(app).set_value(1).run()
    assert not app.exception
    assert any("The weights of this epoch cannot be read" in error.value and "epoch-0001.npz" in error.value
               for error in app.error)
    scrubber(app).set_value(2).run()
    assert not app.error and len(app.get("image")) == 21


@pytest.mark.pages
def test_an_unreadable_last_checkpoint_blanks_only_its_own_epoch(runs_root, train_page_template):
    """The digits followed through the run are chosen from the last readable checkpoint: an unreadable
    last one must not cost every other epoch its weights and digits, the random start's included."""
    def damage_epoch_2():
        (checkpoint,) = runs_root.glob("*/*/checkpoints/epoch-0002.npz")
        checkpoint.unlink()
        checkpoint.write_bytes(b"not a zip")

    app = replay_a_copy(runs_root, train_page_template(epochs=2), damage_epoch_2)
    for epoch in (0, 1):
        scrubber(app).set_value(epoch).run()
        assert not app.exception and not app.error and len(app.get("image")) == 21, epoch
    scrubber(app).set_value(2).run()
    assert any("epoch-0002.npz" in error.value for error in app.error)


@pytest.mark.pages
def test_a_gif_that_cannot_be_made_is_a_message_on_the_page(runs_root, train_page_template):
    """With every checkpoint damaged there is no GIF to make: the page says so, rather than a download
    that fails with only a line in the server's log (MediaFileStorageError)."""
    def damage_every_checkpoint():
        for checkpoint in runs_root.glob("*/*/checkpoints/epoch-*.npz"):
            checkpoint.unlink()
            checkpoint.write_bytes(b"not a zip")

    app = replay_a_copy(runs_root, train_page_template(epochs=2), damage_every_checkpoint)
    button(app, "Make the weights' animation (GIF)").click().run()
    assert not app.exception
    assert any("This file cannot be made" in error.value and "none of its kept weights can be read" in error.value
               for error in app.error)


@pytest.mark.pages
def test_a_download_is_made_once_and_offered_to_the_next_session_as_it_is(runs_root, train_page_template):
    """A .keras file made again on every click would take its size in server memory again each time."""
    app = replay_a_copy(runs_root, train_page_template(epochs=1))
    workspace = app.session_state["workspace"]
    button(app, "Make the trained model's file (.keras)").click().run()
    assert not app.exception and not app.error
    made = [element for element in app.get("download_button") if "keras" in element.proto.label]
    assert len(made) == 1
    again = open_page("pages/replay.py", workspace=workspace)  # a refresh: the same run, the same file
    assert not any(candidate.label.startswith("Make the trained model") for candidate in again.button)
    assert [element.proto.label for element in again.get("download_button") if "keras" in element.proto.label] == \
        [made[0].proto.label]


@pytest.mark.pages
def test_a_checkpoint_written_before_its_epoch_s_row_is_not_offered(runs_root, train_page_template):
    """A run still training writes an epoch's checkpoint a moment before its row of metrics; Next onto
    that epoch would raise IndexError inside the player, now and then. Made deterministic:
    a checkpoint one epoch past the history, as a live run has it for that moment."""
    def add_epoch_3_s_checkpoint():
        (last,) = runs_root.glob("*/*/checkpoints/epoch-0002.npz")
        (last.parent / "epoch-0003.npz").write_bytes(last.read_bytes())

    app = replay_a_copy(runs_root, train_page_template(epochs=2), add_epoch_3_s_checkpoint)
    assert not app.exception
    assert scrubber(app).options == ["epoch 0: the random start", "epoch 1", "epoch 2"]
    scrubber(app).set_value(2).run()
    assert not app.exception and not app.error
    assert button(app, "Next").disabled  # at the last epoch offered: Next cannot step onto the unfinished one


def test_a_fault_inside_a_fragment_is_the_app_s_message_not_streamlit_s():
    """A fragment reruns outside the page's guard, so it needs its own, or a fault in one shows Streamlit's red box."""
    def page():
        from ui.failures import guarded_fragment

        def faulty():
            raise IndexError("tuple index out of range")

        guarded_fragment(faulty)()

    app = AppTest.from_function(page, default_timeout=60).run()
    assert not app.exception
    assert any("Something went wrong on this page. Your runs are safe" in error.value for error in app.error)


@pytest.mark.pages
def test_an_overfitting_run_shows_digits_learned_by_heart_beside_digits_still_wrong(runs_root):
    from mnist_core import load_mnist
    from mnist_core.config import OVERFITTING_PRESET

    config = TrainConfig.from_dict({**TrainConfig().to_dict(), **OVERFITTING_PRESET, "epochs": 12})
    training = train_and_record(config, load_mnist(), runs_root=runs_root, workspace=TEST_WORKSPACE, name="overfits")
    list(training)
    assert training.history[-1].train_acc - training.history[-1].val_acc > 0.05
    app = open_page("pages/replay.py", workspace=TEST_WORKSPACE)
    assert not app.exception
    assert "Learned by heart, or learned?" in [header.value for header in app.subheader]
    pairs = [caption.value for caption in app.caption if caption.value in ("training", "validation")]
    assert len(pairs) >= 4 and pairs[:2] == ["training", "validation"]  # at least two classes' pairs
    scrubber(app).set_value(12).run()
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    # At the last epoch each pair reads: the training digit right, the validation digit wrong.
    by_heart = captions[21:]
    assert by_heart and all(caption.startswith("✓") for caption in by_heart[0::2])
    assert all(caption.startswith("✗") for caption in by_heart[1::2])
