"""Page tests with Streamlit's AppTest: the real app script, the real engine, no browser."""

import json
import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.runs import run_folders
from tests.helpers import (
    TEST_WORKSPACE,
    button,
    chart_points,
    copy_workspace,
    has_button,
    open_page,
    rerun_until,
    runs_list,
    shown,
    start_run_on_the_train_page,
    train_on_the_train_page,
)

pytestmark = pytest.mark.pages

def test_the_overview_page_renders_the_split_of_real_mnist():
    app = open_page()
    assert not app.exception
    assert app.title[0].value == "MNIST Lab"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Training digits"] == "54,000" and metrics["Validation digits"] == "6,000" and metrics["Test digits"] == "10,000"


def test_the_train_page_completes_a_tiny_run_with_one_point_per_epoch_per_series(runs_root):
    app = open_page("pages/train.py")
    assert not app.exception
    train_on_the_train_page(app, epochs=2)
    assert not app.error, [error.value for error in app.error]
    assert shown(app.success[0]) == "Finished all 2 epoch(s)."
    assert chart_points(app) == {"training loss": 2, "validation loss": 2, "training accuracy": 2, "validation accuracy": 2}
    history = app.dataframe[0].value
    assert history.iloc[0]["status"] == "completed" and history.iloc[0]["epochs"] == 2


def test_a_batch_larger_than_the_training_subset_is_explained(runs_root):
    app = open_page("pages/train.py")
    app.select_slider(key="widget_batch_size").set_value(256)
    train_on_the_train_page(app, training_examples=100)
    assert "batch size (256) is larger than the training set (100 examples)" in shown(app.error[0])


def test_changing_the_model_loads_its_preset():
    app = open_page("pages/train.py")
    app.selectbox(key="widget_model").set_value("cnn").run()
    assert not app.exception
    assert app.select_slider(key="widget_batch_size").value == 128
    assert app.slider(key="widget_epochs").value == 3


def test_a_learning_rate_between_the_stops_stays_in_its_own_session():
    """A value between the slider's stops (from a preset or a CLI config) is offered to its own session
    only: the stops every other student sees on the server stay as they were."""
    teacher = open_page("pages/train.py")
    teacher.session_state["settings"]["learning_rate"] = 0.005
    teacher.run()
    assert "0.005" in teacher.select_slider(key="widget_learning_rate").options  # the formatted stops
    student = open_page("pages/train.py")
    assert "0.005" not in student.select_slider(key="widget_learning_rate").options


@pytest.fixture
def two_runs(runs_root, two_runs_template) -> str:
    """Two real runs on disk that differ in their optimizer, as the Compare page would find them (trained
    once per session, copied here, into a workspace of the test's own): that workspace."""
    return copy_workspace(two_runs_template, runs_root)


def test_the_compare_page_overlays_two_runs_and_highlights_what_differs(runs_root, two_runs):
    app = open_page("pages/compare.py", workspace=two_runs)
    assert not app.exception
    assert len(runs_list(app).value) == 2
    chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert [len(trace["x"]) for trace in chart["data"]] == [2, 2]
    assert {trace["name"].split(" · ")[1] for trace in chart["data"]} == {"Linear, SGD, lr 0.003", "Linear, Adam, lr 0.003"}
    settings = app.dataframe[0].value
    assert settings.index[0] == "Optimizer"  # the one setting that differs comes first, in words
    assert set(settings.iloc[0]) == {"SGD", "Adam"} and settings.loc["Training examples used"].tolist() == ["300", "300"]
    assert "Momentum" not in settings.index and "train_subset_size" not in settings.index  # no raw names, nothing that does not apply
    # Colour-blind-safe and distinct: no two runs share a colour (SGD and momentum were two blues).
    assert len({trace["line"]["color"] for trace in chart["data"]}) == 2
    assert chart["layout"]["xaxis"]["range"] == [0.5, 2.5]  # whole epochs from 1
    assert app.get("download_button")


def start_a_race(training_examples: int, epochs: int) -> AppTest:
    """Open Compare in a new workspace and race SGD against Adam on the sidebar's settings."""
    app = open_page("pages/compare.py")
    app.select_slider(key="widget_train_subset_size").set_value(training_examples)
    app.slider(key="widget_epochs").set_value(epochs)
    app.multiselect(key="race_optimizers").set_value(["sgd", "adam"])
    app.run()
    button(app, "Start the race").click().run()
    return app


