"""The lessons: each file loads, each step's settings make a run the sidebar allows, every sentence is in
the catalogs with its Chinese, and each kind of check is tried on real (small) runs that pass it and runs
that fail it."""

import textwrap

import pytest

from mnist_core import TrainConfig, train_and_record
from mnist_core.config import OVERFITTING_PRESET
from mnist_core.data import PROJECT_ROOT
from mnist_core.fair_share import check_model_size
from mnist_core.lessons import (
    CHECKS,
    LESSONS_FOLDER,
    Check,
    LessonError,
    extract_lesson_text,
    lesson_names,
    lesson_sentences,
    load_lesson,
    read_lesson,
    with_settings,
)
from mnist_core.runs import list_runs
from mnist_core.share_links import settings_from_link, written

ZH_CATALOG = PROJECT_ROOT / "mnist_core" / "locales" / "zh" / "LC_MESSAGES" / "mnist_lab.po"


def test_the_note_s_lesson_and_the_overfitting_lesson_are_shipped():
    assert {"note", "overfitting"} <= set(lesson_names())


@pytest.mark.parametrize("name", lesson_names())
def test_every_step_opens_a_page_of_the_app_with_settings_the_sidebar_offers(name):
    lesson = load_lesson(name)
    for number, step in enumerate(lesson.steps, start=1):
        assert (PROJECT_ROOT / "pages" / f"{step.page}.py").is_file(), f"step {number}"
        config = with_settings(TrainConfig(), step)
        check_model_size(config)
        assert not settings_from_link({key: written(value) for key, value in step.settings.items()}).dropped
        for key, value in step.settings.items():
            assert getattr(config, key) == value, f"step {number}: {key}"


@pytest.mark.parametrize("name", lesson_names())
def test_every_sentence_of_a_lesson_is_in_the_catalog_with_its_chinese(name):
    import tomllib

    from babel.messages.pofile import read_po

    with open(ZH_CATALOG, "rb") as file:
        catalog = read_po(file)
    sentences = list(lesson_sentences(tomllib.loads((LESSONS_FOLDER / f"{name}.toml").read_text())))
    assert len(sentences) > 20
    untranslated = [sentence[:60] for sentence in sentences if sentence not in catalog or not catalog[sentence].string]
    assert not untranslated, "run `make translations` and translate these"


def test_the_extractor_gives_babel_every_sentence_a_reader_reads():
    with open(LESSONS_FOLDER / "note.toml", "rb") as file:
        extracted = [message for _line, _function, message, _comments in extract_lesson_text(file, (), (), {})]
    lesson = load_lesson("note")
    assert lesson.title in extracted and lesson.steps[0].text in extracted
    assert lesson.steps[0].question.answers[0].message in extracted


def one_step_lesson(folder, step_fields: str, after: str = ""):
    """A lesson file of one step: its title and text, then `step_fields` (its page, task, ...), then `after`."""
    path = folder / "lesson.toml"
    path.write_text('title = "A lesson"\nsummary = "One step."\n[[steps]]\ntitle = "The step"\ntext = "Something to read."\n'
                    + step_fields + "\n" + textwrap.dedent(after))
    return path


@pytest.mark.parametrize(("broken", "says"), [
    ('page = "nowhere"', "`page` must be one of"),
    ("settings = { epochs = 1000000000 }", "epochs=1000000000 is outside what the sidebar offers"),
    ('settings = { model = "<script>" }', "model=<script> is not one of the sidebar's choices"),
    ('settings = { restore_best_weights = false }', "is not a setting a link can carry"),
    ('task = "Reach {accuracy} now"', "curly brackets"),
    ('task = "Score 100% on the test"', "%-format"),
    ('check = { kind = "mind_reading", goal = 1 }', "`check.kind` must be one of"),
    ('check = { kind = "validation_accuracy_at_least", goal = "high" }', "`check.goal` must be a number"),
])
def test_a_lesson_file_with_a_broken_step_is_refused_naming_the_step(tmp_path, broken, says):
    fields = {"page": 'page = "train"', "task": 'task = "Train it."'}
    fields[broken.split(" ")[0]] = broken
    with pytest.raises(LessonError, match="step 1") as raised:
        read_lesson(one_step_lesson(tmp_path, "\n".join(fields.values())))
    assert says in str(raised.value)


def test_a_question_needs_exactly_one_right_answer(tmp_path):
    path = one_step_lesson(tmp_path, 'page = "overview"\ntask = "Read it."', '''
        [steps.question]
        text = "Which?"
        [[steps.question.answers]]
        text = "This"
        correct = true
        message = "Yes."
        [[steps.question.answers]]
        text = "That"
        correct = true
        message = "Also yes?"
    ''')
    with pytest.raises(LessonError, match="exactly one answer"):
        read_lesson(path)


# -- each kind of check, on real runs trained on the sample digits ----------------------------------

def trained(runs_root, dataset, **settings) -> None:
    config = TrainConfig.for_model(settings.pop("model", "linear"), **{"batch_size": 50, "epochs": 2, **settings})
    list(train_and_record(config, dataset, runs_root=runs_root))


def newest_first(runs_root):
    return list_runs(runs_root)[0]


def test_every_kind_of_check_the_lessons_use_is_tested_here():
    used = {step.check.kind for name in lesson_names() for step in load_lesson(name).steps if step.check}
    assert used == set(CHECKS)


