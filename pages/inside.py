"""Inside: one digit through a student's own trained model, layer by layer; what the model looked at;
and the map of all digits as the model sees them, with the digit's nearest neighbours.

The maths is mnist_core.inside's. The maps of all digits (and the training digits' features, for the
neighbours) are computed once per run and epoch and kept for the whole server, in ComputedOnce
stores; what belongs to one digit is quick (under a second for the CNN) and computed on each run.
"""

from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnist_core.heavy_work import heavy_work
from mnist_core.inside import (
    BACKGROUND,
    GREY,
    MAP_DIGITS,
    NEIGHBOUR_POOL,
    NEIGHBOURS,
    OCCLUSION_PATCH,
    digit_map,
    features_of,
    gradient_times_input,
    layer_outputs,
    linear_contributions,
    map_key,
    nearest_digits,
    occlusion_map,
    output_probabilities,
    penultimate_features,
    random_start_kernel,
    score_gradient,
    tsne,
)
from mnist_core.pictures import activation_strip, bordered, digits_as_braille, diverging_colours, enlarged, feature_maps_picture
from mnist_core.runs import DamagedRunError
from ui.charts import digit_bars, show_chart
from ui.charts import digit_map as digit_map_chart
from ui.dataset import ClassLabels, class_labels, dataset_or_stop, run_digits
from ui.exam_results import exam_results
from ui.heavy_work import in_turn, waiting_sentence
from ui.i18n import N_, _, in_page_language, say
from ui.inside_link import DRAWN_DIGIT, INSIDE_REQUEST
from ui.layout import scroll_to_top, wrapping_columns
from ui.navigation import require_navigation
from ui.run_picker import model_of, pick_run, run_stamp, trained_runs
from ui.server_stores import server_store
from ui.workspace import workspace

DIGIT_SCALE = 6          # the inspected digit and its maps: 168 px, sharp on a projector
TOP_UNITS = 8            # the MLP's most active units shown with what they look for
MAPS_PER_ROW = 16
MAP_TILE = 56            # pixels per feature map, whatever its size: 28x28 maps at 2x, 7x7 maps at 8x
OCCLUSION_FILLS = {BACKGROUND: N_("black (erases the ink)"), GREY: N_("grey")}
PROJECTIONS = {"pca": N_("PCA (at once)"), "tsne": N_("t-SNE (on request)")}



def apply_request() -> None:
    """A "look inside" link from the Exam or the Draw page: open its run at its last epoch, on its digit."""
    request = st.session_state.pop(INSIDE_REQUEST, None)
    if request is None:
        return
    for run in trained_runs():
        if run.run_id == request["run_id"]:
            st.session_state["inside_run"] = run.run_id  # the run picker opens on it
            st.session_state.pop(f"inside_epoch_{run.run_id}", None)
    st.session_state["inside_digit"] = request["digit"]
    st.session_state["inside_scroll_to_top"] = True
    if request["digit"][0] == "test":
        st.session_state["inside_test_number"] = request["digit"][1]


def epoch_choice_label(epoch: int) -> str:
    return _("0 (the random start)") if epoch == 0 else str(epoch)


def pick_epoch(run):
    """(the epoch chosen, or None for a run that kept only its final weights; the model as it was then)."""
    epochs = run.checkpoint_epochs()
    if not epochs:
        st.caption(_("This run kept only its final weights (it was trained before the app kept every epoch's), so you "
                     "look inside the model as it ended."))
        return None, model_of(run)
    epoch = st.select_slider(_("Epoch"), epochs, value=epochs[-1], format_func=in_page_language(epoch_choice_label),
                             key=f"inside_epoch_{run.run_id}")
    return epoch, checkpoint_model(run, epoch)


def checkpoint_model(run, epoch: int):
    """The run's model at `epoch`, loaded once per session and epoch (each person's models are their own)."""
    models = st.session_state.setdefault("inside_models", {})
    key = (*run_stamp(run), epoch)
    if key not in models:
        try:
            model = run.load_checkpoint(epoch)
        except DamagedRunError as error:
            st.error(_("This epoch's weights cannot be read: {error}", error=say(error)))
            st.stop()
        models.clear()  # one model at a time per session: the page looks at one epoch at once
        models[key] = model
    return models[key]


