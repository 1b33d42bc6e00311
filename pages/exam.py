"""Exam: the final test of a trained model on the 10,000 test digits it has never seen."""

import numpy as np
import streamlit as st

from mnist_core.exam import linear_weight_images, sit_exam, validation_verdict
from mnist_core.pictures import diverging_colours
from ui.charts import clicked_cell, confusion_heatmap, digit_bars, show_chart
from ui.dataset import dataset_or_stop
from ui.exam_results import exam_results
from ui.heavy_work import in_turn
from ui.i18n import N_, _, in_page_language, number, say
from ui.inside_link import look_inside
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.run_picker import model_of, pick_run, run_stamp
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


def show_weights(model) -> None:
    weights = linear_weight_images(model)
    if weights is None:
        return
    st.subheader(_("What each digit looks for"))
    st.write(_("The linear model gives each digit one 28x28 template (a column of W). Orange pixels vote for the digit, "
               "blue ones against it, white ones hardly matter: you can often make out the digit's shape, in orange."))
    limit = float(np.abs(weights).max()) or 1.0
    for row in (range(0, 5), range(5, 10)):
        for digit, column in zip(row, wrapping_columns(5, key=f"weights_{row[0]}", least_width_rem=11)):
            column.image(diverging_colours(weights[digit], limit, WEIGHT_IMAGE_SCALE), caption=_("digit {digit}", digit=digit))
    st.caption(_("One color scale for all ten: full orange is a weight of +{limit:.3g}, full blue {negative:.3g}.",
                 limit=limit, negative=-limit))


def mistakes_caption(count: int, true_digit, predicted_digit) -> str:
    """What the gallery holds, in words that match the two filters."""
    if true_digit == "any":
        filters = "all" if predicted_digit == "any" else "predicted"
    else:
        filters = "true" if predicted_digit == "any" else "both"
    amount = "one" if count == 1 else "none" if count == 0 else "many" if count > GALLERY_SIZE else "few"
    return _(MISTAKES_CAPTIONS[filters, amount], count=count, true=true_digit, predicted=predicted_digit, shown=GALLERY_SIZE)


def open_clicked_cell() -> None:
    """A click on a confusion-matrix cell sets the gallery's filters to that cell; on the diagonal
    (the right answers) to all the mistakes on that true digit. A callback, so it runs once per
    click, and the filters stay free to change afterwards."""
    cell = clicked_cell(st.session_state.get("confusion"))
    if cell is not None:
        true_digit, predicted_digit = cell
        st.session_state["exam_true_digit"] = true_digit
        st.session_state["exam_predicted_digit"] = "any" if predicted_digit == true_digit else predicted_digit


def choice_label(choice) -> str:
    """A gallery filter's choice as shown: "any" in the reader's language, a digit as itself."""
    return _("any") if choice == "any" else str(choice)


def show_mistakes(run, result, images, labels) -> None:
    st.subheader(_("The digits it got wrong"))
    choices = ["any"] + list(range(10))
    true_column, predicted_column = st.columns(2)
    true_digit = true_column.selectbox(_("True digit"), choices, format_func=in_page_language(choice_label),
                                       key="exam_true_digit")
    predicted_digit = predicted_column.selectbox(_("Predicted digit"), choices, format_func=in_page_language(choice_label),
                                                 key="exam_predicted_digit")
    indices = result.mistakes(labels, None if true_digit == "any" else true_digit,
                              None if predicted_digit == "any" else predicted_digit)
    st.caption(mistakes_caption(len(indices), true_digit, predicted_digit))
    gallery = indices[:GALLERY_SIZE]
    for row_start in range(0, len(gallery), GALLERY_ROW):  # a row at a time: a narrow window wraps it, in order
        row = gallery[row_start:row_start + GALLERY_ROW]
        for index, column in zip(row, wrapping_columns(GALLERY_ROW, key=f"gallery_{row_start}", least_width_rem=5)):
            column.image(images[index], width=64,
                         caption=_("true {true}, said {predicted} ({confidence:.0%})", true=int(labels[index]),
                                   predicted=int(result.predictions[index]), confidence=float(result.confidences[index])))
            # No icon: a column is 5rem wide at 1280 px, and with one the Chinese label is cut to "看…".
            if column.button(_("Inside"), key=f"exam_inside_{index}",
                             help=_("Look inside the model as it reads this digit")):
                look_inside(run, ("test", int(index)))


def exam_page() -> None:
    st.title(_("Final exam"))
    st.write(_("The test set is the final exam: 10,000 digits that no run has trained on or been tuned with. Sit it once "
               "you have chosen your model with the validation set. Using the test score to pick settings would quietly "
               "tune the model to these very digits, and the score would no longer tell how it reads new handwriting."))
    st.warning(_("**Never train on the test data.** Train on the training set, choose settings with the validation set, "
                 "and keep the test set for this final exam alone."), icon=":material/warning:")
    dataset = dataset_or_stop()
    _training, (test_images, test_labels) = dataset
    run = pick_run(_("Model to examine"), key="exam_run")
    if run is None:
        st.info(_("No trained run yet: train one on the Train page first."))
        return
    exams, exam_key = exam_results(), (workspace(), *run_stamp(run))
    if st.button(_("Sit the final exam on the 10,000 test digits"), type="primary", icon=":material/school:"):
        with st.spinner(_("Marking 10,000 digits...")):
            exams.put(exam_key, in_turn(lambda: sit_exam(model_of(run), test_images, test_labels)))
    result = exams.get(exam_key)
    if result is None:
        st.caption(_("The exam has not been sat with this model yet."))
        show_weights(model_of(run))
        return

    accuracy_column, loss_column, errors_column = wrapping_columns(3, key="exam_metrics", least_width_rem=11)
    accuracy_column.metric(_("Test accuracy"), number(result.accuracy, ".2%"))
    loss_column.metric(_("Test loss"), f"{result.loss:.4f}")
    errors_column.metric(_("Mistakes"), _("{count:,} of {total:,}", count=int((result.predictions != test_labels).sum()),
                                           total=len(test_labels)))
    st.caption(say(validation_verdict(float(run.best_result.val_acc), result.accuracy)))
    times_sat = exams.times_sat(workspace(), run.run_id)
    if times_sat > 1:  # the note's point: the test set is looked at once; counted, not forbidden
        st.caption(_("You have looked at the test set {count} times with this run. The exam is meant to be sat once: "
                     "a setting changed after a look tunes the model to these very digits.", count=times_sat))

    st.subheader(_("Confusion matrix"))
    normalised = st.toggle(_("Show each row as shares of the true digit"), key="exam_normalised")
    st.caption(_("Click a cell to see its digits in the gallery below."))
    show_chart(confusion_heatmap(result.row_normalised if normalised else result.confusion, normalised), key="confusion",
               on_select=open_clicked_cell, selection_mode="points")
    show_chart(digit_bars(result.per_class_accuracy, _("Accuracy per digit"), _("accuracy"), zoomed=True), key="per_class")
    show_mistakes(run, result, test_images, test_labels)
    show_weights(model_of(run))


require_navigation()
exam_page()
