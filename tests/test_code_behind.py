"""The code behind a run (mnist_core/code_behind.py, ui/code_behind.py): what the Train and Replay pages show
is the source of the very functions train() runs, and each part of the note is matched to real lines."""

import inspect
import sys
import textwrap

import pytest

from mnist_core import TrainConfig, train
from mnist_core.code_behind import NOTE_CODE, engine_parts, matches, settings_code
from mnist_core.config import MODEL_NAMES, OPTIMIZER_NAMES
from mnist_core.runs import new_workspace
from tests.helpers import open_page, run_written_with_numpy


def functions_run_by(work) -> set:
    """The code objects of every Python function called while `work()` runs (in this thread, where train()
    runs its loop and TensorFlow traces its compiled functions)."""
    called = set()

    def tracer(frame, event, argument):
        if event == "call":
            called.add(frame.f_code)

    sys.settrace(tracer)
    try:
        work()
    finally:
        sys.settrace(None)
    return called


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_the_code_shown_is_the_code_train_runs(sample_dataset, monkeypatch, model_name):
    # A trainer of this shape may be idle from another test: then its compiled step would not be built
    # (or traced) again. An empty list of idle trainers makes train() build one, as a fresh server does.
    monkeypatch.setattr("mnist_core.trainers._idle_trainers", [])
    config = TrainConfig.for_model(model_name, epochs=1, batch_size=100, cnn_filters=4, hidden_units=16)
    called = functions_run_by(lambda: list(train(config, sample_dataset)))
    for part in engine_parts(config):
        assert part.function.__code__ in called, f"{part.name} is shown but train() did not run it"
        assert part.source == textwrap.dedent(inspect.getsource(part.function))


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_every_part_of_the_note_is_matched_to_lines_of_the_engine(model_name, optimizer):
    config = TrainConfig.for_model(model_name, optimizer=optimizer)
    found = matches(config)
    assert [match.note_name for match in found] == ["model", "loss", "grad", "apply_gradients", "optimizer", "accuracy",
                                                    "for step", "for epoch"]
    for match in found:
        first, last = match.lines_in_function
        assert 1 <= first <= last <= len(match.part.source.splitlines())
        assert all(line.strip() and line.strip() in NOTE_CODE for line in match.note_lines.splitlines())
        lines_of_file = open(match.part.function.__code__.co_filename, encoding="utf-8").read().splitlines()
        first_in_file, last_in_file = match.lines_in_file  # the page's "lines N-M" are the file's
        assert match.first_text in lines_of_file[first_in_file - 1] and match.last_text in lines_of_file[last_in_file - 1]
    optimizer_match = next(match for match in found if match.note_name == "optimizer")
    assert optimizer_match.engine_lines.startswith(f'"{optimizer}": lambda')


def test_the_settings_are_the_values_they_became():
    code = settings_code(TrainConfig.for_model("cnn", train_subset_size=500, batch_size=64))
    assert "config.cnn_filters = 16" in code and "config.hidden_layers" not in code  # only what applies to a CNN
    assert "training_examples = 500" in code
    assert "steps_per_epoch = 8  # ceil(500 / 64)" in code
    assert "training_examples = 54_000" in settings_code(TrainConfig())


def code_blocks(app) -> list[str]:
    """The page's code blocks, without the trailing newline a code block drops."""
    return [block.value.rstrip("\n") for block in app.code]


@pytest.mark.pages
def test_the_replay_page_shows_the_run_s_code_and_offers_it_to_take_home(runs_root):
    config = TrainConfig.for_model("mlp", epochs=2)
    workspace = new_workspace(runs_root)
    run = run_written_with_numpy(runs_root, config=config, workspace=workspace, name="mlp <b>run</b>")
    app = open_page("pages/replay.py", workspace=workspace)
    assert not app.exception
    assert "The code behind this run" in [expander.label for expander in app.expander]
    shown = code_blocks(app)
    for part in engine_parts(run.config):
        assert part.source.rstrip("\n") in shown
    for match in matches(run.config):
        assert match.engine_lines in shown and match.note_lines in shown
    assert "config.hidden_units = 256" in settings_code(run.config) and settings_code(run.config) in shown
    downloads = {element.proto.label: element for element in app.get("download_button")}
    assert {"Notebook (.ipynb)", "Script (.py)"} <= set(downloads)


@pytest.mark.pages
def test_the_train_page_shows_the_code_behind_the_next_run_in_chinese(runs_root):
    app = open_page()
    app.session_state["language"] = "zh"
    app.switch_page("pages/train.py").run()
    assert not app.exception
    labels = [expander.label for expander in app.expander]
    assert "The code behind the next run" not in labels and any("下一次" in label for label in labels)
    assert settings_code(TrainConfig()) in code_blocks(app)