def test_the_optimizer_race_overlays_one_curve_per_optimizer(runs_root):
    app = start_a_race(training_examples=300, epochs=2)
    rerun_until(app, lambda page: any("SGD: completed · Adam: completed" in shown(caption) for caption in page.caption))
    loss_chart, accuracy_chart = (json.loads(chart.proto.spec) for chart in app.get("plotly_chart")[-2:])
    for chart in (loss_chart, accuracy_chart):
        assert sorted(trace["name"] for trace in chart["data"]) == ["Adam (lr 0.001)", "SGD (lr 0.1)"]
        assert all(len(trace["x"]) == 2 for trace in chart["data"])
    # Titled with which way is better, validation accuracy beside the loss, and the race names its winner.
    assert loss_chart["layout"]["title"]["text"] == "Validation loss: lower is better"
    assert accuracy_chart["layout"]["title"]["text"] == "Validation accuracy: higher is better"
    final_accuracy = {trace["name"]: trace["y"][-1] for trace in accuracy_chart["data"]}
    winner = max(final_accuracy, key=final_accuracy.get)
    assert any(shown(message).startswith(f"Winner: {winner}") for message in app.success)


def test_the_overfitting_preset_trains_a_run_that_overfits(runs_root):
    app = open_page("pages/compare.py")
    button(app, "Set up and train the overfitting run").click().run()
    assert app.title[0].value == "Train a model"
    app.switch_page("pages/train.py")  # AppTest does not follow st.switch_page on its next run; a browser does
    rerun_until(app, lambda page: page.success or page.error)
    assert shown(app.success[0]) == "Finished all 40 epoch(s)."
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Training accuracy, epoch 40"] == "100.00%"
    assert float(metrics["Validation accuracy, epoch 40"].rstrip("%")) < 92
    gap_points = float(metrics["Generalization gap"].removesuffix(" points"))  # in accuracy points, not a loss
    assert gap_points == round(100 - float(metrics["Validation accuracy, epoch 40"].rstrip("%")), 1) and gap_points > 8
    # What the preset trains is named on the page, and the sidebar shows the same settings.
    assert any("MLP, Adam at 0.001, batch 32, 40 epochs, 500 training examples" in shown(caption) for caption in app.caption)
    assert app.select_slider(key="widget_train_subset_size").value == 500


def test_leaving_the_page_while_training_does_not_lose_the_run(runs_root):
    app = open_page("pages/train.py")
    start_run_on_the_train_page(app, epochs=30, training_examples=1000)
    assert app.dataframe[0].value["status"].tolist() in (["running"], ["waiting"])  # the run history lists the run training now
    app.switch_page("pages/overview.py").run()  # the student wanders off mid-run...
    app.slider(key="widget_label_noise").set_value(0.1).run()  # ...and clicks a widget
    assert not app.exception
    app.switch_page("pages/train.py").run()  # the run went on in the background; the charts catch up
    rerun_until(app, lambda page: page.success or page.error)
    assert shown(app.success[0]) == "Finished all 30 epoch(s)."
    assert chart_points(app)["validation accuracy"] == 30


def test_the_exam_and_draw_pages_without_any_run_point_the_way(runs_root):
    app = open_page("pages/exam.py")
    assert not app.exception and "No trained run yet" in shown(app.info[0])
    app.switch_page("pages/draw.py").run()
    assert not app.exception
    assert any(button.label.startswith("Quick-train a CNN") for button in app.button)


