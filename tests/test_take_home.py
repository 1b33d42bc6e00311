"""The take-home program (mnist_core/take_home.py): a plain TensorFlow script and notebook that train a
run again as the study note writes it.

Each is run as a student would, in a fresh process where `mnist_core` cannot be imported (`python -I`
from a folder of its own), with QUICK_CHECK=1 (one epoch on 1,000 training pictures) and the pictures
read from the app's verified copy (DATASET_FILE: Keras' download needs the internet, which CI lacks;
the arrays are Keras' own, checked by SHA-256). Its numbers are compared with the engine's run of the
same settings (take_home.quick_check_config).

Tolerance: 0.001 in loss and 0.1 point in accuracy. Measured on this machine, every model's epoch
(dropout included: the script's layers draw the same masks) agrees with the engine's to the
script's printed decimals; the tolerance leaves room for another CPU's rounding, and is far below
what a different split, order, seed or model would change (tens of points in one epoch).
"""

import inspect
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mnist_core import TrainConfig, train
from mnist_core.augmentation import vary
from mnist_core.data import data_file, split_indices, stratified_take
from mnist_core.exports import keras_file_name, keras_model_bytes
from mnist_core.models import build_cnn, build_linear_as_dense, build_mlp, evaluate, make_optimizer
from mnist_core.precision import FLOAT32, MIXED_BFLOAT16
from mnist_core.take_home import RunFacts, introduction, notebook, notebook_bytes, quick_check_config, script_text
from mnist_core.training import metrics_sample, shuffled_order
from tests.helpers import trained_run

pytestmark = pytest.mark.slow

EPOCH_LINE = re.compile(r"Epoch (\d+): Loss: ([\d.]+), Accuracy: ([\d.]+)%, Validation loss: ([\d.]+), "
                        r"Validation accuracy: ([\d.]+)%")
APP_MODEL_LINE = re.compile(r"The app's model \((.+)\): test accuracy ([\d.]+)%")
LOSS_TOLERANCE = 1e-3
ACCURACY_POINTS_TOLERANCE = 0.1


