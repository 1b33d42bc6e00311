"""Compare: overlay runs from the history, race optimizers, provoke overfitting on purpose.

Runs of different datasets are never compared: an accuracy on MNIST says nothing against one on
Fashion-MNIST. A workspace with runs of both overlays one dataset's at a time, chosen above the list;
the race and the overfitting run train on the sidebar's dataset."""

from collections import Counter

import pandas as pd
import streamlit as st

from mnist_core import RunStatus, TrainConfig
from mnist_core.config import (
    OPTIMIZER_NAMES,
    OVERFITTING_CURES_MEASURED,
    OVERFITTING_LOOK_FOR,
    OVERFITTING_PRESET,
    OVERFITTING_RUN_NAME,
    USUAL_LEARNING_RATES,
    race_run_name,
)
from mnist_core.exports import runs_metrics_csv_file
from mnist_core.results import race_standings
from ui.charts import overlay, show_chart
from ui.dataset import dataset_or_stop, dataset_title, datasets_of_runs
from ui.failures import guarded_fragment
from ui.i18n import N_, _, in_page_language, language_keyed, listed, number, run_name, say
from ui.jobs import POLL_SECONDS, current_activity, is_training, start_job, start_race, status_text, waiting_place
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.plain import plain
from ui.settings import (
    announce_changes,
    apply_settings,
    current_config,
    model_name,
    setting_text,
    setting_texts,
    settings,
    settings_sidebar,
)
from ui.workspace import workspace_runs

METRICS = {"val_acc": N_("validation accuracy"), "val_loss": N_("validation loss"), "train_acc": N_("training accuracy"),
           "train_loss": N_("training loss"), "generalisation_gap": N_("generalization gap (val loss - train loss)")}


def optimizer_label(name: str) -> str:
    return setting_text("optimizer", name)


def run_label(run) -> str:
    config = run.config
    return _("{name} · {model}, {optimizer}, lr {rate:g}", name=run_name(run.name), model=model_name(config.model),
             optimizer=optimizer_label(config.optimizer), rate=config.learning_rate)


def run_labels(runs) -> dict[str, str]:
    """run id -> label. Two runs of the same name and settings get their run ids added, so neither
    hides the other in the list or the chart."""
    labels = {run.run_id: run_label(run) for run in runs}
    uses = Counter(labels.values())
    return {run_id: f"{label} ({run_id})" if uses[label] > 1 else label for run_id, label in labels.items()}


def curve(history, metric: str) -> tuple[list[int], list[float]]:
    return [result.epoch for result in history], [getattr(result, metric) for result in history]


def settings_table(runs, labels: dict[str, str]) -> "pd.io.formats.style.Styler":
    """One column per run, one row per setting, in words; a setting that does nothing for a run (momentum
    for Adam, say) is left blank. The settings that differ between runs are highlighted."""
    table = pd.DataFrame({labels[run.run_id]: setting_texts(run.config) for run in runs}).fillna("")
    differs = table.nunique(axis=1) > 1
    table = pd.concat([table[differs], table[~differs]])  # what differs first: that is what the curves compare
    return table.style.apply(lambda row: ["background-color: #fff3b0" if differs[row.name] else "" for cell in row], axis=1)


CHOSEN_RUNS = "compare_chosen_runs"  # the run ids chosen in the list, whatever its language


def compared_dataset(runs) -> str:
    """The dataset whose runs are compared (`runs`: newest first). With runs of one dataset, that one;
    with runs of several, the one chosen above the list, at first the sidebar's (or, if the sidebar's has
    no run here, the newest run's), and a caption says how many runs of the others are hidden."""
    present, default = datasets_of_runs(runs, settings()["dataset"])
    if len(present) == 1:
        return present[0]
    chosen = st.radio(_("Dataset"), sorted(present, key=lambda name: name != default), horizontal=True, key="compare_dataset",
                      format_func=in_page_language(dataset_title),
                      help=_("Runs of different datasets are never compared: an accuracy on one says nothing against "
                             "an accuracy on another."))
    chosen = chosen if chosen in present else default
    hidden = Counter(run.config.dataset for run in runs if run.config.dataset != chosen)
    # Each part made before the sentence: Babel does not find a `_` inside another's arguments.
    parts = [_("{count:,} run(s) on {dataset}", count=count, dataset=dataset_title(name)) for name, count in sorted(hidden.items())]
    st.caption(_("Hidden, as they trained on another dataset: {hidden}.", hidden=listed(parts)))
    return chosen


