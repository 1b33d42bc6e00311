"""Lessons: a path through the app, step by step, each with a task, a check and a question.

A lesson is a data file beside this module (`note.toml`, `overfitting.toml`), so a teacher can read and
change one without reading Python. Each step names:

- the page to open and the settings to load (checked as strictly as a link's: share_links.py),
- a short text and the task, in one or two sentences,
- at most one automatic check on the student's own runs (CHECKS below: "a validation accuracy of at
  least 90%", "a gap between training and validation accuracy of more than 5 points", ...),
- at most one multiple-choice question with a message for each answer.

The lesson files are written in English; every sentence in them is a message id of the gettext
catalogs, extracted by `extract_lesson_text` (babel.cfg names it), so a lesson is read in the
reader's language like every other sentence of the app. Nothing here imports Streamlit: the page
side is ui/lesson.py.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from babel.messages.catalog import PYTHON_FORMAT

from ..config import DATA_SETTINGS, TrainConfig
from ..i18n import N_, Message
from ..results import RunStatus
from ..share_links import settings_from_link, written

LESSONS_FOLDER = Path(__file__).parent
# The pages a step may open: the files of pages/, by the names their addresses use.
PAGES = ("overview", "train", "replay", "compare", "exam", "draw", "robustness", "inside")
MODEL_WORDS = {"linear": N_("linear"), "mlp": "MLP", "cnn": "CNN"}  # a model as a sentence names it


@dataclasses.dataclass(frozen=True)
class Answer:
    text: str
    correct: bool
    message: str  # what the student reads after choosing it: why it is right, or what to look at again


@dataclasses.dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[Answer, ...]


@dataclasses.dataclass(frozen=True)
class CheckResult:
    passed: bool
    says: Message  # what the check saw in the student's runs, said to the student


@dataclasses.dataclass(frozen=True)
class Check:
    """An automatic check on the student's own runs: `kind` is one of CHECKS, `goal` its number, and
    `model`, where given, which model's runs count (a linear run does not pass a CNN step)."""

    kind: str
    goal: float
    model: str | None = None

    def on(self, runs: Sequence) -> CheckResult:
        """The check on `runs` (a workspace's runs, newest first, as runs.list_runs gives them)."""
        return CHECKS[self.kind](self, runs)


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    page: str
    text: str
    task: str
    settings: dict  # what the step loads into the sidebar, as TrainConfig's fields; {} keeps the student's
    check: Check | None = None
    question: Question | None = None


@dataclasses.dataclass(frozen=True)
class Lesson:
    name: str  # its file's name, as the address carries it: ?lesson=note
    title: str
    summary: str
    steps: tuple[Step, ...]


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and what is wrong."""


# -- the checks: each looks at the student's own runs and says what it saw ------------------------

def finished_runs(check: Check, runs: Sequence) -> list:
    """The runs that count for `check`, newest first: finished with at least one epoch, of its model."""
    return [run for run in runs if run.status.finished and run.history and (check.model is None or run.config.model == check.model)]


def no_run_yet(check: Check) -> CheckResult:
    if check.model is None:
        return CheckResult(False, Message("Not yet: train a run, and this step checks it when it ends."))
    return CheckResult(False, Message("Not yet: train a run of the {model} model, and this step checks it when it ends.",
                                      model=Message(MODEL_WORDS[check.model])))


def validation_accuracy_at_least(check: Check, runs: Sequence) -> CheckResult:
    """The newest run's best validation accuracy is at least `goal` (a share: 0.9 for 90%)."""
    counted = finished_runs(check, runs)
    if not counted:
        return no_run_yet(check)
    accuracy = max(result.val_acc for result in counted[0].history)
    return CheckResult(accuracy >= check.goal, Message(
        "Your newest run reached {accuracy:.1%} validation accuracy; the goal is {goal:.0%}.", accuracy=accuracy, goal=check.goal))


def accuracy_gap(run) -> float:
    """Training accuracy minus validation accuracy at the run's last epoch, in percentage points."""
    last = run.history[-1]
    return 100 * (last.train_acc - last.val_acc)


def overfitting_gap_at_least(check: Check, runs: Sequence) -> CheckResult:
    """The newest run ends with training accuracy at least `goal` points above validation accuracy."""
    counted = finished_runs(check, runs)
    if not counted:
        return no_run_yet(check)
    gap = accuracy_gap(counted[0])
    return CheckResult(gap >= check.goal, Message(
        "In your newest run, training accuracy ends {gap:.1f} points above validation accuracy; the goal is at least "
        "{goal:g} points.", gap=gap, goal=check.goal))


