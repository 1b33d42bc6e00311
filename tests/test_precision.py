"""The arithmetic path a run takes (mnist_core/precision.py): chosen per machine, recorded with the run, kept by
every model rebuilt from it, and said on the Train page."""

import json

import numpy as np
import pytest

from mnist_core import TrainConfig, train
from mnist_core.exam import sit_exam
from mnist_core.kernels import ONEDNN, choose_kernel_library
from mnist_core.models import build_model, evaluate
from mnist_core.precision import (
    FLOAT32,
    MIXED_BFLOAT16,
    PRECISION_VARIABLE,
    cpu_flags,
    machine_precision,
    native_bfloat16,
)
from mnist_core.runs import DamagedRunError, load_run
from tests.helpers import open_page, shown, train_on_the_train_page, trained_run
from tests.test_code_behind import code_blocks


def test_the_path_is_chosen_per_machine_and_model(monkeypatch):
    monkeypatch.delenv(PRECISION_VARIABLE, raising=False)
    assert native_bfloat16() == bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
    assert machine_precision("cnn") == (MIXED_BFLOAT16 if native_bfloat16() else FLOAT32)
    assert machine_precision("linear") == machine_precision("mlp") == FLOAT32  # no gain measured there
    monkeypatch.setattr("mnist_core.precision.cpu_flags", lambda: frozenset({"avx2", "fma"}))  # a laptop without bf16
    assert machine_precision("cnn") == FLOAT32
    monkeypatch.setattr("mnist_core.precision.cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert machine_precision("cnn") == MIXED_BFLOAT16


def test_the_server_can_choose_one_path_for_every_model(monkeypatch, caplog):
    monkeypatch.setenv(PRECISION_VARIABLE, "float32")
    assert machine_precision("cnn") == FLOAT32
    monkeypatch.setenv(PRECISION_VARIABLE, "mixed_bfloat16")
    assert machine_precision("linear") == MIXED_BFLOAT16
    monkeypatch.setenv(PRECISION_VARIABLE, "half")  # not a path: chosen per machine, with a warning in the log
    monkeypatch.setattr("mnist_core.precision.cpu_flags", lambda: frozenset())
    assert machine_precision("cnn") == FLOAT32
    assert ("MNIST_LAB_PRECISION='half' is not one of auto, float32, mixed_bfloat16: chosen per machine instead"
            in caplog.text)


def test_mixed_bfloat16_keeps_float32_weights_and_logits_and_the_same_start():
    config = TrainConfig.for_model("cnn")
    plain, mixed = build_model(config), build_model(config, MIXED_BFLOAT16)
    assert {variable.dtype for variable in mixed.weights} == {"float32"}
    assert [layer.compute_dtype for layer in mixed.layers][-1] == "float32"  # the logits' layer
    assert {layer.compute_dtype for layer in mixed.layers[:-1]} == {"bfloat16"}
    for mine, theirs in zip(mixed.weights, plain.weights, strict=True):
        assert mine.path == theirs.path
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    digits = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    logits = mixed(digits)
    assert logits.dtype == "float32"
    # bfloat16's 8 bits: the same model's outputs, to about 2 decimal digits
    np.testing.assert_allclose(logits.numpy(), plain(digits).numpy(), atol=0.05, rtol=0.05)


@pytest.mark.parametrize("precision", [FLOAT32, MIXED_BFLOAT16])
def test_a_run_records_its_path_and_every_model_rebuilt_from_it_computes_the_same_way(sample_dataset, tmp_path,
                                                                                       monkeypatch, precision):
    monkeypatch.setenv(PRECISION_VARIABLE, precision)
    run = trained_run("cnn", sample_dataset, tmp_path)
    assert json.loads((run.folder / "run.json").read_text())["precision"] == precision
    assert json.loads((run.folder / "run.json").read_text())["kernels"] == choose_kernel_library()  # a record only
    assert run.precision == precision
    expected = "bfloat16" if precision == MIXED_BFLOAT16 else "float32"
    for model in (run.load_model(), run.load_checkpoint(1), run.load_checkpoint(0)):
        assert model.get_layer("conv_1").compute_dtype == expected
    # The Exam scores the run's own model: the accuracy the last epoch's weights give on its path.
    (_, _), (test_images, test_labels) = sample_dataset
    exam = sit_exam(run.load_model(), test_images, test_labels)
    assert exam.accuracy == pytest.approx(evaluate(run.load_model(), test_images, test_labels)[1])


def test_a_run_saved_before_the_path_was_recorded_reads_as_float32_and_a_wrong_one_as_damage(sample_dataset, tmp_path):
    run = trained_run("linear", sample_dataset, tmp_path)
    info = json.loads((run.folder / "run.json").read_text())
    del info["precision"]
    (run.folder / "run.json").write_text(json.dumps(info))
    assert load_run(run.run_id, tmp_path).precision == FLOAT32
    (run.folder / "run.json").write_text(json.dumps({**info, "precision": "float8"}))
    with pytest.raises(DamagedRunError, match=r"run.json is damaged \(precision must be one of float32, mixed_bfloat16 "
                                               r"\(got 'float8'\)\)"):
        load_run(run.run_id, tmp_path)


def test_the_same_seed_on_the_same_path_gives_the_same_weights(sample_dataset):
    config = TrainConfig.for_model("cnn", epochs=1, batch_size=50)

    def weights(precision):
        training = train(config, sample_dataset, precision=precision)
        list(training)
        return [variable.numpy() for variable in training.model.weights]

    for first, second in zip(weights(MIXED_BFLOAT16), weights(MIXED_BFLOAT16), strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.pages
def test_the_train_page_says_which_path_the_run_takes_in_both_languages(runs_root, monkeypatch):
    monkeypatch.setenv(PRECISION_VARIABLE, MIXED_BFLOAT16)
    app = open_page("pages/train.py")
    app.selectbox(key="widget_model").set_value("cnn").run()
    assert any("precision = 'mixed_bfloat16'" in block for block in code_blocks(app))  # the code behind the next run
    train_on_the_train_page(app, epochs=1, training_examples=300)
    assert not app.exception and not app.error
    # The arithmetic ends the run's line of settings; what it means is the line's help.
    assert any(shown(caption).endswith(", mixed bfloat16.") for caption in app.caption)
    sentence = "It computes in mixed bfloat16: its multiplications use 16-bit bfloat16 numbers"
    assert any(sentence in caption.proto.help for caption in app.caption)
    assert any("precision = 'mixed_bfloat16'" in block for block in code_blocks(app))
    app.session_state["language"] = "zh"
    app.run()
    assert any("，混合 bfloat16。" in shown(caption) for caption in app.caption)
    assert any("这次训练以混合 bfloat16 计算" in caption.proto.help for caption in app.caption)
    # Then whose kernels it computes with (kernels.py): this server's, one sentence after the other.
    library = "oneDNN 的计算内核完成" if choose_kernel_library() == ONEDNN else "TensorFlow 自带的计算内核（Eigen）完成"
    assert any(f"。它的卷积和矩阵乘法由 {library}" in caption.proto.help for caption in app.caption)
    app.session_state["language"] = "en"
    app.run()
    monkeypatch.setenv(PRECISION_VARIABLE, FLOAT32)
    train_on_the_train_page(app, epochs=1, training_examples=300)
    assert any(shown(caption).endswith(", float32.") for caption in app.caption)
    library = "oneDNN's kernels." if choose_kernel_library() == ONEDNN else "TensorFlow's own kernels (Eigen)."
    assert any(f"It computes in float32, 32-bit numbers. Its convolutions and matrix products run on {library}"
               in caption.proto.help for caption in app.caption)
    assert not any("bfloat16" in shown(caption) for caption in app.caption)
    assert any("precision = 'float32'" in block for block in code_blocks(app))


def test_inside_a_mixed_bfloat16_model_the_pages_get_float32():
    """The views inside the model (mnist_core/inside.py) hand the pages float32, whatever the run computed in."""
    from mnist_core.inside import digit_map, layer_outputs

    model = build_model(TrainConfig.for_model("cnn"), MIXED_BFLOAT16)
    digits = np.random.default_rng(0).integers(0, 256, (20, 28, 28)).astype(np.uint8)
    assert {output.values.dtype for output in layer_outputs(model, digits[0])} == {np.dtype(np.float32)}
    assert digit_map(model, digits).features.dtype == np.float32
