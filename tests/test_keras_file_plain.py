"""A run's downloaded .keras file loads in Keras alone, as in a student's own notebook: in a fresh
Python process that cannot import this app (python -I, run from a folder outside the project), for
every model, and there it scores the run's own test accuracy, as the app's Exam marks it."""

import json
import os
import subprocess
import sys

import numpy as np

from mnist_core.config import MODEL_NAMES
from mnist_core.exam import sit_exam
from mnist_core.exports import keras_model_bytes
from tests.helpers import trained_run

# Run in the fresh process, in the folder holding "<model>.keras" for each model and "test_set.npz":
# prints each model's test accuracy as one JSON object.
STUDENTS_NOTEBOOK = """
import importlib.util, json, sys
assert importlib.util.find_spec("mnist_core") is None, "the app's code must not be importable here"
import keras
import numpy as np

with np.load("test_set.npz") as test_set:
    images, labels = test_set["images"].astype("float32") / 255, test_set["labels"]
accuracies = {}
for model_name in sys.argv[1:]:
    model = keras.models.load_model(f"{model_name}.keras")
    logits = np.asarray(model(images, training=False))
    accuracies[model_name] = float((logits.argmax(axis=1) == labels).mean())
print(json.dumps(accuracies))
"""


def test_every_models_keras_file_loads_in_plain_keras_and_scores_the_runs_test_accuracy(sample_dataset, runs_root,
                                                                                       tmp_path):
    test_images, test_labels = sample_dataset[1]
    exam_accuracies = {}
    for model_name in MODEL_NAMES:
        run = trained_run(model_name, sample_dataset, runs_root)
        (tmp_path / f"{model_name}.keras").write_bytes(keras_model_bytes(run))
        exam_accuracies[model_name] = sit_exam(run.load_model(), test_images, test_labels).accuracy
    np.savez(tmp_path / "test_set.npz", images=test_images, labels=test_labels)

    # One process for all three models: importing TensorFlow there takes most of its time.
    notebook = subprocess.run([sys.executable, "-I", "-c", STUDENTS_NOTEBOOK, *MODEL_NAMES], cwd=tmp_path,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True, text=True,
                              timeout=300)
    assert notebook.returncode == 0, notebook.stderr
    plain_keras_accuracies = json.loads(notebook.stdout.strip().splitlines()[-1])
    assert set(plain_keras_accuracies) == set(MODEL_NAMES)
    for model_name in MODEL_NAMES:
        assert abs(plain_keras_accuracies[model_name] - exam_accuracies[model_name]) <= 1e-6, model_name