def gap_narrowed_by_at_least(check: Check, runs: Sequence) -> CheckResult:
    """The newest run's gap is at least `goal` points narrower than the widest gap of the runs before it."""
    counted = finished_runs(check, runs)
    if len(counted) < 2:
        return CheckResult(False, Message("Not yet: this step compares your newest run with an earlier one, so it needs "
                                          "two finished runs."))
    newest, widest = accuracy_gap(counted[0]), max(accuracy_gap(run) for run in counted[1:])
    return CheckResult(widest - newest >= check.goal, Message(
        "Your newest run's gap is {newest:.1f} points, against {widest:.1f} for your most overfitted earlier run; the "
        "goal is a gap at least {goal:g} points narrower.", newest=newest, widest=widest, goal=check.goal))


def training_loss_at_least(check: Check, runs: Sequence) -> CheckResult:
    """One of the runs failed to learn: it diverged, or its training loss ends at `goal` or above (2.30,
    ln 10, is a model that guesses). Any run, not the newest: the step's task trains a second run at the
    default rate to compare with, and that run must not take the tick away."""
    counted = [run for run in runs if run.status.finished and (check.model is None or run.config.model == check.model)
               and (run.history or run.status == RunStatus.DIVERGED)]
    if not counted:
        return no_run_yet(check)
    if any(run.status == RunStatus.DIVERGED for run in counted):
        return CheckResult(True, Message("One of your runs diverged: its loss became infinite or not a number."))
    loss = max(run.history[-1].train_loss for run in counted)
    return CheckResult(loss >= check.goal, Message(
        "Your runs' highest final training loss is {loss:.2f}; this step looks for a run that fails to learn, at {goal:.2f} "
        "or above.", loss=loss, goal=check.goal))


def optimizers_compared(check: Check, runs: Sequence) -> CheckResult:
    """At least `goal` different optimizers among the finished runs (a race counts each of its runs)."""
    optimizers = {run.config.optimizer for run in finished_runs(check, runs)}
    if len(optimizers) == 1:
        return CheckResult(1 >= check.goal, Message("You have trained with one optimizer so far; the goal is {goal:g}.",
                                                    goal=check.goal))
    return CheckResult(len(optimizers) >= check.goal, Message(
        "You have trained with {count} different optimizers; the goal is {goal:g}.", count=len(optimizers), goal=check.goal))


CHECKS: dict[str, Callable[[Check, Sequence], CheckResult]] = {
    "validation_accuracy_at_least": validation_accuracy_at_least,
    "overfitting_gap_at_least": overfitting_gap_at_least,
    "gap_narrowed_by_at_least": gap_narrowed_by_at_least,
    "training_loss_at_least": training_loss_at_least,
    "optimizers_compared": optimizers_compared,
}


# -- reading a lesson file ---------------------------------------------------------------------------

def lesson_names() -> list[str]:
    return sorted(path.stem for path in LESSONS_FOLDER.glob("*.toml"))


def text_field(table: dict, key: str, where: str, required: bool = True) -> str:
    """A sentence of the lesson: a message id, so none with curly brackets (Message would read them as
    fields) or what gettext takes for a %-format ("100% on" reads as "% o"), whose translation would not compile."""
    value = table.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        raise LessonError(f"{where}: `{key}` must be a text")
    if "{" in value or "}" in value or PYTHON_FORMAT.search(value):
        raise LessonError(f"{where}: `{key}` holds curly brackets or a %-format ({value.strip()[:60]!r}...); reword it")
    return value.strip()


def step_settings(values, where: str) -> dict:
    """A step's settings, checked as a link's are: values the sidebar offers, that make a run together."""
    if not isinstance(values, dict):
        raise LessonError(f"{where}: `settings` must be a table")
    loaded = settings_from_link({name: written(value) for name, value in values.items()})
    if loaded.dropped:
        raise LessonError(f"{where}: {'; '.join(str(note) for note in loaded.dropped)}")
    return loaded.settings


