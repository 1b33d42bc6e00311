"""Exam: the final test of a trained model on the 10,000 test examples of its dataset (MNIST's digits,
Fashion-MNIST's pictures of clothes) it has never seen."""

import numpy as np
import streamlit as st

from mnist_core.exam import linear_weight_images, sit_exam, validation_verdict
from mnist_core.pictures import diverging_colours
from ui.charts import clicked_cell, confusion_heatmap, digit_bars, show_chart
from ui.dataset import ClassLabels, class_labels, dataset_or_stop
from ui.exam_results import exam_results
from ui.heavy_work import in_turn
from ui.i18n import N_, _, in_page_language, number, say
from ui.inside_link import look_inside
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.run_picker import model_of, pick_run, run_stamp
from ui.settings import settings
from ui.workspace import workspace

GALLERY_SIZE = 40
GALLERY_ROW = 8  # 40 mistakes in five full rows; each digit has its "Inside" button under it
WEIGHT_IMAGE_SCALE = 6  # each weight drawn as a 6x6 block: 168 px templates, sharp on a projector
# The gallery's caption, a whole sentence for each choice of the two filters and each kind of count
# (one mistake; none; a few, all shown; more than the gallery holds), so every language can order
# its words its own way.
MISTAKES_CAPTIONS = {
    ("all", "one"): N_("{count:,} mistake in all."),
    ("all", "none"): N_("{count:,} mistakes in all."),
    ("all", "few"): N_("{count:,} mistakes in all; the most confident first."),
    ("all", "many"): N_("{count:,} mistakes in all; showing the {shown} most confident."),
    ("predicted", "one"): N_("{count:,} mistake read as {predicted}."),
    ("predicted", "none"): N_("{count:,} mistakes read as {predicted}."),
    ("predicted", "few"): N_("{count:,} mistakes read as {predicted}; the most confident first."),
    ("predicted", "many"): N_("{count:,} mistakes read as {predicted}; showing the {shown} most confident."),
    ("true", "one"): N_("{count:,} mistake on a true {true}."),
    ("true", "none"): N_("{count:,} mistakes on a true {true}."),
    ("true", "few"): N_("{count:,} mistakes on a true {true}; the most confident first."),
    ("true", "many"): N_("{count:,} mistakes on a true {true}; showing the {shown} most confident."),
    ("both", "one"): N_("{count:,} mistake on a true {true} read as {predicted}."),
    ("both", "none"): N_("{count:,} mistakes on a true {true} read as {predicted}."),
    ("both", "few"): N_("{count:,} mistakes on a true {true} read as {predicted}; the most confident first."),
    ("both", "many"): N_("{count:,} mistakes on a true {true} read as {predicted}; showing the {shown} most confident."),
}
# The page's sentences that say what the examples are, for each dataset: MNIST's digits, Fashion-MNIST's
# pictures of clothes. Whole sentences, so every language words each its own way.
INTRO = {
    "mnist": N_("The test set is the final exam: 10,000 digits that no run has trained on or been tuned with. Sit it once "
                "you have chosen your model with the validation set. Using the test score to pick settings would quietly "
                "tune the model to these very digits, and the score would no longer tell how it reads new handwriting."),
    "fashion_mnist": N_("The test set is the final exam: 10,000 pictures of clothes that no run has trained on or been "
                        "tuned with. Sit it once you have chosen your model with the validation set. Using the test score "
                        "to pick settings would quietly tune the model to these very pictures, and the score would no "
                        "longer tell how it does on new ones."),
}
SIT_THE_EXAM = {"mnist": N_("Sit the final exam on the 10,000 test digits"),
                "fashion_mnist": N_("Sit the final exam on the 10,000 test pictures")}
MARKING = {"mnist": N_("Marking 10,000 digits..."), "fashion_mnist": N_("Marking 10,000 pictures...")}
ROWS_AS_SHARES = {"mnist": N_("Show each row as shares of the true digit"),
                  "fashion_mnist": N_("Show each row as shares of the true class")}
CLICK_A_CELL = {"mnist": N_("Click a cell to see its digits in the gallery below."),
                "fashion_mnist": N_("Click a cell to see its pictures in the gallery below.")}
