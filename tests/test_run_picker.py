"""The run picker (ui/run_picker.py) of Replay, Exam and Inside: the run chosen stays chosen through a switch of
language and a visit to another page, and its label follows the language (tests/test_browser_replay.py sees it
in Chromium, where the label was once stuck in the language it was first drawn in)."""

import pytest

from mnist_core import TrainConfig
from mnist_core.runs import new_workspace
from tests.helpers import open_page, run_written_with_numpy

pytestmark = pytest.mark.pages


@pytest.mark.parametrize("page, key", [("pages/exam.py", "exam_run"), ("pages/replay.py", "replay_run_choice"),
                                       ("pages/inside.py", "inside_run")])
def test_the_run_chosen_stays_chosen_through_a_switch_of_language_and_of_page(runs_root, page, key):
    workspace = new_workspace(runs_root)
    for seed, name in enumerate(("first", "second")):
        run_written_with_numpy(runs_root, TrainConfig(epochs=2, batch_size=50, seed=seed), workspace=workspace,
                               name=name, seed=seed)
    app = open_page(page, workspace=workspace)
    picker = app.selectbox(key=f"{key}_en")
    other = next(option for option in picker.options if option != picker.value)
    chosen = picker.select(other).run().selectbox(key=f"{key}_en").value
    app.session_state["language"] = "zh"
    app.run()
    assert not app.exception
    in_chinese = app.selectbox(key=f"{key}_zh")
    assert in_chinese.value.run_id == chosen.run_id
    assert "最佳轮次的验证准确率" in in_chinese.options[0]
    app.switch_page("pages/overview.py").run()
    app.switch_page(page).run()
    assert app.selectbox(key=f"{key}_zh").value.run_id == chosen.run_id  # back on the page, the same run
