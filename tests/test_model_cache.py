"""A session keeps only the models its page needs: one per run as it stands, and at most a page's worth."""

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core import TrainConfig, train_and_record

pytestmark = pytest.mark.pages


def test_a_run_that_trains_on_replaces_its_model_and_a_session_keeps_a_page_s_worth(sample_dataset, runs_root):
    """One model per run as it stands, not per (run, epochs, status): otherwise a run looked at after each
    epoch leaves a model per epoch in the session, and a student drawing while a long run trains holds
    dozens of them."""
    for seed in range(6):
        list(train_and_record(TrainConfig(epochs=6, batch_size=100, train_subset_size=300, seed=seed), sample_dataset,
                              runs_root=runs_root, name=f"run-{seed}"))

    def page():
        import dataclasses

        import streamlit as st

        from mnist_core.runs import list_runs
        from ui.run_picker import MOST_MODELS_KEPT, model_of

        runs, _damaged = list_runs()
        first = runs[0]
        for epochs in range(1, len(first.history) + 1):  # the same run, as the page saw it after each epoch
            model_of(dataclasses.replace(first, history=first.history[:epochs]))
        st.write(f"one run: {len(st.session_state['loaded_models'])}")
        for run in runs:
            model_of(run)
        st.write(f"all runs: {len(st.session_state['loaded_models'])} of {MOST_MODELS_KEPT}")
        st.write(f"newest kept: {runs[-1].folder.name in [name.rsplit('/', 1)[-1] for name in st.session_state['loaded_models']]}")

    app = AppTest.from_function(page, default_timeout=120).run()
    assert not app.exception
    assert [text.value for text in app.markdown] == ["one run: 1", "all runs: 4 of 4", "newest kept: True"]