def test_validation_accuracy_passes_at_the_goal_and_counts_only_the_named_model(sample_dataset, runs_root):
    assert not Check("validation_accuracy_at_least", 0.5).on([]).passed
    trained(runs_root, sample_dataset)
    runs = newest_first(runs_root)
    best = max(result.val_acc for result in runs[0].history)
    assert Check("validation_accuracy_at_least", best).on(runs).passed
    assert not Check("validation_accuracy_at_least", best + 0.01).on(runs).passed
    for_cnn = Check("validation_accuracy_at_least", 0.5, model="cnn").on(runs)
    assert not for_cnn.passed and "CNN" in str(for_cnn.says)


def test_a_learning_rate_far_too_big_fails_to_learn_and_the_default_does_not(sample_dataset, runs_root):
    """The note's hyperparameter step: Adam at 10 on the linear model ends above ln 10 = 2.30."""
    check = Check("training_loss_at_least", 2.30)
    trained(runs_root, sample_dataset)
    assert not check.on(newest_first(runs_root)).passed
    trained(runs_root, sample_dataset, learning_rate=10.0)
    result = check.on(newest_first(runs_root))
    assert result.passed, str(result.says)
    trained(runs_root, sample_dataset)  # the task's second run, at the default rate, keeps the tick
    assert check.on(newest_first(runs_root)).passed


def test_the_optimizer_race_needs_two_optimizers(sample_dataset, runs_root):
    check = Check("optimizers_compared", 2)
    trained(runs_root, sample_dataset, optimizer="adam")
    assert not check.on(newest_first(runs_root)).passed
    trained(runs_root, sample_dataset, optimizer="sgd", learning_rate=0.1)
    assert check.on(newest_first(runs_root)).passed


def test_overfitting_on_purpose_opens_a_gap_and_a_narrower_gap_after_it_passes_the_cure_check(sample_dataset, runs_root):
    overfit, narrowed = Check("overfitting_gap_at_least", 5, model="mlp"), Check("gap_narrowed_by_at_least", 4, model="mlp")
    trained(runs_root, sample_dataset)  # a linear run counts for neither
    assert not overfit.on(newest_first(runs_root)).passed and not narrowed.on(newest_first(runs_root)).passed
    trained(runs_root, sample_dataset, **{**OVERFITTING_PRESET, "epochs": 15})
    result = overfit.on(newest_first(runs_root))
    assert result.passed, str(result.says)
    assert not narrowed.on(newest_first(runs_root)).passed  # one MLP run: nothing to compare with
    trained(runs_root, sample_dataset, **{**OVERFITTING_PRESET, "epochs": 1})  # stopped before it could memorise
    result = narrowed.on(newest_first(runs_root))
    assert result.passed, str(result.says)


# -- a lesson opened from an address ------------------------------------------------------------------

@pytest.mark.pages
@pytest.mark.parametrize(("query", "says", "step_shown"), [
    ({"lesson": "<script>alert(1)</script>", "step": "1"}, "names a lesson this app does not have", None),
    ({"lesson": "x" * 10_000}, "names a lesson this app does not have", None),
    ({"lesson": "note", "step": "1e9"}, "names a step the lesson does not have, so it opens at step 1", "step 1 of 11"),
    ({"lesson": "note", "step": "-3"}, "names a step the lesson does not have, so it opens at step 1", "step 1 of 11"),
])
def test_a_link_to_a_lesson_or_step_that_does_not_exist_says_so_and_breaks_nothing(runs_root, query, says, step_shown):
    from tests.helpers import open_page, shown

    app = open_page(query=query)
    assert not app.exception
    assert any(says in shown(warning) for warning in app.main.warning)
    headings = [shown(text) for text in app.main.markdown if "step" in text.value and "of 11" in text.value]
    assert bool(headings) == bool(step_shown) and all(step_shown in heading for heading in headings)
    assert app.main.title[0].value == "MNIST Lab"  # the landing page drew as ever below the note


@pytest.mark.pages
def test_a_lesson_step_opened_in_chinese_reads_in_chinese(runs_root):
    from tests.helpers import open_page, shown

    app = open_page(query={"lesson": "note", "step": "1", "lang": "zh"})
    assert not app.exception
    heading = next(shown(text) for text in app.main.markdown if "第 1 步" in text.value)
    assert "导入数据集" in heading
    assert any("(60000, 28, 28)" in option for option in app.main.radio[0].options)


def test_the_right_answer_is_not_always_shown_first():
    """The lesson files write the right answer first; the page shows the answers in an order of their own."""
    from ui.lesson import answer_order

    questions = [step.question for name in lesson_names() for step in load_lesson(name).steps if step.question]
    shown_first = [question.answers[answer_order(question)[0]].correct for question in questions]
    assert 0 < sum(shown_first) < len(questions)
    assert all(sorted(answer_order(question)) == list(range(len(question.answers))) for question in questions)


def test_a_step_that_names_a_model_keeps_the_data_settings_it_does_not_set():
    step = load_lesson("note").steps[9]  # the CNN
    config = with_settings(TrainConfig(validation_fraction=0.2, seed=7), step)
    assert (config.model, config.validation_fraction, config.seed) == ("cnn", 0.2, 7)
    overfit = load_lesson("overfitting").steps[0]  # sets its own 500 digits
    assert with_settings(TrainConfig(train_subset_size=5000), overfit).train_subset_size == 500