# -- choosing the digit ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChosenDigit:
    """The digit to look inside, and what the page says and marks about it."""

    image: np.ndarray         # 28x28 floats in [0, 1], as the model reads it
    label: int | None         # its true label; None for a digit drawn on the Draw page, which has none
    description: str          # what it is, in words: "test digit 7 (labelled 3)"
    index_on_map: int | None  # where the map of validation digits has it, to circle it; None if it is not there


def pick_digit(run, test_images, test_labels, classes: ClassLabels) -> ChosenDigit:
    """The digit (or Fashion-MNIST picture) to look inside, as the buttons above it (or a link from another
    page) chose it."""
    choice = st.session_state.setdefault("inside_digit", ("test", 0))
    # Streamlit forgets a widget's value when its page is left; the choice itself is kept, so the box shows it again.
    st.session_state.setdefault("inside_test_number", choice[1] if choice[0] == "test" else 0)
    digits = run.config.dataset == "mnist"
    # The Draw page's digit is a digit: offered to a model that reads digits, not to one that reads clothes.
    drawn = st.session_state.get(DRAWN_DIGIT) if digits else None
    number_column, random_column, mistake_column, drawn_column = wrapping_columns(4, key="inside_digit_choice",
                                                                                   least_width_rem=12,
                                                                                   vertical_alignment="bottom")
    last = len(test_labels) - 1
    number_column.number_input(_("Test digit number (0 to {last:,})", last=last) if digits else
                               _("Test picture number (0 to {last:,})", last=last), min_value=0, max_value=last, step=1,
                               key="inside_test_number", on_change=choose_test_digit)
    random_column.button(_("A random test digit") if digits else _("A random test picture"), icon=":material/casino:",
                         width="stretch", on_click=choose_random_digit, args=(np.arange(len(test_labels)),))
    exam = exam_results().get((workspace(), *run_stamp(run)))
    if exam is not None and len(mistakes := exam.mistakes(test_labels)):
        mistake_column.button(_("A mistake from its exam"), icon=":material/school:", width="stretch",
                              on_click=choose_random_digit, args=(mistakes,))
    if drawn is not None:
        drawn_column.button(_("The digit you drew"), icon=":material/draw:", width="stretch",
                            on_click=st.session_state.__setitem__, args=("inside_digit", ("drawn", 0)))
    choice = st.session_state["inside_digit"]
    if choice[0] == "drawn" and drawn is not None:
        return ChosenDigit(image=drawn, label=None, description=_("the digit you drew on the Draw page"), index_on_map=None)
    split = run_digits(run)
    if choice[0] == "validation" and choice[2] == run.run_id:  # a validation digit is one of its run's split
        index, label = choice[1], int(split.validation_labels[choice[1]])
        named = classes.name(label)
        return ChosenDigit(image=split.validation_images[index] / 255.0, label=label,
                           description=_("validation digit {index} (labelled {label}), picked on the map",
                                         index=index, label=named) if digits else
                           _("validation picture {index} (labelled {label}), picked on the map", index=index, label=named),
                           index_on_map=index if index < MAP_DIGITS else None)
    index = choice[1] if choice[0] == "test" else int(st.session_state.get("inside_test_number", 0))
    label = int(test_labels[index])
    return ChosenDigit(image=test_images[index] / 255.0, label=label,
                       description=_("test digit {index} (labelled {label})", index=index, label=classes.name(label)) if digits
                       else _("test picture {index} (labelled {label})", index=index, label=classes.name(label)),
                       index_on_map=None)


def choose_test_digit() -> None:
    """Look at the test digit whose number was typed in."""
    st.session_state["inside_digit"] = ("test", int(st.session_state["inside_test_number"]))


def choose_random_digit(test_indices: np.ndarray) -> None:
    """Look at a test digit drawn at random from `test_indices` (all of them, or the exam's mistakes)."""
    index = int(np.random.default_rng().choice(test_indices))
    st.session_state["inside_test_number"] = index
    st.session_state["inside_digit"] = ("test", index)


def choose_map_digit(chart_key: str, run_id: str) -> None:
    """A click on a point of a map of all digits: look at that validation digit of run `run_id`'s split."""
    state = st.session_state.get(chart_key)
    points = state.selection.points if state else []
    if points and "customdata" in points[0]:
        st.session_state["inside_digit"] = ("validation", int(points[0]["customdata"]), run_id)
        st.session_state["inside_scroll_to_top"] = True  # the digit opens at the top of the page, far above the map