ACCURACY_PER_CLASS = {"mnist": N_("Accuracy per digit"), "fashion_mnist": N_("Accuracy per class")}
GOT_WRONG = {"mnist": N_("The digits it got wrong"), "fashion_mnist": N_("The pictures it got wrong")}
TRUE_CLASS = {"mnist": N_("True digit"), "fashion_mnist": N_("True class")}
PREDICTED_CLASS = {"mnist": N_("Predicted digit"), "fashion_mnist": N_("Predicted class")}
LOOK_INSIDE = {"mnist": N_("Look inside the model as it reads this digit"),
               "fashion_mnist": N_("Look inside the model as it reads this picture")}
LOOKED_AGAIN = {
    "mnist": N_("You have looked at the test set {count} times with this run. The exam is meant to be sat once: "
                "a setting changed after a look tunes the model to these very digits."),
    "fashion_mnist": N_("You have looked at the test set {count} times with this run. The exam is meant to be sat once: "
                        "a setting changed after a look tunes the model to these very pictures."),
}
WEIGHTS_TITLE = {"mnist": N_("What each digit looks for"), "fashion_mnist": N_("What each class looks for")}
WEIGHTS_TEXT = {
    "mnist": N_("The linear model gives each digit one 28x28 template (a column of W). Orange pixels vote for the digit, "
                "blue ones against it, white ones hardly matter: you can often make out the digit's shape, in orange."),
    "fashion_mnist": N_("The linear model gives each class one 28x28 template (a column of W). Orange pixels vote for the "
                        "class, blue ones against it, white ones hardly matter: you can often make out the outline of a "
                        "shoe, a bag or a pair of trousers, in orange."),
}


def show_weights(model, dataset: str, classes: ClassLabels) -> None:
    weights = linear_weight_images(model)
    if weights is None:
        return
    st.subheader(_(WEIGHTS_TITLE[dataset]))
    st.write(_(WEIGHTS_TEXT[dataset]))
    limit = float(np.abs(weights).max()) or 1.0
    for row in (range(0, 5), range(5, 10)):
        for label, column in zip(row, wrapping_columns(5, key=f"weights_{row[0]}", least_width_rem=11)):
            caption = _("digit {digit}", digit=label) if dataset == "mnist" else classes.name(label)
            column.image(diverging_colours(weights[label], limit, WEIGHT_IMAGE_SCALE), caption=caption)
    st.caption(_("One color scale for all ten: full orange is a weight of +{limit:.3g}, full blue {negative:.3g}.",
                 limit=limit, negative=-limit))


def mistakes_caption(count: int, true_digit, predicted_digit, classes: ClassLabels) -> str:
    """What the gallery holds, in words that match the two filters, the classes named ("a true Shirt
    read as T-shirt/top"; MNIST's names are the digits themselves)."""
    if true_digit == "any":
        filters = "all" if predicted_digit == "any" else "predicted"
    else:
        filters = "true" if predicted_digit == "any" else "both"
    amount = "one" if count == 1 else "none" if count == 0 else "many" if count > GALLERY_SIZE else "few"
    return _(MISTAKES_CAPTIONS[filters, amount], count=count, shown=GALLERY_SIZE,
             true=None if true_digit == "any" else classes.name(true_digit),
             predicted=None if predicted_digit == "any" else classes.name(predicted_digit))


def open_clicked_cell() -> None:
    """A click on a confusion-matrix cell sets the gallery's filters to that cell; on the diagonal
    (the right answers) to all the mistakes on that true digit. A callback, so it runs once per
    click, and the filters stay free to change afterwards."""
    cell = clicked_cell(st.session_state.get("confusion"))
    if cell is not None:
        true_digit, predicted_digit = cell
        st.session_state["exam_true_digit"] = true_digit
        st.session_state["exam_predicted_digit"] = "any" if predicted_digit == true_digit else predicted_digit


def choice_label(choice, classes: ClassLabels) -> str:
    """A gallery filter's choice as shown: "any" in the reader's language, a class by its name (a digit
    as itself)."""
    return _("any") if choice == "any" else classes.name(choice)


