"""`python -m mnist_core ...`: the engine without a browser.

    python -m mnist_core fetch [--dataset fashion_mnist] [--force]
    python -m mnist_core train --model linear --epochs 5 --batch-size 100 --learning-rate 0.01 --optimizer adam
    python -m mnist_core runs
    python -m mnist_core tensorboard [--workspace NAME]
    python -m mnist_core class new NAME

Each command parses its arguments, makes one call into the engine and prints the result. The train
flags are generated from TrainConfig's fields, so a new hyperparameter gets its flag and help text
for free. Bad arguments print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import signal
import sys
import threading

from .cli_text import DisplayWidthHelpFormatter, argparse_in, padded
from .config import TrainConfig, split_for_config
from .data import DATASET_NAMES, MnistDataError, dataset_facts, load_dataset, provision_dataset
from .i18n import N_, Message, carried_message, environment_language, in_language
from .results import RunStatus, epochs_text
from .runs import (
    SHARED_WORKSPACE,
    DamagedRunError,
    RunSaveError,
    check_workspace,
    list_runs,
    tidy_runs_folder,
    workspace_folder,
)

USAGE_ERROR = 2
# `runs` lists a run's status by its saved value (what scripts grep for in English), in words in Chinese.
STATUS_WORDS = {RunStatus.WAITING: N_("waiting"), RunStatus.RUNNING: N_("running"), RunStatus.COMPLETED: N_("completed"),
                RunStatus.EARLY_STOPPED: N_("early_stopped"), RunStatus.STOPPED: N_("stopped"),
                RunStatus.DIVERGED: N_("diverged"), RunStatus.FAILED: N_("failed"), RunStatus.INTERRUPTED: N_("interrupted")}


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a mistake is reported in one line (no usage dump) with exit code 2, and help text is
    wrapped by display width (Chinese help keeps its lines inside the terminal)."""

    def __init__(self, *arguments, **options):
        options.setdefault("formatter_class", DisplayWidthHelpFormatter)
        super().__init__(*arguments, **options)

    def error(self, message):
        self.exit(USAGE_ERROR, error_line(self.prog, message) + "\n")


def format_epoch(result) -> str:
    """The classic one-line epoch report, every label next to its own value."""
    return (f"epoch={result.epoch:3d}, train_loss={result.train_loss:.4f}, train_acc={result.train_acc:.4f}, "
            f"val_loss={result.val_loss:.4f}, val_acc={result.val_acc:.4f}, seconds={result.seconds:.2f}")


def say(thing) -> str:
    """What the engine says, in the environment's language: Chinese under LANG=zh_CN.UTF-8, else English."""
    return in_language(thing, environment_language())


def help_text(message: Message) -> str:
    """A help text for argparse, in the environment's language: argparse formats it with %, so a % is escaped."""
    return say(message).replace("%", "%%")


def error_line(prog: str, error) -> str:
    return say(Message("{prog}: error: {message}", prog=prog, message=say(error)))


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field. Defaults are left unset so the model's preset fills them in."""
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        # argparse formats help texts with %, so a reason that mentions a percentage must escape it.
        # The same words as the pages' help: what the setting is, then why its default (the preset's here).
        why = field.metadata["why"]
        help_ = help_text(Message("{what} Default: the model's preset; {why}.", what=TrainConfig.what(field.name),
                                  why=Message(why)))
        if field.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_)
        else:
            value_type = {"str": str, "float": float, "int": int, "int | None": int}[field.type]
            parser.add_argument(flag, type=value_type, default=None, help=help_)


def command_fetch(arguments) -> int:
    path = provision_dataset(arguments.dataset, force=arguments.force, report=lambda line: print(say(line)))
    print(say(Message("{dataset} is ready and verified: {path}", dataset=dataset_facts(arguments.dataset).title,
                      path=str(path))))
    return 0


