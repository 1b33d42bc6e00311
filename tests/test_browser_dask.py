"""The browser tests of training, stopping, pausing and stepping (tests/test_browser.py), again against an app
whose runs train on a Dask cluster of 2 worker processes (README, "Past one machine")."""

import pytest

from tests.app_server import running_app
from tests.test_browser import (  # noqa: F401  (collected here again, with this module's app)
    test_a_live_run_pauses_steps_one_batch_and_resumes,
    test_a_run_trains_and_its_chart_gains_a_point_per_epoch,
    test_a_student_switches_to_chinese_trains_and_reads_the_result_in_chinese,
    test_stop_during_a_longer_run_keeps_the_finished_epochs,
    test_the_iteration_curve_streams_in_during_the_first_epoch,
    test_two_students_training_at_once_each_get_their_own_chart_and_runs,
)

pytestmark = [pytest.mark.browser, pytest.mark.dask]


@pytest.fixture(scope="module")
def app_runs_root(tmp_path_factory):
    """The runs folder the app and the cluster's workers share."""
    return tmp_path_factory.mktemp("dask-browser-runs")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, app_runs_root, dask_cluster):
    """`streamlit run`, as the README's third command starts it: pointed at the cluster's scheduler."""
    with running_app(app_runs_root, tmp_path_factory.mktemp("streamlit-dask") / "server.log",
                     MNIST_LAB_DASK_SCHEDULER=dask_cluster.scheduler_address) as (_, url):
        yield url