# -- the inspector -----------------------------------------------------------------------------------

def show_verdict(digit: ChosenDigit, probabilities: np.ndarray, classes: ClassLabels) -> None:
    """The digit, what it is and what the model reads."""
    answer = int(probabilities.argmax())
    digits = classes.names[0] == "0"
    picture_column, words_column = wrapping_columns([1, 3], key="inside_verdict", least_width_rem=12)
    picture_column.image(enlarged(np.clip(digit.image, 0, 1), DIGIT_SCALE), width=28 * DIGIT_SCALE)
    words_column.write(_("Looking at {description}.", description=digit.description))
    if np.ptp(probabilities) < 1e-6:  # the linear model's zero start: ten equal scores
        words_column.info(_("Every digit gets the same score: this model has learned nothing yet (the linear model starts with "
                            "all its weights at zero). It would answer {answer} only because {answer} comes first.",
                            answer=answer) if digits else
                          _("Every class gets the same score: this model has learned nothing yet (the linear model starts with "
                            "all its weights at zero). It would answer {answer} only because {answer} comes first.",
                            answer=classes.name(answer)))
        return
    words_column.metric(_("The model reads"), classes.name(answer),
                        _("{confidence:.0%} sure", confidence=float(probabilities[answer])), delta_color="off", delta_arrow="off")
    if digit.label is not None and digit.label != answer:
        words_column.warning(_("Wrong: its label is {label}. The views below show why the model said {answer}.",
                               label=classes.name(digit.label), answer=classes.name(answer)))


def show_layers(run, epoch, model, image, outputs, probabilities, classes: ClassLabels) -> None:
    config = run.config
    st.subheader(_("Layer by layer"))
    if config.model == "linear":
        show_linear_votes(model, image, classes)
    else:
        show_hidden_layers(run, epoch, model, outputs)
    title = (_("Output: the probability of each digit (softmax of the scores)") if config.dataset == "mnist" else
             _("Output: the probability of each class (softmax of the scores)"))
    show_chart(digit_bars(probabilities, title, _("probability"), classes=classes, highlight=int(probabilities.argmax())),
               key="inside_probabilities")


def show_linear_votes(model, image, classes: ClassLabels) -> None:
    weights, bias = model.get_layer("linear_softmax").W.numpy(), model.get_layer("linear_softmax").b.numpy()
    contributions = linear_contributions(weights, image)
    if classes.names[0] == "0":
        st.write(_("The linear model has no hidden layer: each pixel votes for or against each digit with its weight. "
                   "Orange pixels vote for the digit, blue ones against; the votes add up, with the bias, to the digit's "
                   "score."))
    else:
        st.write(_("The linear model has no hidden layer: each pixel votes for or against each class with its weight. "
                   "Orange pixels vote for the class, blue ones against; the votes add up, with the bias, to the class's "
                   "score."))
    limit = float(np.abs(contributions).max())
    for row in (range(0, 5), range(5, 10)):
        for digit, column in zip(row, wrapping_columns(5, key=f"inside_votes_{row[0]}", least_width_rem=8.5)):
            votes = float(contributions[digit].sum())
            column.image(bordered(diverging_colours(contributions[digit], limit or 1.0, 5)), width=28 * 5 + 2,
                         caption=_("{digit}: votes {votes:+.2f}, bias {bias:+.2f}, score {score:+.2f}", digit=classes.name(digit),
                                   votes=votes, bias=float(bias[digit]), score=votes + float(bias[digit])))
    st.caption(_("One color scale for all ten: full orange is a vote of +{limit:.3g}, full blue {negative:.3g}.",
                 limit=limit, negative=-limit))