def command_train(arguments) -> int:
    overrides = {name: value for name, value in vars(arguments).items()
                 if name in {field.name for field in dataclasses.fields(TrainConfig)} and value is not None}
    model = overrides.pop("model")
    try:
        config = TrainConfig.for_model(model, **overrides)
    except ValueError as error:
        return usage_error(arguments.prog, error)

    # TensorFlow is loaded here, once the settings are known to be good: not by fetch, runs or a usage error.
    from .models import evaluate
    from .training import train, train_and_record

    dataset = load_dataset(config.dataset)
    if not arguments.no_save:
        tidy_runs_folder()
    # Ctrl-C asks the loop to stop between steps, so the finished epochs are saved, not lost.
    stop = threading.Event()
    previous_handler = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:  # the handler is put back however this ends: main() may be called again in the same process
        try:
            split = split_for_config(dataset, config)
            options = {"split": split, "stop_requested": stop.is_set}
            training = (train(config, **options) if arguments.no_save else
                        train_and_record(config, name=arguments.name, workspace=arguments.workspace or SHARED_WORKSPACE, **options))
        except ValueError as error:
            return usage_error(arguments.prog, error)
        print(f"model={config.model}, parameters={training.parameter_count}, train={len(split.train_labels)}, "
              f"validation={len(split.validation_labels)}, steps_per_epoch={training.steps_per_epoch}", flush=True)
        for result in training:
            print(format_epoch(result), flush=True)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    print(f"status={training.status}: {say(training.message)}")
    if training.recorder is not None:
        print(say(Message("saved run {run} in {folder}", run=training.run_id, folder=str(training.recorder.folder))))
    if arguments.evaluate_test and training.history:
        test_loss, test_acc = evaluate(training.model, split.test_images, split.test_labels)
        print(f"test_loss={test_loss:.4f}, test_acc={test_acc:.4f}")
    return 1 if training.status in (RunStatus.DIVERGED, RunStatus.FAILED) else 0


def command_runs(arguments) -> int:
    tidy_runs_folder()
    try:
        runs, damaged = list_runs(workspace=arguments.workspace and check_workspace(arguments.workspace))
    except ValueError as error:
        return usage_error(arguments.prog, error)
    if not runs and not damaged:
        print(say(Message("No runs yet: start one with `python -m mnist_core train`.")))
    for run in runs:
        best = run.best_result
        best_text = (Message("best epoch {epoch}: val_acc={accuracy:.4f}", epoch=best.epoch, accuracy=best.val_acc)
                     if best else Message("no finished epoch"))
        # The columns line up by display width: a status in Chinese takes two columns a character.
        print(say(Message("{run}  {workspace} {model} {status} {count:3d} epoch(s), {best}", run=run.run_id,
                          workspace=padded(run.workspace, 10), model=padded(run.config.model, 6),
                          status=padded(say(Message(STATUS_WORDS[run.status])), 13), count=len(run.history),
                          best=best_text)))
    for message in damaged:
        print(say(Message("damaged, skipped: {message}", message=message)))
    return 0


def command_tensorboard(arguments) -> int:
    """(Re)write the TensorBoard event files of every finished run: a run writes its own when it ends,
    so this is for runs saved before runs did, or interrupted before their end."""
    tidy_runs_folder()
    try:
        workspace = arguments.workspace and check_workspace(arguments.workspace)
    except ValueError as error:
        return usage_error(arguments.prog, error)
    runs, damaged = list_runs(workspace=workspace)
    if not runs and not damaged:
        print(say(Message("No runs yet: start one with `python -m mnist_core train`.")))
        return 0
    from .exports import write_tensorboard_events  # TensorFlow, only once there is something to write

    failed = False
    for run in runs:
        if not run.status.finished:
            print(say(Message("{run}: not finished yet; it writes its event files when it ends.", run=run.run_id)))
            continue
        try:
            written = write_tensorboard_events(run.folder)
        except DamagedRunError as error:
            damaged.append(carried_message(error))
            continue
        except OSError as error:
            print(say(Message("{run}: the event files cannot be written ({error}).", run=run.run_id, error=str(error))),
                  file=sys.stderr)
            failed = True
            continue
        if written.epochs:
            print(say(Message("{run}: wrote {epochs} and {points:,} points of the iteration curve.", run=run.run_id,
                              epochs=epochs_text(written.epochs), points=written.iteration_points)))
        else:
            print(say(Message("{run}: no finished epoch, nothing to write.", run=run.run_id)))
    for message in damaged:
        print(say(Message("damaged, skipped: {message}", message=message)))
    # One workspace's folder, never the runs folder itself: TensorBoard names each run by its folder, so it
    # would list every student's workspace name (the key to their runs) on a projected screen.
    logdir = workspace_folder(workspace or SHARED_WORKSPACE)
    print(say(Message("To see them, start TensorBoard (`pip install tensorboard` if it is not installed) and open the "
                      "address it prints:\n    {command}", command=f"tensorboard --logdir {shlex.quote(str(logdir))}")))
    return 1 if failed else 0