def test_the_exam_page_marks_the_test_set_with_a_confusion_matrix(runs_root, two_runs):
    app = open_page("pages/exam.py", workspace=two_runs)
    assert not app.exception
    button(app, "Sit the final exam").click().run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert 0.5 < float(metrics["Test accuracy"].rstrip("%")) / 100 <= 1.0

    def confusion_cells():
        """The matrix as drawn: right answers (the diagonal) in one layer, mistakes on their own scale in another."""
        right, mistakes = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][:2]
        assert right["type"] == mistakes["type"] == "heatmap"
        cells = np.array([[a if a is not None else b for a, b in zip(*rows)] for rows in zip(right["z"], mistakes["z"])])
        assert all(right["z"][i][j] is None for i in range(10) for j in range(10) if i != j)
        assert all(mistakes["z"][i][i] is None for i in range(10))
        assert mistakes["zmax"] == max(cells[i][j] for i in range(10) for j in range(10) if i != j)  # its own scale
        return cells, mistakes

    cells, mistakes = confusion_cells()
    assert cells.sum() == 10000 and mistakes["colorbar"]["tickformat"] == ",d"
    # Accuracy per digit zoomed to the bars (ten bars near 99% on a 0-100% axis would look identical).
    per_digit = json.loads(app.get("plotly_chart")[1].proto.spec)
    lowest = min(per_digit["data"][0]["y"])
    assert per_digit["layout"]["yaxis"]["range"] == [max(0, math.floor(lowest * 100 - 1) / 100), 1]
    assert "the axis starts at" in per_digit["layout"]["title"]["text"]
    # The exam is counted, not forbidden: a second sitting says how many times the test set was seen.
    button(app, "Sit the final exam").click().run()
    assert any("looked at the test set 2 times" in shown(caption) for caption in app.caption)
    app.toggle(key="exam_normalised").set_value(True).run()
    cells, mistakes = confusion_cells()
    assert np.allclose(cells.sum(axis=1), 1) and mistakes["colorbar"]["tickformat"] == ".1~%"  # the colour bar reads in % too
    # The gallery's caption says what its two filters chose (not "in this cell" with both on "any").
    gallery_caption = next(shown(caption) for caption in app.caption if "mistake" in shown(caption))
    assert re.fullmatch(r"[\d,]+ mistakes in all; showing the 40 most confident\.", gallery_caption)
    app.selectbox(key="exam_true_digit").set_value(9).run()
    app.selectbox(key="exam_predicted_digit").set_value(4).run()
    assert any(re.match(r"[\d,]+ mistakes? on a true 9 read as 4", shown(caption)) for caption in app.caption)


def test_the_draw_page_with_a_run_waits_for_a_digit(runs_root, two_runs):
    app = open_page("pages/draw.py", workspace=two_runs)
    assert not app.exception
    assert "Draw a digit" in shown(app.info[0])
    assert not app.metric  # no prediction for a blank canvas


def test_quick_training_on_the_draw_page_leads_to_a_model_ready_to_read(runs_root):
    app = open_page("pages/draw.py")
    button(app, "Quick-train a CNN").click().run()
    rerun_until(app, lambda page: any("Draw a digit on the black square" in info.value for info in page.info), seconds=300)
    assert not app.exception
    assert app.selectbox(key="draw_run").value.config.model == "cnn"


# -- a classroom: sessions kept apart, faults and bad input shown, not crashed on --------------------

def workspace_of(app: AppTest) -> str:
    return app.session_state["workspace"]


def latest_job(app: AppTest):
    from mnist_core.jobs import job_board

    return job_board.current(workspace_of(app)).jobs[-1]


def history_table(app: AppTest):
    return app.dataframe[0].value


def test_two_sessions_each_see_only_their_own_runs_and_a_refresh_finds_them_again(runs_root):
    alice, bob = open_page("pages/train.py"), open_page("pages/train.py")
    alice_workspace, bob_workspace = workspace_of(alice), workspace_of(bob)
    assert alice_workspace != bob_workspace
    start_run_on_the_train_page(alice, epochs=2, name="alice's run")
    start_run_on_the_train_page(bob, epochs=3, name="bob's run")  # both at once: one trains, one queues
    for app in (alice, bob):
        rerun_until(app, lambda page: page.success or page.error)
        app.run()
    assert list(history_table(alice)["run"]) == ["alice's run"]
    assert list(history_table(bob)["run"]) == ["bob's run"]
    assert chart_points(alice)["validation loss"] == 2 and chart_points(bob)["validation loss"] == 3

    refreshed = open_page("pages/train.py", workspace=alice_workspace)  # same browser, new session
    assert list(history_table(refreshed)["run"]) == ["alice's run"]
    draw = open_page("pages/draw.py", workspace=bob_workspace)
    assert draw.selectbox(key="draw_run").value.name == "bob's run"  # models too are per workspace


def test_a_workspace_address_that_is_a_path_opens_a_new_workspace_with_a_warning(runs_root):
    app = open_page(address="../../etc")
    assert not app.exception
    assert "“../../etc” is not a workspace this server handed out, so this is a new, empty workspace." in shown(
        app.sidebar.warning[0])
    assert workspace_of(app) != "../../etc" and "workspace" not in app.query_params
    app.switch_page("pages/train.py").run()
    assert any("No runs yet" in caption.value for caption in app.main.caption)