def show_mistakes(run, result, images, labels, classes: ClassLabels) -> None:
    dataset = run.config.dataset
    st.subheader(_(GOT_WRONG[dataset]))
    choices = ["any"] + list(range(10))
    true_column, predicted_column = st.columns(2)
    label_of = in_page_language(lambda choice: choice_label(choice, classes))
    true_digit = true_column.selectbox(_(TRUE_CLASS[dataset]), choices, format_func=label_of, key="exam_true_digit")
    predicted_digit = predicted_column.selectbox(_(PREDICTED_CLASS[dataset]), choices, format_func=label_of,
                                                 key="exam_predicted_digit")
    indices = result.mistakes(labels, None if true_digit == "any" else true_digit,
                              None if predicted_digit == "any" else predicted_digit)
    st.caption(mistakes_caption(len(indices), true_digit, predicted_digit, classes))
    gallery = indices[:GALLERY_SIZE]
    for row_start in range(0, len(gallery), GALLERY_ROW):  # a row at a time: a narrow window wraps it, in order
        row = gallery[row_start:row_start + GALLERY_ROW]
        for index, column in zip(row, wrapping_columns(GALLERY_ROW, key=f"gallery_{row_start}", least_width_rem=5)):
            column.image(images[index], width=64,
                         caption=_("true {true}, said {predicted} ({confidence:.0%})", true=classes.name(labels[index]),
                                   predicted=classes.name(result.predictions[index]),
                                   confidence=float(result.confidences[index])))
            # No icon: a column is 5rem wide at 1280 px, and with one the Chinese label is cut to "看…".
            if column.button(_("Inside"), key=f"exam_inside_{index}", help=_(LOOK_INSIDE[dataset])):
                look_inside(run, ("test", int(index)))


def exam_page() -> None:
    st.title(_("Final exam"))
    intro = st.container()  # above the run picker, in the words of the picked run's dataset
    run = pick_run(_("Model to examine"), key="exam_run")  # the runs of every dataset, each named with its own
    dataset = run.config.dataset if run is not None else settings()["dataset"]
    intro.write(_(INTRO[dataset]))
    intro.warning(_("**Never train on the test data.** Train on the training set, choose settings with the validation set, "
                    "and keep the test set for this final exam alone."), icon=":material/warning:")
    if run is None:
        st.info(_("No trained run yet: train one on the Train page first."))
        return
    _training, (test_images, test_labels) = dataset_or_stop(dataset)  # the test set of the run's own dataset
    classes = class_labels(dataset)
    exams, exam_key = exam_results(), (workspace(), *run_stamp(run))
    if st.button(_(SIT_THE_EXAM[dataset]), type="primary", icon=":material/school:"):
        with st.spinner(_(MARKING[dataset])):
            exams.put(exam_key, in_turn(lambda: sit_exam(model_of(run), test_images, test_labels)))
    result = exams.get(exam_key)
    if result is None:
        st.caption(_("The exam has not been sat with this model yet."))
        show_weights(model_of(run), dataset, classes)
        return

    accuracy_column, loss_column, errors_column = wrapping_columns(3, key="exam_metrics", least_width_rem=11)
    accuracy_column.metric(_("Test accuracy"), number(result.accuracy, ".2%"))
    loss_column.metric(_("Test loss"), f"{result.loss:.4f}")
    errors_column.metric(_("Mistakes"), _("{count:,} of {total:,}", count=int((result.predictions != test_labels).sum()),
                                           total=len(test_labels)))
    st.caption(say(validation_verdict(float(run.best_result.val_acc), result.accuracy)))
    times_sat = exams.times_sat(workspace(), run.run_id)
    if times_sat > 1:  # the note's point: the test set is looked at once; counted, not forbidden
        st.caption(_(LOOKED_AGAIN[dataset], count=times_sat))

    st.subheader(_("Confusion matrix"))
    normalised = st.toggle(_(ROWS_AS_SHARES[dataset]), key="exam_normalised")
    st.caption(_(CLICK_A_CELL[dataset]))
    show_chart(confusion_heatmap(result.row_normalised if normalised else result.confusion, normalised, classes=classes),
               key="confusion", on_select=open_clicked_cell, selection_mode="points")
    show_chart(digit_bars(result.per_class_accuracy, _(ACCURACY_PER_CLASS[dataset]), _("accuracy"), classes=classes,
                          zoomed=True), key="per_class")
    show_mistakes(run, result, test_images, test_labels, classes)
    show_weights(model_of(run), dataset, classes)


require_navigation()
exam_page()