def command_class_new(arguments) -> int:
    """Make a class board and print its two links' queries: the teacher key is shown this once."""
    from .classes import ClassSaveError, new_class

    try:
        keys = new_class(arguments.name)
    except ClassSaveError as error:
        print(say(Message("error: {message}", message=say(error))), file=sys.stderr)
        return 1
    except ValueError as error:
        return usage_error(arguments.prog, error)
    print(say(Message("class id: {class_id}", class_id=keys.class_id)))
    print(say(Message("teacher key: {key}", key=keys.teacher_key)))
    print(say(Message("The students' link: the app's address followed by\n    {query}", query=keys.student_query)))
    print(say(Message("The teacher's link, which reveals the exam, hides entries, closes and clears the board: keep it "
                      "to yourself. The app's address followed by\n    {query}", query=keys.teacher_query)))
    print(say(Message("The teacher key is shown only now: the server keeps nothing it could be read back from.")))
    return 0


def usage_error(prog: str, error: Exception) -> int:
    print(error_line(prog, error), file=sys.stderr)
    return USAGE_ERROR


def build_parser() -> argparse.ArgumentParser:
    """The parser, its help in the environment's language. Build it (and parse with it) inside `argparse_in`,
    so argparse's own words are in that language too."""
    parser = OneLineErrorParser(prog="python -m mnist_core", description=say(Message("MNIST Lab's engine from the command line.")))
    # The destination names the missing command in argparse's "the following arguments are required: ...".
    commands = parser.add_subparsers(dest=say(Message("command")), required=True, parser_class=OneLineErrorParser)

    fetch = commands.add_parser("fetch", help=help_text(Message("provision and verify a dataset (MNIST unless told)")))
    fetch.add_argument("--dataset", choices=DATASET_NAMES, default="mnist", help=help_text(TrainConfig.what("dataset")))
    fetch.add_argument("--force", action="store_true",
                       help=help_text(Message("fetch again even if a file exists (repairs a damaged one)")))
    fetch.set_defaults(handler=command_fetch)

    train = commands.add_parser("train", help=help_text(Message("train a model and print one line per epoch")))
    add_config_flags(train)
    train.set_defaults(model="linear")
    train.add_argument("--evaluate-test", action="store_true",
                       help=help_text(Message("after training, sit the final exam on the test set")))
    train.add_argument("--name", default=None,
                       help=help_text(Message("a name for the saved run (a label only: the folder name is generated)")))
    train.add_argument("--workspace", default=None,
                       help=help_text(Message("the workspace to save the run in; the app shows it at /?workspace=NAME "
                                              "(default: the shared one)")))
    train.add_argument("--no-save", action="store_true", help=help_text(Message("do not save the run to the runs folder")))
    train.set_defaults(handler=command_train, prog=train.prog)

    runs = commands.add_parser("runs", help=help_text(Message("list the saved runs")))
    runs.add_argument("--workspace", default=None, help=help_text(Message("only this workspace's runs (default: every run)")))
    runs.set_defaults(handler=command_runs, prog=runs.prog)

    tensorboard = commands.add_parser(
        "tensorboard", help=help_text(Message("write the TensorBoard event files of the saved runs again (for runs saved "
                                              "before runs wrote them, or interrupted), then say how to start TensorBoard")))
    tensorboard.add_argument("--workspace", default=None,
                             help=help_text(Message("only this workspace's runs (default: every run)")))
    tensorboard.set_defaults(handler=command_tensorboard, prog=tensorboard.prog)

    class_board = commands.add_parser("class", help=help_text(Message("class boards: everyone's runs on one board, ranked")))
    class_commands = class_board.add_subparsers(dest=say(Message("command")), required=True, parser_class=OneLineErrorParser)
    new_class = class_commands.add_parser(
        "new", help=help_text(Message("make a class board and print its students' link and its teacher's link")))
    new_class.add_argument("name", help=help_text(Message("the class's name, shown on its board (a label only)")))
    new_class.set_defaults(handler=command_class_new, prog=new_class.prog)
    return parser


def main(argv=None) -> int:
    with argparse_in(environment_language()):
        arguments = build_parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except (MnistDataError, RunSaveError) as error:  # a message saying what to do, not a traceback
        print(say(Message("error: {message}", message=say(error))), file=sys.stderr)
        return 1