def compare_history() -> None:
    runs, damaged = workspace_runs()
    for message in damaged:
        st.warning(_("A damaged run folder was skipped: {message}", message=plain(say(message))))
    runs = [run for run in runs if run.history]
    if not runs:
        st.info(_("No finished epochs to compare yet: train a run or two on the Train page, or start a race below."))
        return
    dataset = compared_dataset(runs)
    runs = [run for run in runs if run.config.dataset == dataset]  # never two datasets in one chart or table
    labels = run_labels(runs)
    by_id = {run.run_id: run for run in runs}
    # A widget per dataset and language: this Streamlit keeps a multiselect's choice by its labels, so labels
    # in another language (or another dataset's runs) once failed the page. The runs chosen are kept by id
    # across a switch of language; another dataset starts from its newest two.
    remembered = [run_id for run_id in st.session_state.get(CHOSEN_RUNS, []) if run_id in labels]
    chosen = st.multiselect(_("Runs"), list(labels), default=remembered or list(labels)[:2], format_func=labels.get,
                            key=language_keyed(f"compare_runs_{dataset}"))
    st.session_state[CHOSEN_RUNS] = chosen
    metric = st.selectbox(_("Metric"), list(METRICS), format_func=in_page_language(lambda key: _(METRICS[key])), key="compare_metric")
    if not chosen:
        st.caption(_("Choose at least one run."))
        return
    selected = [by_id[run_id] for run_id in chosen]
    show_chart(overlay({labels[run.run_id]: curve(run.history, metric) for run in selected}, _(METRICS[metric]),
                       as_percent=metric.endswith("_acc"),
                       title=_("{metric} on {dataset}", metric=_(METRICS[metric]), dataset=dataset_title(dataset))),
               key="compare_chart")
    st.caption(_("Highlighted: the settings that differ between the chosen runs."))
    st.dataframe(settings_table(selected, labels))
    st.download_button(_("Download the chosen runs' settings and metrics (CSV)"), runs_metrics_csv_file(selected),
                       file_name="mnist-lab-runs.csv", mime="text/csv", icon=":material/download:")


def show_race(jobs, rendered_while_running: bool) -> None:
    snapshots = [(job, job.snapshot()) for job in jobs]
    states = []
    for job, snapshot in snapshots:
        name = optimizer_label(job.config.optimizer)
        if snapshot.status == RunStatus.WAITING:
            states.append(_("{optimizer}: {state}", optimizer=name, state=waiting_place(snapshot)))
        elif snapshot.status == RunStatus.RUNNING:
            states.append(_("{optimizer}: epoch {epoch} of {epochs}", optimizer=name, epoch=snapshot.epoch, epochs=job.config.epochs))
        elif snapshot.status in (RunStatus.DIVERGED, RunStatus.FAILED):
            states.append(_("{optimizer}: {state} ({message})", optimizer=name, state=status_text(snapshot.status),
                            message=say(snapshot.message)))
        else:
            states.append(_("{optimizer}: {state}", optimizer=name, state=status_text(snapshot.status)))
    st.caption(plain(" · ".join(states)))
    finished = [(job, snapshot) for job, snapshot in snapshots if snapshot.history]
    labels = {job: _("{optimizer} (lr {rate:g})", optimizer=optimizer_label(job.config.optimizer), rate=job.config.learning_rate)
              for job, _snapshot in finished}
    if finished:
        if all(snapshot.finished for _job, snapshot in snapshots):
            standings = [finished[place] for place in race_standings([snapshot.history for _job, snapshot in finished])]
            (winner, winning), others = standings[0], standings[1:]
            others_text = listed(f"{labels[job]} {number(snapshot.history[-1].val_acc, '.2%')}" for job, snapshot in others)
            st.success(_("Winner: {optimizer}, at {accuracy:.2%} validation accuracy after {epochs} epochs. Then: {others}.",
                         optimizer=labels[winner], accuracy=winning.history[-1].val_acc, epochs=len(winning.history),
                         others=others_text or "-"))
        loss_column, accuracy_column = wrapping_columns(2, key="race_charts", least_width_rem=22)
        show_chart(overlay({labels[job]: curve(snapshot.history, "val_loss") for job, snapshot in finished},
                           _("validation loss"), title=_("Validation loss: lower is better"), height=360),
                   key="race_loss_chart", where=loss_column)
        show_chart(overlay({labels[job]: curve(snapshot.history, "val_acc") for job, snapshot in finished},
                           _("validation accuracy"), as_percent=True, title=_("Validation accuracy: higher is better"),
                           height=360),
                   key="race_accuracy_chart", where=accuracy_column)
    if rendered_while_running and all(snapshot.finished for _job, snapshot in snapshots):
        st.rerun()