def student_environment(dataset: str) -> dict:
    """A student's environment, offline: the quick check on, the pictures from the app's verified copy,
    plots drawn to files, and no PYTHONPATH that could lead to the project."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**environment, "QUICK_CHECK": "1", "DATASET_FILE": str(data_file(dataset)),
            "MPLBACKEND": "Agg"}


def run_script(text: str, folder, dataset: str) -> str:
    """Run the script in a fresh, isolated process in `folder`; its standard output."""
    path = folder / "take_home.py"
    path.write_text(text, encoding="utf-8")
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('mnist_core') is not None)"
    assert subprocess.run([sys.executable, "-I", "-c", check], cwd=folder).returncode == 0, "mnist_core is importable"
    completed = subprocess.run([sys.executable, "-I", str(path)], cwd=folder, env=student_environment(dataset),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def epoch_numbers(output: str) -> list[tuple[float, float, float, float]]:
    """(training loss, training accuracy, validation loss, validation accuracy) of each epoch line, accuracies as shares."""
    return [(float(loss), float(accuracy) / 100, float(validation_loss), float(validation_accuracy) / 100)
            for _, loss, accuracy, validation_loss, validation_accuracy in EPOCH_LINE.findall(output)]


def assert_close_to_the_engine(output: str, config: TrainConfig, dataset) -> None:
    # The program computes in float32 on every computer (take_home.BFLOAT16_CLOSENESS): so does the app here.
    engine = [(r.train_loss, r.train_acc, r.val_loss, r.val_acc)
              for r in train(quick_check_config(config), dataset, precision=FLOAT32)]
    script = epoch_numbers(output)
    assert len(script) == len(engine) == 1
    (loss, accuracy, validation_loss, validation_accuracy), = script
    (engine_loss, engine_accuracy, engine_validation_loss, engine_validation_accuracy), = engine
    assert abs(loss - engine_loss) <= LOSS_TOLERANCE
    assert abs(validation_loss - engine_validation_loss) <= LOSS_TOLERANCE
    assert abs(accuracy - engine_accuracy) * 100 <= ACCURACY_POINTS_TOLERANCE
    assert abs(validation_accuracy - engine_validation_accuracy) * 100 <= ACCURACY_POINTS_TOLERANCE


@pytest.mark.parametrize("model_name, changes", [
    ("linear", {}),
    ("mlp", {}),   # dropout 0.2 and a cosine schedule
    ("cnn", {}),   # dropout 0.25, batches of 64
    ("linear", {"augment_shift": 2.0, "augment_rotation": 15.0, "augment_scale": 0.1, "l2": 1e-3, "label_noise": 0.1,
                "optimizer": "momentum", "learning_rate": 0.1}),
], ids=["linear", "mlp", "cnn", "linear-augmented-noisy-momentum"])
def test_the_script_trains_as_the_app_does(full_dataset, tmp_path, model_name, changes):
    config = TrainConfig.for_model(model_name, **changes)
    text = script_text(config, "en")
    assert "mnist_core" not in text
    assert_close_to_the_engine(run_script(text, tmp_path, "mnist"), config, full_dataset)


def test_the_script_trains_fashion_mnist_as_the_app_does(fashion_dataset, tmp_path):
    config = TrainConfig.for_model("linear", dataset="fashion_mnist", augment_flip=0.5)
    text = script_text(config, "zh")
    assert "keras.datasets.fashion_mnist.load_data()" in text
    assert "# %% 2. 数据" in text  # the prose in the reader's language
    assert_close_to_the_engine(run_script(text, tmp_path, "fashion_mnist"), config, fashion_dataset)


def test_the_script_carries_the_engine_s_own_functions():
    """The split, the order of batches, the optimizer, the builders and the augmentation are the app's
    source, not copies that could drift."""
    config = TrainConfig.for_model("cnn", augment_shift=2.0)
    text = script_text(config, "en")
    for function in (split_indices, stratified_take, shuffled_order, metrics_sample, make_optimizer, build_cnn, vary):
        assert textwrap.dedent(inspect.getsource(function)) in text, function.__name__
    assert textwrap.dedent(inspect.getsource(build_linear_as_dense)) in script_text(TrainConfig(), "en")
    assert "build_mlp(config)" in script_text(TrainConfig.for_model("mlp"), "en")
    assert textwrap.dedent(inspect.getsource(build_mlp)) in script_text(TrainConfig.for_model("mlp"), "en")
    assert "def vary(" not in script_text(TrainConfig(), "en")  # a run without augmentation has none


def test_the_script_holds_the_run_s_settings_and_history(sample_dataset, runs_root):
    run = trained_run("linear", sample_dataset, runs_root)
    text = script_text(run.config, "en", RunFacts.of(run, keras_file_name(run)))
    assert f"KERAS_FILE = {keras_file_name(run)!r}" in text
    assert "    batch_size=50," in text and "    epochs=2," in text
    assert f"    (1, {round(run.history[0].train_loss, 6)!r}," in text


def test_the_notebook_validates_and_runs_top_to_bottom(sample_dataset, full_dataset, runs_root, tmp_path, monkeypatch):
    """Under nbclient, as Jupyter runs it: the note's epoch line, then the app's own .keras file beside it sits the
    test set and scores what the app's exam scores."""
    import nbformat
    from nbclient import NotebookClient

    run = trained_run("linear", sample_dataset, runs_root)
    keras_file = keras_file_name(run)
    (tmp_path / keras_file).write_bytes(keras_model_bytes(run))
    book = nbformat.reads(notebook_bytes(run.config, "en", RunFacts.of(run, keras_file)).decode("utf-8"), as_version=4)
    nbformat.validate(book)
    for name, value in student_environment("mnist").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    output = "".join(output.get("text", "") for cell in book.cells if cell.cell_type == "code" for output in cell.outputs)
    assert len(epoch_numbers(output)) == 1
    (shown_file, shown_accuracy), = APP_MODEL_LINE.findall(output)
    assert shown_file == keras_file
    _, app_accuracy = evaluate(run.load_model(), *full_dataset[1])
    assert abs(float(shown_accuracy) / 100 - app_accuracy) < 1e-5
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    # One quick epoch beside the app's whole run: no "difference" that would make the program look broken.
    assert "Difference:" not in output and "is not comparable with the app's" in output