def read_check(values, where: str) -> Check | None:
    if values is None:
        return None
    if not isinstance(values, dict) or values.get("kind") not in CHECKS:
        raise LessonError(f"{where}: `check.kind` must be one of {', '.join(CHECKS)}")
    goal, model = values.get("goal"), values.get("model")
    if isinstance(goal, bool) or not isinstance(goal, (int, float)):
        raise LessonError(f"{where}: `check.goal` must be a number")
    if model is not None and model not in MODEL_WORDS:
        raise LessonError(f"{where}: `check.model` must be one of {', '.join(MODEL_WORDS)}")
    unknown = set(values) - {"kind", "goal", "model"}
    if unknown:
        raise LessonError(f"{where}: unknown check field(s) {', '.join(sorted(unknown))}")
    return Check(values["kind"], float(goal), model)


def read_question(values, where: str) -> Question | None:
    if values is None:
        return None
    if not isinstance(values, dict) or not isinstance(values.get("answers"), list) or len(values["answers"]) < 2:
        raise LessonError(f"{where}: a question needs a `text` and at least two `answers`")
    answers = tuple(Answer(text_field(answer, "text", where), answer.get("correct") is True, text_field(answer, "message", where))
                    for answer in values["answers"])
    if sum(answer.correct for answer in answers) != 1:
        raise LessonError(f"{where}: exactly one answer must be `correct = true`")
    return Question(text_field(values, "text", where), answers)


def read_step(values: dict, where: str) -> Step:
    if values.get("page") not in PAGES:
        raise LessonError(f"{where}: `page` must be one of {', '.join(PAGES)}")
    return Step(title=text_field(values, "title", where), page=values["page"], text=text_field(values, "text", where),
                task=text_field(values, "task", where), settings=step_settings(values.get("settings", {}), where),
                check=read_check(values.get("check"), where), question=read_question(values.get("question"), where))


@functools.cache
def load_lesson(name: str) -> Lesson:
    """The lesson `name` (its file's name without .toml), every step checked. Raises LessonError."""
    if name not in lesson_names():
        raise LessonError(f"there is no lesson {name!r} (the lessons: {', '.join(lesson_names())})")
    return read_lesson(LESSONS_FOLDER / f"{name}.toml")


def read_lesson(path: Path) -> Lesson:
    """The lesson in the file `path`, every step checked. Raises LessonError naming the file and the step."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LessonError(f"{path.name}: {error}") from error
    steps = values.get("steps")
    if not isinstance(steps, list) or not steps or not all(isinstance(step, dict) for step in steps):
        raise LessonError(f"{path.name}: a lesson needs at least one [[steps]]")
    return Lesson(name=path.stem, title=text_field(values, "title", path.name), summary=text_field(values, "summary", path.name),
                  steps=tuple(read_step(step, f"{path.name}, step {number}") for number, step in enumerate(steps, start=1)))


def lesson_sentences(values: dict) -> Iterator[str]:
    """Every sentence a reader reads in a lesson file's `values`: titles, texts, tasks, questions, answers."""
    for key in ("title", "summary"):
        if isinstance(values.get(key), str):
            yield values[key].strip()
    for step in values.get("steps", []):
        for key in ("title", "text", "task"):
            if isinstance(step.get(key), str):
                yield step[key].strip()
        question = step.get("question") or {}
        if isinstance(question.get("text"), str):
            yield question["text"].strip()
        for answer in question.get("answers", []):
            for key in ("text", "message"):
                if isinstance(answer.get(key), str):
                    yield answer[key].strip()


def extract_lesson_text(fileobj, keywords, comment_tags, options):
    """Babel's extractor for lesson files (babel.cfg): each sentence as a message id, so `make translations`
    puts a lesson's sentences in the catalogs with the rest of the app's."""
    values = tomllib.loads(fileobj.read().decode("utf-8"))
    for sentence in lesson_sentences(values):
        yield 0, None, sentence, []


def with_settings(config: TrainConfig, step: Step) -> TrainConfig:
    """`config` with the step's settings loaded. A step that names a model starts from that model's preset,
    keeping the data settings as the sidebar's model choice does, unless the step sets them too.

    The lessons are written for MNIST, the study note's dataset: their sentences and their checks' goals
    are MNIST's. So a step trains on MNIST even after a switch to Fashion-MNIST, unless it names a
    dataset itself."""
    settings = {"dataset": LESSON_DATASET, **step.settings}
    if "model" in settings:
        kept = {name: getattr(config, name) for name in DATA_SETTINGS}
        return TrainConfig.for_model(settings["model"], **{**kept, **{k: v for k, v in settings.items() if k != "model"}})
    return TrainConfig.from_dict({**config.to_dict(), **settings})


LESSON_DATASET = "mnist"