def shown_texts(block) -> list[str]:
    """Every text `block` shows, its labels included; not an Html element (the workspace's cookie script
    is one: the browser runs it and shows nothing)."""
    texts = []
    for child in getattr(block, "children", {}).values():
        if type(child).__name__ == "Html":
            continue
        texts += [str(getattr(child, field)) for field in ("label", "value", "body") if getattr(child, field, None) is not None]
        texts += shown_texts(child)
    return texts


def test_a_hand_picked_or_old_workspace_address_is_refused_and_a_new_workspace_is_used(runs_root):
    from mnist_core import TrainConfig
    from mnist_core.runs import is_minted_workspace, new_workspace, start_run

    start_run(TrainConfig(), runs_root, name="alice's", workspace="alice")  # the command line may still name one
    minted = new_workspace(runs_root)
    tampered = minted[:-1] + ("0" if minted[-1] != "0" else "1")
    for requested in ("alice", "1a2b3c4d5e6f7a8b", tampered, minted.upper()):  # a name, an old-style id, two forgeries
        app = open_page(address=requested)
        assert not app.exception
        assert shown(app.sidebar.warning[0]) == \
            f"“{requested}” is not a workspace this server handed out, so this is a new, empty workspace."
        workspace = workspace_of(app)
        assert workspace != requested and is_minted_workspace(workspace) and "workspace" not in app.query_params
        app.switch_page("pages/train.py").run()
        assert any("No runs yet" in caption.value for caption in app.main.caption)


def test_the_key_to_a_workspace_is_in_neither_the_address_nor_the_sidebar_until_asked_for(runs_root):
    from mnist_core.runs import is_minted_workspace, workspace_nickname

    app = open_page()
    key = workspace_of(app)
    assert is_minted_workspace(key) and dict(app.query_params) == {"lang": "en"}
    texts = shown_texts(app.sidebar) + shown_texts(app.main)
    assert not any(key in text for text in texts)
    assert any(text.startswith(f"Workspace **{workspace_nickname(key)}**: your runs") for text in shown_texts(app.sidebar))
    assert not app.sidebar.code  # the private link is not even sent while its popover is closed (tests/test_browser.py opens it)

    # The private link, opened elsewhere. On its landing page, where AppTest draws the sidebar (after a page
    # switch it runs the page's script alone, and a sidebar check would look at nothing).
    other_computer = open_page(address=key)
    assert any(text.startswith(f"Workspace **{workspace_nickname(key)}**") for text in shown_texts(other_computer.sidebar))
    assert workspace_of(other_computer) == key and not other_computer.sidebar.warning
    assert dict(other_computer.query_params) == {"lang": "en"}  # taken out of the address, the language kept


def test_a_run_name_with_a_path_is_kept_as_a_label_only(runs_root):
    app = open_page("pages/train.py")
    train_on_the_train_page(app, name="../../../escape")
    app.run()
    assert list(history_table(app)["run"]) == ["../../../escape"]
    assert [path.name for path in runs_root.parent.iterdir()] == ["runs"]
    assert all(folder.name.endswith(tuple("0123456789abcdef")) and "-linear-" in folder.name for folder in run_folders(runs_root))


def test_a_run_killed_with_its_server_is_shown_as_interrupted_and_its_model_loads(runs_root, kill_a_training_run):
    kill_a_training_run("class-b")
    app = open_page("pages/train.py", workspace="class-b")
    assert not app.exception
    table = history_table(app)
    assert table.iloc[0]["status"] == "interrupted" and table.iloc[0]["epochs"] >= 2
    assert any("killed mid-run" in shown(warning) and "epochs and their weights are kept" in shown(warning)
               for warning in app.warning)
    exam = open_page("pages/exam.py", workspace="class-b")
    button(exam, "Sit the final exam").click().run()
    assert not exam.exception and not exam.error
    assert any(metric.label == "Test accuracy" for metric in exam.metric)


def test_a_damaged_run_folder_is_named_and_the_good_runs_still_listed(runs_root, two_runs):
    damaged = sorted(run_folders(runs_root))[0]
    (damaged / "metrics.csv").write_text("epoch,train_loss\n1,0.5,0.3\n")  # truncated by hand
    for page in ("pages/train.py", "pages/compare.py"):
        app = open_page(page, workspace=two_runs)
        assert not app.exception
        assert any(damaged.name in shown(warning) and "metrics.csv is damaged" in shown(warning) for warning in app.warning)
    assert len(history_table(open_page("pages/train.py", workspace=two_runs))) == 1