def test_a_run_s_name_is_plain_text_in_the_notebook(sample_dataset, runs_root):
    """A name is anyone's text: in a notebook's Markdown it must not become bold, a heading or HTML."""
    from markdown_it import MarkdownIt

    run = trained_run("linear", sample_dataset, runs_root)
    odd = RunFacts("my *bold* <b>run</b> # [link](x) `code`", run.run_id, "x.keras", ())
    title_cell = notebook(run.config, "en", odd).cells[0].source.splitlines()[0]
    html = MarkdownIt().render(title_cell)
    assert html == "<h1>my *bold* &lt;b&gt;run&lt;/b&gt; # [link](x) `code`</h1>\n"
    assert script_text(run.config, "en", odd).startswith("# my *bold* <b>run</b> # [link](x) `code`\n")


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("model_name", ["linear", "mlp", "cnn"])
def test_every_notebook_is_valid_with_its_prose_in_the_reader_s_language(model_name, language):
    book = notebook(TrainConfig.for_model(model_name, augment_rotation=10.0), language)
    markdown = "".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
    assert ("训练循环" in markdown) == (language == "zh")
    assert [cell.cell_type for cell in book.cells[1:]] == ["markdown", "code"] * ((len(book.cells) - 1) // 2)


def test_the_quick_check_trains_one_epoch_on_at_most_a_thousand_pictures():
    assert quick_check_config(TrainConfig(epochs=7)).epochs == 1
    assert quick_check_config(TrainConfig()).train_subset_size == 1000
    assert quick_check_config(TrainConfig(train_subset_size=500)).train_subset_size == 500



@pytest.mark.parametrize("dataset_file", ["missing.npz", "not-the-arrays.npz"])
def test_the_script_without_its_pictures_says_what_to_do_without_a_traceback(tmp_path, dataset_file):
    np.savez(tmp_path / "not-the-arrays.npz", pictures=np.zeros((2, 28, 28), np.uint8))
    path = tmp_path / "take_home.py"
    path.write_text(script_text(TrainConfig(), "en"), encoding="utf-8")
    environment = {**student_environment("mnist"), "DATASET_FILE": str(tmp_path / dataset_file)}
    completed = subprocess.run([sys.executable, "-I", str(path)], cwd=tmp_path, env=environment, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 1
    assert "The pictures could not be loaded" in completed.stderr and "set DATASET_FILE to a file" in completed.stderr
    assert "data/mnist.npz" in completed.stderr and "Traceback" not in completed.stderr


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("changes", [
    {"model": "linear", "optimizer": "sgd", "early_stopping_patience": 2, "learning_rate_schedule": "cosine"},
    {"model": "mlp", "optimizer": "rmsprop", "hidden_layers": 3, "l2": 1e-4, "train_subset_size": 500},
    {"model": "cnn", "optimizer": "adagrad", "augment_thickness": 0.5, "augment_scale": 0.1, "dataset": "fashion_mnist"},
    {"model": "mlp", "optimizer": "momentum", "dropout": 0.0, "restore_best_weights": False, "label_noise": 0.2},
])
def test_every_program_is_python_that_compiles(changes, language):
    """The settings the run-through tests do not train still make a whole Python program (and a valid notebook)."""
    config = TrainConfig(**changes)
    compile(script_text(config, language), "take_home.py", "exec")
    for cell in notebook(config, language).cells:
        if cell.cell_type == "code":
            compile(cell.source, "cell", "exec")


def test_a_run_the_app_computes_in_mixed_bfloat16_says_why_the_program_differs():
    """The program computes in float32 on every computer; a run the app trains in mixed bfloat16 says so."""
    config = TrainConfig.for_model("cnn")
    for language in ("en", "zh"):
        assert "bfloat16" not in script_text(config, language, RunFacts(precision=FLOAT32))
        assert "bfloat16" in introduction(config, language, RunFacts(precision=MIXED_BFLOAT16), markdown=False)
    assert "float32" in script_text(config, "en", RunFacts(precision=MIXED_BFLOAT16)).split("import math")[0]
