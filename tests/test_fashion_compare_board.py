"""Runs of two datasets are never ranked together: the class board ranks each dataset's entries on its
own (the spread of the same settings and what the top share too), its CSV names each entry's dataset,
the teacher's reveal examines each entry on the test set of ITS dataset, and the Compare page overlays
one dataset's runs at a time. An entry posted before there were two datasets is MNIST's. Runs are
written with NumPy weights (tests/helpers.py), so nothing trains here."""

import csv
import io
import json

import pytest

import mnist_core.classes as classes
from mnist_core import TrainConfig
from mnist_core.classes import (
    board,
    board_csv,
    common_to_the_top,
    new_class,
    post_entry,
    reveal_exam,
    same_settings_spread,
    test_accuracy_of_run,
)
from mnist_core.i18n import carried_message
from mnist_core.runs import load_run, new_workspace
from tests.helpers import button, chart_points, has_button, open_page, run_written_with_numpy, runs_list, shown
from ui.plain import plain

FASHION = "fashion_mnist"
BOARD = "pages/board.py"
COMPARE = "pages/compare.py"


def saved_run(runs_root, workspace=None, epochs=2, seed=0, dataset="mnist", name=None, **settings):
    """A finished run of `epochs` epochs from its model's preset on `dataset`, read back as the pages read
    it (in a new workspace unless one is given). Its made-up curves reach a best validation accuracy of
    0.58 + 0.1 x epochs."""
    workspace = workspace or new_workspace(runs_root)
    config = TrainConfig.for_model(settings.pop("model", "linear"), dataset=dataset, epochs=epochs, batch_size=50,
                                   seed=seed, **settings)
    written = run_written_with_numpy(runs_root, config, workspace=workspace, name=name)
    return load_run(written.run_id, runs_root, workspace)


@pytest.fixture
def a_class(runs_root):
    return new_class("Class 7B", runs_root)


@pytest.fixture(scope="session")
def small_fashion():
    """A few hundred real Fashion-MNIST pictures, in load_dataset()'s layout."""
    from mnist_core import load_dataset

    (x_train, y_train), (x_test, y_test) = load_dataset(FASHION)
    return (x_train[:50], y_train[:50]), (x_test[:300], y_test[:300])


def entry_file(runs_root, class_id, entry_id):
    return runs_root / classes.CLASSES_FOLDER / class_id / "entries" / f"{entry_id}.json"


def forget_dataset(runs_root, class_id, entry_id) -> None:
    """Make the entry as one posted before there were two datasets: its config has no "dataset"."""
    path = entry_file(runs_root, class_id, entry_id)
    content = json.loads(path.read_text())
    del content["config"]["dataset"]
    path.write_text(json.dumps(content))


def mixed_board(runs_root, class_id):
    """Three MNIST entries and two Fashion-MNIST ones, their accuracies interleaved across the datasets:
    {nickname: run}. Fashion's best (4 epochs, 0.98) would top a single ranking."""
    posts = {"m-three": ("mnist", 3, 1), "f-four": (FASHION, 4, 1), "m-two": ("mnist", 2, 2), "f-one": (FASHION, 1, 2),
             "m-one": ("mnist", 1, 3)}
    runs = {}
    for nickname, (dataset, epochs, seed) in posts.items():
        runs[nickname] = saved_run(runs_root, dataset=dataset, epochs=epochs, seed=seed)
        post_entry(class_id, runs[nickname], nickname, runs_root=runs_root)
    return runs


# -- the engine -------------------------------------------------------------------------------------------

def test_the_board_ranks_each_dataset_on_its_own(runs_root, a_class):
    mixed_board(runs_root, a_class.class_id)
    shown = board(a_class.class_id, runs_root)
    assert shown.datasets() == ["mnist", FASHION]  # the most entries first
    assert shown.datasets(first=FASHION) == [FASHION, "mnist"]
    assert shown.datasets(first="no-such-dataset") == ["mnist", FASHION]
    assert shown.dataset_counts() == {"mnist": 3, FASHION: 2}
    assert [entry.nickname for entry in shown.of_dataset("mnist").entries] == ["m-three", "m-two", "m-one"]
    assert [entry.nickname for entry in shown.of_dataset(FASHION).entries] == ["f-four", "f-one"]
    assert all(entry.dataset == FASHION for entry in shown.of_dataset(FASHION).entries)