def choose_the_mlp_with(app: AppTest, optimizer: str, learning_rate: float, batch_size: int) -> None:
    app.selectbox(key="widget_model").set_value("mlp").run()
    app.selectbox(key="widget_optimizer").set_value(optimizer).run()
    app.select_slider(key="widget_learning_rate").set_value(learning_rate).run()
    app.select_slider(key="widget_batch_size").set_value(batch_size).run()


def test_a_learning_rate_that_overflows_the_loss_ends_as_diverged_with_advice(runs_root):
    app = open_page("pages/train.py")
    choose_the_mlp_with(app, "sgd", 10.0, 8)
    train_on_the_train_page(app, epochs=3)
    assert "The run diverged." in shown(app.error[0]) and "try 1" in shown(app.error[0])
    assert "nan" not in json.dumps([json.loads(chart.proto.spec)["data"] for chart in app.get("plotly_chart")]).lower()


def test_a_learning_rate_that_blows_the_loss_up_without_nan_gets_a_warning(runs_root):
    app = open_page("pages/train.py")
    choose_the_mlp_with(app, "momentum", 10.0, 100)
    train_on_the_train_page(app, epochs=1)
    warning = shown(app.warning[0])
    assert "The learning rate is too high." in warning and "above the 2.30 of guessing" in warning and "try 1," in warning


def test_choosing_an_optimizer_loads_its_usual_learning_rate_and_says_so(runs_root):
    app = open_page("pages/train.py")
    app.selectbox(key="widget_optimizer").set_value("sgd").run()
    assert app.select_slider(key="widget_learning_rate").value == 0.1
    assert any("Learning rate 0.003 → 0.1" in shown(toast) for toast in app.toast)
    assert "Usual starting rate for SGD: 0.1" in app.select_slider(key="widget_learning_rate").help
    app.selectbox(key="widget_optimizer").set_value("adam").run()
    assert app.select_slider(key="widget_learning_rate").value == 0.003  # the linear model's own rate for Adam
    app.selectbox(key="widget_model").set_value("mlp").run()  # a preset says what it changed, too
    assert any("Epochs 5 → 10" in shown(toast) for toast in app.toast)
    next(button for button in app.sidebar.button if button.label == "Reset to defaults").click().run()
    assert app.selectbox(key="widget_model").value == "linear" and app.slider(key="widget_epochs").value == 5


def test_pressing_train_twice_starts_one_run_and_stopping_twice_keeps_it(runs_root):
    app = open_page("pages/train.py")
    # A second tab of the same workspace, drawn before the run starts: its Train button is still live.
    other_tab = open_page("pages/train.py", workspace=workspace_of(app))
    start_run_on_the_train_page(app, epochs=100, training_examples=1000)
    first_job = latest_job(app)
    assert button(app, "Train").disabled
    button(other_tab, "Train").click().run()  # a second click that raced the greying
    assert latest_job(app) is first_job
    rerun_until(app, lambda page: len(latest_job(page).snapshot().history) >= 1)
    for _ in range(2):  # a second click, unless the first has ended the run already and greyed Stop out
        if not button(app, "Stop").disabled:
            button(app, "Stop").click().run()
    rerun_until(app, lambda page: page.info)
    assert not app.exception
    assert re.match(r"Stopped (during|after) epoch \d+", shown(app.info[0]))  # after: pressed between two epochs
    table = history_table(app)
    assert len(table) == 1 and table.iloc[0]["status"] == "stopped" and table.iloc[0]["epochs"] >= 1


def test_zero_and_negative_values_are_refused_with_the_setting_named(runs_root):
    app = open_page("pages/train.py")
    app.number_input(key="widget_seed").set_value(-1).run()
    assert not app.exception  # the widget itself keeps the seed at 0 or more
    assert app.number_input(key="widget_seed").value >= 0
    app.session_state["settings"]["batch_size"] = 0  # a value no widget offers (a hand-edited preset, say)
    app.run()
    assert "batch_size must be a whole number of at least 1 (got 0)" in shown(app.error[0])
    assert not has_button(app, "Train")


