"""A link for students: the settings, language and hidden controls a teacher hands a class, and the same
link read back as strictly as the sidebar's widgets would take it (mnist_core/share_links.py)."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies

from mnist_core import TrainConfig
from mnist_core.config import MODEL_PRESETS, OVERFITTING_PRESET, setting_applies
from mnist_core.setting_ranges import SETTING_RANGES
from mnist_core.share_links import (
    APP_ADDRESS_KEYS,
    KEY_COUNT_LIMIT,
    VALUE_LENGTH_LIMIT,
    link_query,
    qr_code,
    reaches_only_this_computer,
    settings_from_link,
)
from tests.helpers import open_page, shown

CNN_AT_A_HUNDREDTH = TrainConfig.for_model("cnn", learning_rate=0.01)


def test_a_cnn_at_a_hundredth_makes_a_short_link_that_opens_the_same_settings():
    query = link_query(CNN_AT_A_HUNDREDTH, "en")
    assert query == {"model": "cnn", "learning_rate": "0.01", "lang": "en"}
    link = settings_from_link(query)
    assert link.config == CNN_AT_A_HUNDREDTH and not link.dropped and link.hidden == ()


def test_the_defaults_make_a_link_with_no_settings_in_it():
    assert link_query(TrainConfig(), "zh") == {"lang": "zh"}
    assert settings_from_link({"lang": "zh"}).config == TrainConfig()


def test_the_hidden_settings_travel_in_order_once_each():
    query = link_query(CNN_AT_A_HUNDREDTH, "en", ["learning_rate", "epochs", "learning_rate"])
    assert query["hide"] == "learning_rate,epochs"
    assert settings_from_link(query).hidden == ("learning_rate", "epochs")


def test_a_link_never_carries_the_workspace_and_ignores_one_it_is_given():
    assert "workspace" not in link_query(TrainConfig.for_model("mlp", epochs=40), "en", list(SETTING_RANGES))
    link = settings_from_link({"workspace": "20261128-abcdef", "lang": "en", "model": "mlp"})
    assert link.settings == {"model": "mlp"} and not link.dropped  # the app's own keys are not the link's


def test_the_apps_own_address_keys_are_the_ones_the_link_passes_over():
    from ui.workspace import ADDRESS_KEY

    assert ADDRESS_KEY in APP_ADDRESS_KEYS and "lang" in APP_ADDRESS_KEYS


def sidebar_values(name):
    """Every value the sidebar offers for `name`: its choices, or its slider's steps."""
    allowed = SETTING_RANGES[name]
    if allowed.choices:
        return strategies.sampled_from(allowed.choices)
    steps = round((allowed.maximum - allowed.minimum) / allowed.step)
    whole = isinstance(allowed.minimum, int)
    return strategies.integers(0, steps).map(lambda step: allowed.minimum + step * allowed.step if whole
                                     else round(allowed.minimum + step * allowed.step, 10))


@settings(max_examples=300, deadline=None)
@given(strategies.fixed_dictionaries({name: sidebar_values(name) for name in SETTING_RANGES}),
       strategies.lists(strategies.sampled_from(list(SETTING_RANGES)), max_size=len(SETTING_RANGES)),
       strategies.sampled_from(["en", "zh"]))
def test_whatever_the_sidebar_can_set_opens_as_it_was_set(values, hide, language):
    config = TrainConfig.from_dict({**TrainConfig().to_dict(), **values})
    query = link_query(config, language, hide)
    assert all(len(value) <= VALUE_LENGTH_LIMIT for value in query.values())
    link = settings_from_link(query)
    assert not link.dropped, [str(note) for note in link.dropped]
    assert link.hidden == tuple(dict.fromkeys(hide))
    for name in SETTING_RANGES:
        if setting_applies(name, config):
            opened, set_ = getattr(link.config, name), getattr(config, name)
            assert opened == (pytest.approx(set_) if isinstance(set_, float) else set_), name