def test_the_spread_and_what_the_top_share_never_mix_datasets(runs_root, a_class):
    class_id = a_class.class_id
    # The same settings but for the seed, on both datasets: one group per dataset, never one of four.
    for nickname, dataset, seed, epochs in (("m1", "mnist", 1, 2), ("m2", "mnist", 2, 2), ("f1", FASHION, 1, 2),
                                            ("f2", FASHION, 2, 2)):
        post_entry(class_id, saved_run(runs_root, dataset=dataset, seed=seed, epochs=epochs), nickname, runs_root=runs_root)
    shown = board(class_id, runs_root)
    groups = same_settings_spread(shown)
    assert sorted((group.dataset, sorted(entry.nickname for entry in group.entries)) for group in groups) == [
        (FASHION, ["f1", "f2"]), ("mnist", ["m1", "m2"])]
    assert all("dataset" not in group.settings for group in groups)  # the group's dataset says it
    assert [(group.dataset, group.settings) for group in same_settings_spread(shown.of_dataset(FASHION))] == [
        (FASHION, {"epochs": 2, "batch_size": 50})]
    # What the top share: among one dataset's entries. A board of MNIST's linear entries and Fashion-MNIST's
    # MLPs: mixed, "the top two share the MLP" would compare across datasets.
    other = new_class("Class 7C", runs_root)
    for nickname, dataset, model, epochs in (("f-mlp-a", FASHION, "mlp", 3), ("f-mlp-b", FASHION, "mlp", 3),
                                             ("m-lin-a", "mnist", "linear", 1), ("m-lin-b", "mnist", "linear", 1),
                                             ("m-mlp", "mnist", "mlp", 1)):
        post_entry(other.class_id, saved_run(runs_root, dataset=dataset, model=model, epochs=epochs), nickname,
                   runs_root=runs_root)
    mixed = board(other.class_id, runs_root)
    assert [entry.nickname for entry in mixed.entries[:2]] == ["f-mlp-a", "f-mlp-b"]
    # Mixed, the top two would "share" Fashion-MNIST and the MLP against the MNIST entries; among Fashion-MNIST's
    # own entries, which all agree, nothing sets them apart.
    assert common_to_the_top(mixed, top=2, dataset=FASHION) == {}
    assert common_to_the_top(mixed, top=2) == {}  # by default the top entry's dataset, Fashion-MNIST's
    assert common_to_the_top(mixed, top=2, dataset="mnist") == {"model": "linear", "learning_rate": 0.003,
                                                                 "learning_rate_schedule": "constant"}
    assert common_to_the_top(mixed.of_dataset("mnist"), top=2) == common_to_the_top(mixed, top=2, dataset="mnist")