def test_a_corrupted_data_file_is_named_never_trained_on_and_repaired_from_the_app(tmp_path, monkeypatch, runs_root):
    from mnist_core.data import data_file

    good = data_file().read_bytes()
    monkeypatch.setenv("MNIST_LAB_DATA_DIR", str(tmp_path))
    damaged = tmp_path / "mnist.npz"
    damaged.write_bytes(good[: len(good) // 2])  # a copy cut short
    app = open_page("pages/train.py")
    assert not app.exception
    message = shown(app.error[0])
    assert str(damaged) in message and "python -m mnist_core fetch --force" in message
    assert not has_button(app, "Train")
    button(app, "Provision MNIST again").click().run()  # the real provisioning
    assert not app.exception and not app.error
    assert has_button(app, "Train")
    assert damaged.read_bytes() != good[: len(good) // 2]


def test_a_refreshed_tab_finds_its_running_run_and_can_stop_it(runs_root):
    app = open_page("pages/train.py")
    start_run_on_the_train_page(app, epochs=100, training_examples=1000)
    rerun_until(app, lambda page: len(latest_job(page).snapshot().history) >= 1)

    refreshed = open_page("pages/train.py", workspace=workspace_of(app))  # F5: a new session, same browser
    buttons = {button.label: button for button in refreshed.button}
    assert buttons["Train"].disabled and not buttons["Stop"].disabled
    assert chart_points(refreshed)["validation loss"] >= 1
    buttons["Stop"].click().run()
    rerun_until(refreshed, lambda page: page.info)
    assert re.match(r"Stopped (during|after) epoch \d+", shown(refreshed.info[0]))
    assert history_table(refreshed).iloc[0]["status"] == "stopped"


# -- a shared server: one activity per workspace, read-only shared runs, limits, plain text ---------

def test_a_workspace_runs_one_thing_at_a_time_on_every_page(runs_root):
    train = open_page("pages/train.py")
    workspace = workspace_of(train)
    train.selectbox(key="widget_model").set_value("mlp").run()
    train.select_slider(key="widget_hidden_units").set_value(1024)
    train.select_slider(key="widget_batch_size").set_value(1)  # seconds before the first epoch ends: Draw has no model yet
    start_run_on_the_train_page(train, epochs=100, training_examples=1000)
    draw = open_page("pages/draw.py", workspace=workspace)
    assert button(draw, "Quick-train a CNN").disabled
    compare = open_page("pages/compare.py", workspace=workspace)
    assert button(compare, "Start the race").disabled
    button(compare, "Set up and train the overfitting run").click().run()
    assert any("already training" in shown(warning) for warning in compare.warning)  # a message, not a hidden job
    from mnist_core.jobs import job_board

    assert len(job_board.current(workspace).jobs) == 1
    button(train, "Stop").click().run()
    rerun_until(train, lambda page: page.info)
    assert len(history_table(train)) == 1


def test_the_race_keeps_its_stop_button_after_a_refresh(runs_root):
    app = start_a_race(training_examples=1000, epochs=100)
    refreshed = open_page("pages/compare.py", workspace=workspace_of(app))
    assert any("Adam: waiting for its turn" in shown(caption) for caption in refreshed.caption)  # one queued run at a time
    button(refreshed, "Stop the race").click().run()
    rerun_until(refreshed, lambda page: any("SGD: stopped · Adam: stopped" in shown(caption) for caption in page.caption))
    train = open_page("pages/train.py", workspace=workspace_of(app))
    assert not button(train, "Train").disabled


def test_the_shared_workspace_is_read_only_in_the_browser(runs_root):
    shared = open_page(address="shared")  # the teacher's projected link: no key, so it stays in the address
    assert "read-only" in shown(shared.sidebar.caption[0]) and shared.query_params["workspace"] == "shared"
    app = open_page("pages/train.py", address="shared")
    button(app, "Train").click().run()
    assert any("read-only in the browser" in shown(warning) for warning in app.warning)
    assert not app.exception and list(runs_root.glob("*/*")) == []


def test_a_runs_folder_that_cannot_be_written_is_a_message_before_training(unwritable_runs_root):
    app = open_page("pages/train.py")
    button(app, "Train").click().run()
    assert not app.exception
    assert "Nothing was trained: the run cannot be saved. Cannot write to" in shown(app.error[0])
    assert not has_button(app, "Stop") or button(app, "Stop").disabled


def test_a_workspace_at_its_disk_quota_is_told_so_before_training(runs_root, monkeypatch):
    monkeypatch.setenv("MNIST_LAB_WORKSPACE_DISK_MB", "0.02")  # a 2-epoch linear run crosses it, and keeps its last weights
    app = open_page("pages/train.py")
    train_on_the_train_page(app)
    runs_before = run_folders(runs_root)
    button(app, "Train").click().run()
    assert not app.exception
    assert any(re.search(r"This workspace's runs take [\d.]+ MB of disk space, and a workspace may keep at most 0\.02 MB .*"
                         r"Ask your teacher", shown(error)) for error in app.error)
    assert run_folders(runs_root) == runs_before  # nothing was saved


def test_a_run_that_would_pass_the_time_limit_is_warned_about_before_training(runs_root):
    app = open_page("pages/train.py")
    assert any("Estimated training time: about" in shown(caption) for caption in app.caption)
    app.selectbox(key="widget_model").set_value("cnn").run()
    app.select_slider(key="widget_hidden_units").set_value(1024)
    app.select_slider(key="widget_cnn_filters").set_value(64)
    app.select_slider(key="widget_batch_size").set_value(1)
    app.slider(key="widget_epochs").set_value(100).run()
    assert any("would train for about" in shown(warning) and "hours" in shown(warning) and "at most 15 minutes" in shown(warning)
               for warning in app.warning)


def test_runs_whose_labels_coincide_are_both_offered_on_compare(runs_root):
    from mnist_core import TrainConfig, load_mnist, train_and_record

    for _ in range(2):
        config = TrainConfig(epochs=1, train_subset_size=300, batch_size=50)
        list(train_and_record(config, load_mnist(), runs_root=runs_root, workspace=TEST_WORKSPACE, name="same"))
    app = open_page("pages/compare.py", workspace=TEST_WORKSPACE)
    assert len(runs_list(app).value) == 2
    assert len(chart_points(app)) == 2


def test_a_page_that_fails_shows_a_message_not_a_traceback(runs_root, monkeypatch):
    import mnist_core.config

    def broken(*_):
        raise RuntimeError("/srv/secret/path exploded")

    monkeypatch.setattr(mnist_core.config, "split_for_config", broken)  # the Overview's first call into the engine
    app = open_page(workspace=TEST_WORKSPACE)  # the landing page, run inside dashboard.py's navigation as in a browser
    assert not app.exception
    assert "Something went wrong on this page. Your runs are safe" in shown(app.error[0])
    assert all("/srv/secret" not in shown(error) for error in app.error)


def test_the_iteration_view_shows_every_batch_and_the_validation_set_at_each_epoch_end(runs_root):
    app = open_page("pages/train.py")
    train_on_the_train_page(app, epochs=2, training_examples=300)  # batches of 100: 3 iterations an epoch
    app.segmented_control(key="curve_view").set_value("iterations").run()
    loss_chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    batches, validation = loss_chart["data"]
    assert batches["name"] == "training batches" and batches["x"] == [1, 2, 3, 4, 5, 6]
    assert validation["x"] == [3, 6] and len(validation["y"]) == 2  # on the same axis, at each epoch's end
    assert loss_chart["layout"]["xaxis"]["title"]["text"] == "iteration (one batch each)"
    assert [shape["x0"] for shape in loss_chart["layout"]["shapes"]] == [3]  # the boundary between the two epochs
    assert not app.exception and any(metric.label.startswith("Validation accuracy") for metric in app.metric)


def iterations_done(app: AppTest) -> int:
    """The iterations the run has trained in all, read from its progress bar ("Epoch 2 of 100: iteration 3 of 10")."""
    epoch, step, steps = map(int, re.fullmatch(r"Epoch (\d+) of [\d,]+: iteration ([\d,]+) of ([\d,]+)",
                                               app.progress[0].text.replace(",", "")).groups())
    return (epoch - 1) * steps + step


def resting_paused(app: AppTest) -> bool:
    return any("Left paused, it stops by itself in" in shown(caption) for caption in app.caption)


def test_a_paused_run_steps_one_batch_at_a_time_and_resumes_to_its_end(runs_root):
    app = open_page("pages/train.py")
    app.select_slider(key="widget_batch_size").set_value(8)  # 12,500 iterations: seconds to train, time to press Pause
    start_run_on_the_train_page(app, epochs=100, training_examples=1000)
    button(app, "Pause").click().run()
    rerun_until(app, resting_paused)
    assert app.segmented_control(key="curve_view").value == "iterations"  # where a single step shows
    assert not has_button(app, "Pause") and not button(app, "Stop").disabled
    before, weights_before = iterations_done(app), app.get("image")[0].value
    assert any("given its training slot to others" in shown(caption) for caption in app.caption)

    button(app, "Step one batch").click().run()
    rerun_until(app, lambda page: iterations_done(page) == before + 1 and resting_paused(page))
    assert app.get("image")[0].value != weights_before  # the weights moved
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["x"][-1] == before + 1  # the curve ends there too

    button(app, "Resume").click().run()
    assert has_button(app, "Pause") and not app.get("image")
    rerun_until(app, lambda page: page.success or page.error)
    assert shown(app.success[0]) == "Finished all 100 epoch(s)."
    assert history_table(app).iloc[0]["status"] == "completed"


def waiting_message(queue_position: int, waiting_for: str | None) -> str:
    """What the Train page says of a run waiting to start, given where it waits."""
    def page(queue_position, waiting_for):
        from mnist_core import RunStatus
        from mnist_core.jobs import JobSnapshot
        from ui.jobs import show_progress

        show_progress(None, JobSnapshot(
            status=RunStatus.WAITING, message="", history=(), iterations=(), epoch=1, step=0, steps_per_epoch=10,
            queue_position=queue_position, best_epoch=None, run_id="r", waiting_for=waiting_for, paused=False,
            paused_weights=None, pause_seconds_left=None))

    app = AppTest.from_function(page, args=(queue_position, waiting_for), default_timeout=60).run()
    assert not app.exception
    return " ".join(message.value for message in app.info)


def test_a_waiting_run_says_other_runs_are_training_only_when_it_queues_behind_them():
    """"Other runs on this computer are training" is for a run in the queue only: not for one that has
    the machine to itself (just out of the queue), nor for a race's run waiting for its own race."""
    assert "Other runs on this computer are training" in waiting_message(2, None)
    assert "number 2 in the queue" in waiting_message(2, None)
    assert "Other runs" not in waiting_message(0, None) and "Starting" in waiting_message(0, None)
    assert "Other runs" not in waiting_message(0, "run-1") and "race" in waiting_message(0, "run-1")


def test_the_train_page_after_a_race_points_to_the_history_not_to_nothing_trained(runs_root):
    """Train, race on Compare, come back: the Train page must not say "Nothing trained yet in this
    session" above a history of the race's runs."""
    app = start_a_race(training_examples=300, epochs=1)
    rerun_until(app, lambda page: any("SGD: completed · Adam: completed" in shown(caption) for caption in page.caption))
    app.switch_page("pages/train.py").run()
    assert not app.exception
    assert len(history_table(app)) == 2
    messages = " ".join(message.value for message in app.info)
    assert "Nothing trained yet" not in messages and "earlier runs are in the run history below" in messages
    fresh = open_page("pages/train.py")
    assert any("Nothing trained yet in this workspace" in message.value for message in fresh.info)


def test_a_run_with_no_finished_epoch_shows_a_dash_for_its_best_epoch(runs_root):
    """A waiting run has no best epoch: a dash in the run history, not "None"."""
    from mnist_core import TrainConfig
    from mnist_core.runs import start_run

    recorder = start_run(TrainConfig(epochs=1), runs_root=runs_root, name="waiting", workspace=TEST_WORKSPACE)
    app = open_page("pages/train.py", workspace=TEST_WORKSPACE)
    assert not app.exception
    table = history_table(app)
    assert list(table["best epoch"]) == ["-"] and "None" not in table.to_string()
    recorder.discard()


def test_one_click_trains_the_run_again_with_a_cure_and_draws_before_and_after(runs_root):
    """"The same run, augmented" and its before/after overlay, without a trip to Compare."""
    app = open_page("pages/train.py")
    train_on_the_train_page(app, epochs=2, training_examples=300, name="small")
    labels = [button.label for button in app.button if button.key and button.key.startswith("cure_")]
    assert labels == ["10x the training examples", "augmentation", "L2 penalty 0.001"]  # dropout: not for the linear model
    next(button for button in app.button if button.key == "cure_augmentation").click().run()
    rerun_until(app, lambda page: page.success and latest_job(page).config.augment_shift == 2.0
                and latest_job(page).snapshot().finished)
    app.run()
    assert not app.exception
    assert list(history_table(app)["run"])[:2] == ["small, again with augmentation", "small"]
    chart = next(json.loads(chart.proto.spec) for chart in app.get("plotly_chart")
                 if json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", "").startswith("Accuracy before"))
    assert [trace["name"] for trace in chart["data"]] == ["small: training", "small: validation",
                                                          "with augmentation: training", "with augmentation: validation"]
    assert all(len(trace["x"]) == 2 for trace in chart["data"])