def optimizer_race() -> None:
    """The race's results, then its controls in one row: at 1280x720 the charts start on the first screen."""
    config = current_config()  # the sidebar's settings, its dataset among them: every racer trains on it
    st.caption(_("Train the same model on the same data ({dataset}, {model}, {epochs} epochs, batch {batch}: the "
                 "sidebar's settings) once per optimizer, and overlay their validation loss and accuracy.",
                 dataset=dataset_title(config.dataset), model=model_name(config.model), epochs=config.epochs,
                 batch=config.batch_size))
    activity = current_activity()  # the workspace's race, still here after a refresh
    busy = is_training()
    race = activity if activity is not None and activity.kind == "race" else None
    if race is not None:  # the race's curves first: at 1280x720 they start on the first screen
        guarded_fragment(show_race, run_every=POLL_SECONDS if busy else None)(race.jobs, busy)
    choice_column, rates_column, button_column = wrapping_columns([5, 3, 2], key="race_controls", least_width_rem=12,
                                                                  vertical_alignment="bottom")
    optimizers = choice_column.multiselect(_("Optimizers"), list(OPTIMIZER_NAMES), default=["sgd", "momentum", "adam"],
                                           format_func=in_page_language(optimizer_label), key="race_optimizers")
    usual_rates = rates_column.toggle(
        _("Give each optimizer its usual learning rate"), value=True, key="race_usual_rates",
        help=_("Off: every optimizer uses the Train page's learning rate ({rate:g}). On: {usual_rates}", rate=config.learning_rate,
               usual_rates=listed(f"{optimizer_label(name)} {rate:g}" for name, rate in USUAL_LEARNING_RATES.items())))
    if busy and race is not None:
        if button_column.button(_("Stop the race"), icon=":material/stop:"):
            race.stop()
    elif button_column.button(_("Start the race"), disabled=busy or not optimizers, icon=":material/sports_score:"):
        if start_race({race_run_name(name): TrainConfig.from_dict({
                **config.to_dict(), "optimizer": name, "learning_rate": USUAL_LEARNING_RATES[name] if usual_rates else config.learning_rate})
                for name in optimizers}) is not None:  # None, with a message, if refused
            st.rerun()  # draw the page again as it is now: Start greyed out, Stop the race live
    if usual_rates and {"sgd", "momentum"} <= set(optimizers):
        st.caption(_("SGD and SGD with momentum race at the same learning rate, {rate:g}: the difference between their "
                     "curves is what momentum adds. Each of its steps keeps {momentum:.0%} of the steps before, so it "
                     "gathers speed along a steady way down.", rate=USUAL_LEARNING_RATES["sgd"], momentum=config.momentum))
    if busy and race is None:
        st.caption(_("A run from the Train page is training in this workspace: the race can start when it has finished."))


def overfitting_preset() -> None:
    st.write(_("One click sets up a run that overfits: a big MLP (two layers of 256 units) trained on only 500 "
               "{dataset} examples (the sidebar's dataset), with no dropout and no weight penalty, for 40 epochs.",
               dataset=dataset_title(settings()["dataset"])))
    st.markdown(_("**What to look for:** {look_for}", look_for=_(OVERFITTING_LOOK_FOR)))
    st.caption(_(OVERFITTING_CURES_MEASURED[settings()["dataset"]]))
    if st.button(_("Set up and train the overfitting run"), icon=":material/trending_up:"):
        preset = TrainConfig.from_dict({**current_config().to_dict(), **OVERFITTING_PRESET})  # the sidebar's dataset
        if start_job(preset, name=OVERFITTING_RUN_NAME) is not None:  # refused, with a message, while something trains
            before = dict(settings())
            apply_settings(OVERFITTING_PRESET)  # so the Train page's sidebar shows what is training
            announce_changes(before, settings(), _("The overfitting run's settings"))
            st.switch_page("pages/train.py")


def compare_page() -> None:
    st.title(_("Compare runs"))
    dataset_or_stop(settings()["dataset"])  # the sidebar's: the race and the overfitting run train on it
    settings_sidebar()
    # Three tools, each a tab, so each starts at the top of the screen: at 1280x720 the race sat two
    # screens down. A workspace whose race trains (or came last) opens on the race.
    tab_labels = [_("Overlay runs"), _("Optimizer race"), _("Overfit on purpose")]
    activity = current_activity()
    overlay_tab, race_tab, overfitting_tab = st.tabs(
        tab_labels, key="compare_tab", default=tab_labels[1] if activity is not None and activity.kind == "race" else None)
    with overlay_tab:
        compare_history()
    with race_tab:
        optimizer_race()
    with overfitting_tab:
        overfitting_preset()


require_navigation()
compare_page()