def test_the_csv_names_each_entrys_dataset_and_ranks_within_it(runs_root, a_class):
    mixed_board(runs_root, a_class.class_id)
    shown = board(a_class.class_id, runs_root)
    rows = list(csv.DictReader(io.StringIO(board_csv(shown).decode("utf-8-sig"))))
    assert [(row["dataset"], row["rank"], row["nickname"]) for row in rows] == [
        ("mnist", "1", "m-three"), ("mnist", "2", "m-two"), ("mnist", "3", "m-one"),
        (FASHION, "1", "f-four"), (FASHION, "2", "f-one")]
    header = board_csv(shown).decode("utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "dataset" and header.count("dataset") == 1
    rows = list(csv.DictReader(io.StringIO(board_csv(shown, first=FASHION).decode("utf-8-sig"))))
    assert [row["nickname"] for row in rows] == ["f-four", "f-one", "m-three", "m-two", "m-one"]


def test_an_entry_posted_before_there_were_two_datasets_is_mnists(runs_root, a_class):
    class_id = a_class.class_id
    old = post_entry(class_id, saved_run(runs_root, epochs=1), "old", runs_root=runs_root)
    post_entry(class_id, saved_run(runs_root, dataset=FASHION, epochs=4), "new", runs_root=runs_root)
    forget_dataset(runs_root, class_id, old.entry_id)
    shown = board(class_id, runs_root)
    assert shown.problems == ()
    (read_back,) = shown.of_dataset("mnist").entries
    assert read_back.nickname == "old" and read_back.dataset == "mnist" and read_back.config.dataset == "mnist"
    assert [entry.nickname for entry in shown.of_dataset(FASHION).entries] == ["new"]
    rows = list(csv.DictReader(io.StringIO(board_csv(shown).decode("utf-8-sig"))))
    assert {row["nickname"]: row["dataset"] for row in rows} == {"old": "mnist", "new": FASHION}


def test_the_reveal_examines_each_entry_on_its_own_datasets_test_set(runs_root, a_class, sample_dataset, small_fashion):
    from mnist_core.exam import sit_exam

    class_id, key = a_class.class_id, a_class.teacher_key
    digits = saved_run(runs_root, epochs=1)
    clothes = saved_run(runs_root, dataset=FASHION, epochs=1, seed=5)
    for nickname, run in (("digits", digits), ("clothes", clothes)):
        post_entry(class_id, run, nickname, runs_root=runs_root)
    asked = []

    def dataset_of(name):  # the function form, as the page passes dataset_or_stop
        asked.append(name)
        return {"mnist": sample_dataset, FASHION: small_fashion}[name]

    report = reveal_exam(class_id, key, lambda run: test_accuracy_of_run(run, dataset_of), runs_root)
    assert (report.examined, report.problems) == (2, ())
    assert sorted(asked) == ["fashion_mnist", "mnist"]
    expected = {nickname: sit_exam(run.load_model(), *test_set).accuracy
                for nickname, run, (_training, test_set) in (("digits", digits, sample_dataset),
                                                             ("clothes", clothes, small_fashion))}
    assert {entry.nickname: entry.test_acc for entry in board(class_id, runs_root).entries} == pytest.approx(expected)
    # The mapping form gives the same; a lone dataset is MNIST's, and a Fashion-MNIST run is refused, not
    # examined on the digits.
    mapping = {"mnist": sample_dataset, FASHION: small_fashion}
    assert test_accuracy_of_run(clothes, mapping) == pytest.approx(expected["clothes"])
    assert test_accuracy_of_run(digits, sample_dataset) == pytest.approx(expected["digits"])
    with pytest.raises(ValueError) as refused:
        test_accuracy_of_run(clothes, sample_dataset)
    assert "no test set of Fashion-MNIST" in str(carried_message(refused.value))
    with pytest.raises(ValueError):
        test_accuracy_of_run(clothes, {"mnist": sample_dataset})


def test_a_reveal_without_a_datasets_test_set_reports_that_entry_and_examines_the_others(runs_root, a_class,
                                                                                          sample_dataset):
    class_id, key = a_class.class_id, a_class.teacher_key
    post_entry(class_id, saved_run(runs_root, epochs=1), "digits", runs_root=runs_root)
    post_entry(class_id, saved_run(runs_root, dataset=FASHION, epochs=1), "clothes", runs_root=runs_root)
    report = reveal_exam(class_id, key, lambda run: test_accuracy_of_run(run, {"mnist": sample_dataset}), runs_root)
    assert report.examined == 1 and len(report.problems) == 1
    assert "clothes's run could not sit the exam: no test set of Fashion-MNIST" in str(report.problems[0])
    shown = board(class_id, runs_root)
    assert shown.datasets_to_examine() == {FASHION}
    assert {entry.nickname: entry.test_acc is None for entry in shown.entries} == {"digits": False, "clothes": True}


# -- the pages --------------------------------------------------------------------------------------------

def board_rows(app) -> list[dict]:
    return app.dataframe[0].value.to_dict("records")


@pytest.mark.pages
def test_the_board_page_ranks_one_dataset_at_a_time(runs_root, a_class):
    runs = mixed_board(runs_root, a_class.class_id)
    forget_dataset(runs_root, a_class.class_id, board(a_class.class_id, runs_root).of_dataset("mnist").entries[-1].entry_id)
    student = runs["f-one"].workspace
    app = open_page(BOARD, workspace=student, query={"class": a_class.class_id})
    assert not app.exception
    choice = app.radio(key="board_dataset")
    assert choice.options == ["MNIST", "Fashion-MNIST"] and choice.value == "mnist"  # the sidebar's dataset first
    rows = board_rows(app)
    # The old entry without "dataset" (m-one) is ranked with MNIST's; no Fashion-MNIST entry is in this ranking.
    assert [(row["rank"], row["nickname"], row["dataset"]) for row in rows] == [
        (1, "m-three", "MNIST"), (2, "m-two", "MNIST"), (3, "m-one", "MNIST")]
    assert any("Entries per dataset: MNIST 3, Fashion-MNIST 2" in shown(caption) for caption in app.caption)
    assert set(chart_points(app)) <= {"1. m-three", "2. m-two", "3. m-one"}
    # The student's own entry, on the other dataset, is named with its dataset.
    assert has_button(app, f"Withdraw “{plain('f-one')}” (Fashion-MNIST)")  # a label is Markdown: the nickname plain
    choice.set_value(FASHION).run()
    assert not app.exception
    assert [(row["rank"], row["nickname"], row["dataset"]) for row in board_rows(app)] == [
        (1, "f-four", "Fashion-MNIST"), (2, "f-one", "Fashion-MNIST")]
    assert set(chart_points(app)) == {"1. f-four", "2. f-one"}


@pytest.mark.pages
def test_the_board_page_shows_the_sidebars_dataset_first(runs_root, a_class):
    mixed_board(runs_root, a_class.class_id)
    app = open_page(query={"class": a_class.class_id})
    app.session_state["settings"]["dataset"] = FASHION
    app.switch_page(BOARD).run()
    assert not app.exception
    assert app.radio(key="board_dataset").value == FASHION
    assert [row["nickname"] for row in board_rows(app)] == ["f-four", "f-one"]


@pytest.mark.pages
def test_the_teachers_reveal_examines_each_entry_on_its_datasets_test_set(runs_root, a_class):
    from mnist_core import load_dataset
    from mnist_core.exam import sit_exam

    runs = {"digits": saved_run(runs_root, epochs=1), "clothes": saved_run(runs_root, dataset=FASHION, epochs=1, seed=3)}
    for nickname, run in runs.items():
        post_entry(a_class.class_id, run, nickname, runs_root=runs_root)
    app = open_page(query={"class": a_class.class_id, "teacher": a_class.teacher_key})
    app.switch_page(BOARD).run()
    button(app, "Reveal the exam").click().run()
    assert not app.exception
    assert any("2 entries sat it now" in shown(message) for message in app.success), [m.value for m in app.success]
    assert not app.warning
    expected = {}
    for nickname, run in runs.items():
        _training, (test_images, test_labels) = load_dataset(run.config.dataset)
        expected[nickname] = sit_exam(run.load_model(), test_images, test_labels).accuracy
    assert {entry.nickname: entry.test_acc for entry in board(a_class.class_id, runs_root).entries} == pytest.approx(expected)
    csv_button = next(element for element in app.get("download_button") if "CSV" in element.proto.label)
    assert csv_button is not None


# -- Compare --------------------------------------------------------------------------------------------------

@pytest.fixture
def both_datasets(runs_root):
    """A workspace with two MNIST runs and two Fashion-MNIST runs (the newest), each named by its dataset."""
    workspace = new_workspace(runs_root)
    for name, dataset, optimizer in (("digits-sgd", "mnist", "sgd"), ("digits-adam", "mnist", "adam"),
                                     ("clothes-sgd", FASHION, "sgd"), ("clothes-adam", FASHION, "adam")):
        run_written_with_numpy(runs_root, TrainConfig(dataset=dataset, optimizer=optimizer, epochs=2, batch_size=50),
                               workspace=workspace, name=name)
    return workspace


def compared_names(app) -> dict:
    """What the overlay shows: the run names of the chart's curves, the list's options and the table's columns."""
    return {"chart": sorted(name.split(" · ")[0] for name in chart_points(app)),
            "options": sorted(option.split(" · ")[0] for option in runs_list(app).options),
            "table": sorted(column.split(" · ")[0] for column in app.dataframe[0].value.columns)}


@pytest.mark.pages
def test_compare_never_puts_runs_of_two_datasets_in_one_chart_or_table(runs_root, both_datasets):
    app = open_page(COMPARE, workspace=both_datasets)
    assert not app.exception
    choice = app.radio(key="compare_dataset")
    assert choice.value == "mnist"  # the sidebar's dataset, though the newest runs are Fashion-MNIST's
    assert compared_names(app) == {"chart": ["digits-adam", "digits-sgd"], "options": ["digits-adam", "digits-sgd"],
                                   "table": ["digits-adam", "digits-sgd"]}
    assert any("Hidden, as they trained on another dataset: 2 run(s) on Fashion-MNIST" in shown(caption)
               for caption in app.caption)
    table = app.dataframe[0].value
    assert table.loc["Dataset"].tolist() == ["MNIST", "MNIST"]  # each run's dataset, in the table
    chart = next(element for element in app.get("plotly_chart"))
    assert "on MNIST" in json.loads(chart.proto.spec)["layout"]["title"]["text"]
    choice.set_value(FASHION).run()
    assert not app.exception
    assert compared_names(app) == {"chart": ["clothes-adam", "clothes-sgd"], "options": ["clothes-adam", "clothes-sgd"],
                                   "table": ["clothes-adam", "clothes-sgd"]}
    assert app.dataframe[0].value.loc["Dataset"].tolist() == ["Fashion-MNIST", "Fashion-MNIST"]
    assert any("2 run(s) on MNIST" in shown(caption) for caption in app.caption)


@pytest.mark.pages
def test_compare_starts_on_the_sidebars_dataset_and_races_on_it(runs_root, both_datasets):
    app = open_page(workspace=both_datasets)
    app.session_state["settings"]["dataset"] = FASHION
    app.switch_page(COMPARE).run()
    assert not app.exception
    assert app.radio(key="compare_dataset").value == FASHION
    assert compared_names(app)["chart"] == ["clothes-adam", "clothes-sgd"]
    assert any("same data (Fashion-MNIST," in shown(caption) for caption in app.caption)
    assert any("500 Fashion-MNIST examples" in shown(markdown) for markdown in app.markdown)


@pytest.mark.pages
def test_compare_with_runs_of_one_dataset_offers_no_choice(runs_root):
    workspace = new_workspace(runs_root)
    for name in ("a", "b"):
        run_written_with_numpy(runs_root, TrainConfig(dataset=FASHION, epochs=2, batch_size=50), workspace=workspace,
                               name=name)
    app = open_page(COMPARE, workspace=workspace)
    assert not app.exception
    assert not [radio for radio in app.radio if radio.key == "compare_dataset"]
    assert compared_names(app)["chart"] == ["a", "b"]


@pytest.mark.pages
def test_a_post_from_the_train_page_is_ranked_among_its_datasets_entries(runs_root, a_class):
    mixed_board(runs_root, a_class.class_id)  # three MNIST entries, two Fashion-MNIST ones (the best at 0.98)
    student = saved_run(runs_root, dataset=FASHION, epochs=2).workspace  # 0.78: behind two MNIST entries too
    app = open_page("pages/train.py", workspace=student, query={"class": a_class.class_id})
    app.text_input(key="board_nickname").input("Ada")
    button(app, "Post to the class board").click().run()
    assert not app.exception
    assert any(shown(message).startswith("Posted as “Ada”: number 2 of 3 Fashion-MNIST entries on the class board")
               for message in app.success), [shown(message) for message in app.success]


@pytest.mark.pages
def test_compare_keeps_its_runs_through_a_switch_of_language_and_back(runs_root, both_datasets):
    """This Streamlit keeps a multiselect's choice by its labels: after a switch to Chinese and back the
    English labels no longer matched and the page failed ("bad argument type for built-in operation")."""
    app = open_page(COMPARE, workspace=both_datasets)
    runs_list(app).set_value(list(runs_list(app).value)[:1]).run()
    chosen = list(runs_list(app).value)
    assert len(chosen) == 1
    for language in ("zh", "en"):
        app.session_state["language"] = language  # what the sidebar's switch sets (ui.i18n.choose_language)
        app.run()
        assert not app.exception and not app.error, language
        assert list(runs_list(app).value) == chosen
    app.radio(key="compare_dataset").set_value(FASHION).run()  # another dataset: its own newest two
    assert not app.exception and compared_names(app)["options"] == ["clothes-adam", "clothes-sgd"]
    assert len(runs_list(app).value) == 2


def test_posting_on_another_dataset_keeps_the_entry_on_the_first_datasets_board(runs_root, a_class):
    """A student posts an MNIST run, then a Fashion-MNIST run under the same nickname: each board keeps
    one entry of theirs (the second post once took the first's place, so the MNIST board lost it)."""
    workspace = new_workspace(runs_root)
    digits = saved_run(runs_root, workspace, dataset="mnist")
    clothes = saved_run(runs_root, workspace, dataset=FASHION)
    first = classes.post_entry(a_class.class_id, digits, "Amy", runs_root=runs_root)
    second = classes.post_entry(a_class.class_id, clothes, "Amy", runs_root=runs_root)
    assert first.entry_id != second.entry_id
    whole = classes.board(a_class.class_id, runs_root=runs_root)
    assert whole.dataset_counts() == {"mnist": 1, FASHION: 1}
    again = classes.post_entry(a_class.class_id, saved_run(runs_root, workspace, dataset=FASHION, seed=1), "amy",
                               runs_root=runs_root)
    assert again.entry_id == second.entry_id  # on its own dataset's board, a post still replaces the earlier one
    assert classes.board(a_class.class_id, runs_root=runs_root).dataset_counts() == {"mnist": 1, FASHION: 1}