@pytest.mark.parametrize("preset", [*MODEL_PRESETS, "overfitting"])
def test_every_preset_opens_as_the_sidebar_shows_it(preset):
    config = TrainConfig.from_dict({**TrainConfig().to_dict(), **OVERFITTING_PRESET}) if preset == "overfitting" \
        else TrainConfig.for_model(preset)
    link = settings_from_link(link_query(config, "en"))
    assert link.config == config and not link.dropped


def test_every_value_the_sidebar_offers_makes_a_valid_config():
    """The sidebar's ranges lie within what a run may be at all, in the setting's own kind of number: a link
    read with them never fails as a config."""
    kinds = {field.name: field.type for field in dataclasses.fields(TrainConfig)}
    for name, allowed in SETTING_RANGES.items():
        assert allowed.whole_numbers == kinds[name].startswith("int"), name
        for value in allowed.choices or (allowed.minimum, allowed.maximum):
            TrainConfig(**{name: value})


@pytest.mark.parametrize(("key", "value", "said"), [
    ("model", "<script>alert(1)</script>", "model=<script>alert(1)</script> is not one of the sidebar's choices (linear, mlp, cnn)"),
    ("epochs", "1e9", "epochs=1e9 is outside what the sidebar offers (from 1 to 100)"),
    ("epochs", "101", "epochs=101 is outside what the sidebar offers (from 1 to 100)"),
    ("epochs", "2.5", "epochs=2.5 is not a whole number"),
    ("learning_rate", "-1", "learning_rate=-1 is outside what the sidebar offers (from 1e-05 to 10)"),
    ("learning_rate", "100", "learning_rate=100 is outside what the sidebar offers (from 1e-05 to 10)"),
    ("learning_rate", "nan", "learning_rate=nan is not a number"),
    ("learning_rate", "1e999", "learning_rate=1e999 is not a number"),
    ("learning_rate", "0x10", "learning_rate=0x10 is not a number"),
    ("batch_size", "0", "batch_size=0 is outside what the sidebar offers (from 1 to 4096)"),
    ("hidden_units", "4096", "hidden_units=4096 is not one of the sidebar's choices (16, 32, 64, 128, 256, 512, 1024)"),
    ("dropout", "0.33", "dropout=0.33 is outside what the sidebar offers (from 0 to 0.8 in steps of 0.05)"),
    ("train_subset_size", "7", "train_subset_size=7 is not one of the sidebar's choices (100, 300, 500, 1000, 2000, 5000, "
                               "10000, 20000, all)"),
    ("seed", "-1", "seed=-1 is outside what the sidebar offers (from 0 to 2147483647)"),
    ("restore_best_weights", "false", "“restore_best_weights” is not a setting a link can carry"),
    ("bogus", "1", "“bogus” is not a setting a link can carry"),
    ("hide", "learning_rate,<b>", "hide=learning_rate,<b>: “<b>” is not a setting of the sidebar"),
    ("dropout", "0." + "1" * 10_000, "The link's dropout is 10,002 characters long, far longer than any setting"),
    ("x" * 10_000, "1", f"“{'x' * 40}…” is not a setting a link can carry"),
])
def test_a_value_the_sidebar_does_not_offer_is_left_out_with_a_note_naming_it(key, value, said):
    link = settings_from_link({"optimizer": "sgd", key: value})
    assert link.settings == {"optimizer": "sgd"} and link.config == TrainConfig(optimizer="sgd")
    (note,) = link.dropped
    assert str(note).startswith(said), str(note)
    assert len(str(note)) < 300  # a 10 kB value is never repeated in full


def test_a_note_reads_in_chinese():
    (note,) = settings_from_link({"epochs": "1e9"}).dropped
    assert "epochs=1e9" in note.render("zh") and note.render("zh") != str(note)


def test_an_address_repeating_a_key_gives_its_last_value():
    assert settings_from_link({"epochs": ["3", "7"]}).settings == {"epochs": 7}


def test_an_address_with_thousands_of_keys_is_read_only_as_far_as_any_link_goes():
    query = {f"key{number}": "1" for number in range(10_000)}
    link = settings_from_link(query)
    assert str(link.dropped[0]).startswith("The link holds 10,000 values, more than any link of this app")
    assert len(link.dropped) == 1 + KEY_COUNT_LIMIT