def show_hidden_layers(run, epoch, model, outputs) -> None:
    convolutions = poolings = hidden = 0
    thing = class_labels(run.config.dataset).thing  # what one example is: "digit", "picture"
    for output in outputs:
        values = output.values
        if output.kind == "convolution":
            convolutions += 1
            st.markdown(_("**Convolution {number}, after its ReLU**: {maps} feature maps of {height}x{width}. Each map "
                          "is one filter slid over the layer below: bright where it found its pattern.", number=convolutions,
                          maps=values.shape[-1], height=values.shape[0], width=values.shape[1]))
        elif output.kind == "pooling":
            poolings += 1
            st.markdown(_("**Max pooling {number}**: {maps} maps of {height}x{width}, each the strongest of every 2x2 "
                          "block of the maps above.", number=poolings, maps=values.shape[-1], height=values.shape[0],
                          width=values.shape[1]))
        if output.kind in ("convolution", "pooling"):
            st.image(feature_maps_picture(values, MAPS_PER_ROW, max(1, MAP_TILE // values.shape[0])))
        elif output.kind == "dense":
            hidden += 1
            active = int((values > 0).sum())
            st.markdown(_("**Hidden layer {number}**: {units} units, {active} of them active (above 0) for this {thing}.",
                          number=hidden, units=len(values), active=active, thing=thing))
            st.image(activation_strip(values, cell=12))
            if run.config.model == "mlp" and hidden == 1:
                show_top_units(run, epoch, model, values)
    st.caption(_("Black is 0; white is the layer's largest value for this {thing}.", thing=thing))


def show_top_units(run, epoch, model, activations: np.ndarray) -> None:
    """The first hidden layer's most active units, each with its incoming weights: what it looks for. As
    learned since the random start, where that is kept: a unit keeps most of its random start, which
    would hide what it learned under noise (as the Replay page's weights show)."""
    kernel = model.get_layer("hidden_1").kernel.numpy()
    top = [unit for unit in np.argsort(-activations, kind="stable")[:TOP_UNITS] if activations[unit] > 0]
    if not top:
        return
    start = random_start_kernel(run) if epoch else None
    if start is None:
        st.write(_("Its most active units, and what each looks for (its incoming weights: orange pixels excite it, blue "
                   "ones calm it):"))
    else:
        kernel = kernel - start
        st.write(_("Its most active units, and what each has learned to look for (its incoming weights' change since "
                   "the random start: orange pixels now excite it more, blue ones less):"))
    for unit, column in zip(top, wrapping_columns(TOP_UNITS, key="inside_top_units", least_width_rem=5.5)):
        incoming = kernel[:, unit].reshape(28, 28)
        column.image(diverging_colours(incoming, float(np.abs(incoming).max()) or 1.0, 3), width=84,
                     caption=_("unit {unit}: {value:.2f}", unit=int(unit), value=float(activations[unit])))


def show_looked_at(model, image, answer: int, digit_key: str, classes: ClassLabels) -> None:
    st.subheader(_("What it looked at"))
    class_column, fill_column = wrapping_columns(2, key="inside_looked_at_choices", least_width_rem=14,
                                                 vertical_alignment="bottom")
    explained = class_column.selectbox(_("Explain the score of digit") if classes.names[0] == "0" else
                                       _("Explain the score of class"), list(range(10)), index=answer,
                                       format_func=classes.name,  # names already in the page's language
                                       key=f"inside_class_{digit_key}_{answer}")  # a new digit starts at its answer
    named = classes.name(explained)
    fill = fill_column.radio(_("Occluding patch"), list(OCCLUSION_FILLS), horizontal=True,
                             format_func=in_page_language(lambda choice: _(OCCLUSION_FILLS[choice])),
                             key="inside_occlusion_fill")
    saliency = score_gradient(model, image, explained)
    maps = [
        (saliency,
         _("**Saliency**: how the score of {digit} would change if a pixel were brighter. Orange would raise it, blue "
           "lower it; white pixels do not matter.", digit=named)),
        (gradient_times_input(saliency, image),
         _("**Gradient x input**: the saliency on the ink alone, what the pixels that are there added to the score. Orange "
           "ink speaks for {digit}, blue ink against.", digit=named)),
        (in_turn(lambda: occlusion_map(model, image, explained, OCCLUSION_PATCH, fill)),  # 785 digits through the model
         _("**Occlusion**: how much the probability of {digit} drops when the {patch}x{patch} square around a pixel is "
           "covered. Orange: covering it hides evidence for {digit}; blue: evidence against.", digit=named,
           patch=OCCLUSION_PATCH)),
    ]
    for (values, sentence), column in zip(maps, wrapping_columns(3, key="inside_looked_at", least_width_rem=12)):
        limit = float(np.abs(values).max())
        # Each map on its own scale, so its pattern shows; the caption says how big that scale is, so a map of
        # a digit the model barely considers does not look as strong as one that decides the answer.
        column.image(bordered(diverging_colours(values, limit or 1.0, DIGIT_SCALE)), width=28 * DIGIT_SCALE + 2,
                     caption=_("full colour: ±{limit:.2g}", limit=limit))
        column.markdown(sentence)


# -- the map of all digits and the neighbours --------------------------------------------------------

def the_map(run, epoch, load_model):
    """The map of the run's first MAP_DIGITS validation digits at `epoch`, computed once per run and epoch
    (`load_model` is called only then)."""
    validation_images = run_digits(run).validation_images
    return server_store("digit maps").get(map_key(run, epoch),
                           lambda: in_turn(lambda: digit_map(load_model(), validation_images[:MAP_DIGITS])))


def show_digit_maps(run, epoch, model, features, index_on_map, classes: ClassLabels) -> None:
    split = run_digits(run)
    count = min(MAP_DIGITS, len(split.validation_labels))
    if run.config.dataset == "mnist":
        st.subheader(_("The map of all digits"))
        st.write(_("Each point is one of {count:,} validation digits, placed where the model's last hidden layer puts it "
                   "(for the linear model, its ten scores), squeezed to two dimensions. Digits the model finds alike land "
                   "together; a black cross marks a digit it reads wrong. Hover over a point to see its digit; click it to "
                   "look inside.", count=count))
    else:
        st.subheader(_("The map of all pictures"))
        st.write(_("Each point is one of {count:,} validation pictures, placed where the model's last hidden layer puts it "
                   "(for the linear model, its ten scores), squeezed to two dimensions. Pictures the model finds alike land "
                   "together; a black cross marks a picture it reads wrong. Hover over a point to see its picture; click it "
                   "to look inside.", count=count))
    labels = split.validation_labels[:MAP_DIGITS]
    # The digits' hover pictures: the same for every epoch of a run, made once.
    pictures = server_store("digit maps").get((str(run.folder), "hover pictures"),
                               lambda: digits_as_braille(split.validation_images[:MAP_DIGITS] / 255.0))
    projection = st.radio(_("Projection"), list(PROJECTIONS), horizontal=True,
                          format_func=in_page_language(lambda choice: _(PROJECTIONS[choice])), key="inside_projection")
    maps = {epoch: the_map(run, epoch, lambda: model)}
    if epoch:  # side by side with the random start, when there is one
        try:
            maps = {0: the_map(run, 0, lambda: run.load_checkpoint(0)), **maps}
        except DamagedRunError as error:
            st.warning(_("The random start's weights cannot be read, so only this epoch's map is drawn: {error}",
                         error=say(error)))
    epochs = list(maps)
    if projection == "tsne":
        missing = [shown for shown in epochs if server_store("t-SNE maps").peek(map_key(run, shown)) is None]
        if missing:
            st.write(_("t-SNE places neighbours more faithfully than PCA, but takes about ten seconds a map."))
            if not st.button(_("Draw the t-SNE maps"), icon=":material/scatter_plot:"):
                return
            bar = st.progress(0.0, text=_("t-SNE: arranging the digits..."))
            for position, shown in enumerate(missing):
                server_store("t-SNE maps").get(map_key(run, shown), lambda features=maps[shown].features, position=position:
                                 tsne_in_turn(features, bar, position, len(missing)))
            st.rerun()  # the maps, without the button and the sentence that asked for them
    widths = [1, 1.2] if len(epochs) == 2 else [1]  # the second map holds the legend for both
    for shown, column in zip(epochs, wrapping_columns(widths, key="inside_maps", least_width_rem=20)):
        digits = maps[shown]
        placed = None
        if projection == "tsne":
            coordinates = server_store("t-SNE maps").peek(map_key(run, shown))
        else:
            coordinates = digits.projection.coordinates
            if index_on_map is None and shown == epoch:
                placed = digits.projection.place(features)
        title = (_("At the random start (epoch 0)") if shown == 0 else
                 _("After epoch {epoch}: {accuracy:.0%} read right", epoch=shown,
                   accuracy=float((digits.predictions == labels).mean())) if shown is not None else _("Its final weights"))
        chart_key = f"inside_map_{shown}"
        show_chart(digit_map_chart(coordinates, labels, digits.predictions, pictures, title, classes=classes,
                                   chosen=index_on_map, placed=placed, legend=shown == epochs[-1]),
                   key=chart_key, where=column, on_select=lambda key=chart_key: choose_map_digit(key, run.run_id),
                   selection_mode="points")
        if np.ptp(coordinates, axis=0).max() == 0:
            column.caption(_("Every digit is on one point: the model gives them all the same features (the linear model "
                             "starts with all its weights at zero, so it scores every digit 0)."))
    if projection == "tsne" and index_on_map is None:
        st.caption(_("t-SNE arranges only the digits it was given, so it cannot place a new digit on its map; PCA can."))


def tsne_in_turn(features, bar, position: int, count: int):
    """t-SNE of `features` in the server's turn for heavy work (each takes a core for ten seconds), the
    bar showing map `position` of `count`, and the wait, if any."""
    def waiting(place: int) -> None:
        bar.progress(position / count, text=waiting_sentence(place))

    with heavy_work.turn(waiting):
        return tsne(features, progress=lambda share: bar.progress((position + share) / count,
                                                                  text=_("t-SNE: arranging the digits...")))


def show_neighbours(run, epoch, model, features, answer: int, classes: ClassLabels) -> None:
    split = run_digits(run)
    training_images = split.first_training_images[:NEIGHBOUR_POOL]
    training_labels = split.first_training_labels[:NEIGHBOUR_POOL]
    training_features = server_store("neighbour features").get(map_key(run, epoch),
                                              lambda: in_turn(lambda: penultimate_features(model, training_images)))
    nearest = nearest_digits(features, training_features)
    st.subheader(_("Its nearest neighbours"))
    if np.ptp(training_features) == 0:
        st.write(_("At this epoch the model gives every digit the same features, so no digit is nearer to it than another."))
        return
    same = int((training_labels[nearest] == answer).sum())
    if run.config.dataset == "mnist":
        st.write(_("The {count} training digits closest to this one in the model's eyes (in the space of the map above): "
                   "{same} of them are labelled {answer}. A model reads a digit much as it reads the digits it resembles.",
                   count=NEIGHBOURS, same=same, answer=classes.name(answer)))
    else:
        st.write(_("The {count} training pictures closest to this one in the model's eyes (in the space of the map above): "
                   "{same} of them are labelled {answer}. A model reads a picture much as it reads the pictures it "
                   "resembles.", count=NEIGHBOURS, same=same, answer=classes.name(answer)))
    for index, column in zip(nearest, wrapping_columns(NEIGHBOURS, key="inside_neighbours", least_width_rem=5)):
        column.image(enlarged(training_images[index], 3), caption=_("label {label}", label=classes.name(training_labels[index])))


def inside_page() -> None:
    st.title(_("Look inside the model"))
    st.write(_("Follow one digit through your own trained model: what each layer makes of it, which pixels decided the "
               "answer, and where it lands among all the other digits."))
    apply_request()
    run = pick_run(_("Model to look inside"), key="inside_run")  # the run looked at last, by its id (ui/run_picker.py)
    if run is None:
        st.info(_("No trained run yet: train one on the Train page first."))
        return
    # The test digits (or pictures) of the run's own dataset: a Fashion-MNIST model is looked inside on clothes.
    _training, (test_images, test_labels) = dataset_or_stop(run.config.dataset)
    classes = class_labels(run.config.dataset)
    epoch, model = pick_epoch(run)
    digit = pick_digit(run, test_images, test_labels, classes)
    outputs = layer_outputs(model, digit.image)
    probabilities = output_probabilities(outputs)
    show_verdict(digit, probabilities, classes)
    show_layers(run, epoch, model, digit.image, outputs, probabilities, classes)
    show_looked_at(model, digit.image, int(probabilities.argmax()), digit.description, classes)
    features = features_of(outputs)
    show_digit_maps(run, epoch, model, features, digit.index_on_map, classes)
    show_neighbours(run, epoch, model, features, int(probabilities.argmax()), classes)
    if st.session_state.pop("inside_scroll_to_top", False):
        scroll_to_top()


require_navigation()
inside_page()