def test_a_model_too_big_for_the_shared_server_is_refused_with_its_message(monkeypatch):
    biggest = {"model": "cnn", "cnn_filters": "64", "hidden_units": "1024"}
    assert not settings_from_link(biggest).dropped  # the sidebar's biggest model is within the server's limit
    monkeypatch.setattr("mnist_core.fair_share.MAX_PARAMETERS", 100_000)
    link = settings_from_link({**biggest, "epochs": "3"})
    assert link.settings == {} and link.config == TrainConfig()
    (note,) = link.dropped
    assert str(note).startswith("The link's settings do not go together, so none of them were applied: This model has")
    assert "more than the 100,000 a run may have on this shared server" in str(note)


@pytest.mark.parametrize(("address", "only_here"), [
    ("http://localhost:8501/?lang=en", True), ("http://127.0.0.1:8501/", True), ("http://[::1]:8501/", True),
    ("http://192.168.1.20:8501/?model=cnn", False), ("http://lab.school.example/mnist/", False), ("/?lang=en", False),
])
def test_a_link_from_localhost_is_known_to_open_nothing_on_a_students_computer(address, only_here):
    assert reaches_only_this_computer(address) is only_here


def test_the_qr_code_is_a_sharp_square_of_about_the_size_asked():
    image = qr_code("http://192.168.1.20:8501/?model=cnn&learning_rate=0.01&hide=learning_rate&lang=zh", 380)
    width, height = image.size
    assert width == height and 300 <= width <= 380
    assert set(np.unique(np.asarray(image.convert("L")))) == {0, 255}  # black and white only, no blurred module edges


# -- opening a link in the app (AppTest) ------------------------------------------------------------------

HOSTILE_LINK = {"model": "<script>alert(1)</script>", "epochs": "1e9", "learning_rate": "-1", "bogus": "1",
                "dropout": "x" * 10_000}


@pytest.mark.pages
def test_a_hostile_link_keeps_the_defaults_and_says_what_it_left_out():
    app = open_page(query={**HOSTILE_LINK, "lang": "en"})
    assert not app.exception
    (warning,) = app.warning
    text = shown(warning)
    assert text.startswith("This link held values the sidebar does not offer.")
    for said in ("model=<script>alert(1)</script> is not one of", "epochs=1e9 is outside", "learning_rate=-1 is outside",
                 "“bogus” is not a setting", "The link's dropout is 10,000 characters long"):
        assert said in text, said
    assert "<script>" not in warning.value  # shown as text: escaped for Markdown
    assert app.session_state["settings"] == TrainConfig().to_dict()
    assert app.selectbox(key="widget_model").value == "linear" and app.slider(key="widget_epochs").value == 5
    assert dict(app.query_params) == {"lang": "en"}  # the link's keys taken out of the address


@pytest.mark.pages
def test_a_link_opens_its_settings_with_its_hidden_control_left_out_on_every_page():
    app = open_page(query={"model": "cnn", "learning_rate": "0.01", "hide": "learning_rate"})
    assert not app.exception and not app.warning
    assert app.selectbox(key="widget_model").value == "cnn" and app.select_slider(key="widget_batch_size").value == TrainConfig.for_model("cnn").batch_size
    assert app.session_state["settings"]["learning_rate"] == 0.01
    assert "widget_learning_rate" not in [widget.key for widget in app.select_slider]
    assert "learning_rate" not in app.query_params and "model" not in app.query_params

    app.switch_page("pages/train.py").run()  # the settings live in the session, not in the address
    assert app.selectbox(key="widget_model").value == "cnn"
    assert "widget_learning_rate" not in [widget.key for widget in app.select_slider]
    app.selectbox(key="widget_model").set_value("mlp").run()  # the MLP's preset, but the teacher's fixed rate
    assert app.slider(key="widget_hidden_layers").value == 2 and app.session_state["settings"]["learning_rate"] == 0.01
