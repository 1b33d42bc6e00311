"""This session's training jobs: starting them in its workspace, finding them again, showing their progress."""

import streamlit as st

from mnist_core import RunStatus, TrainConfig
from mnist_core.jobs import TrainingJob, job_board
from ui.dataset import dataset_or_stop
from ui.workspace import workspace

POLL_SECONDS = 2.0  # how often a page looks at running jobs: often enough to feel live, rare enough to cost little


def current_job() -> TrainingJob | None:
    """The workspace's latest run: still there after a refresh, which starts a new session."""
    return job_board.latest(workspace())


def show_progress(job: TrainingJob, snapshot) -> None:
    """A waiting job's place in the queue, or a running job's progress over all its iterations."""
    if snapshot.status == RunStatus.WAITING:
        st.info(f"Waiting for a free training slot: number {snapshot.queue_position} in the queue. "
                "Other runs on this computer are training; this one starts as soon as one finishes.")
    elif snapshot.status == RunStatus.RUNNING:
        epochs = job.config.epochs
        done = (snapshot.epoch - 1) * snapshot.steps_per_epoch + snapshot.step
        st.progress(min(done / max(epochs * snapshot.steps_per_epoch, 1), 1.0),
                    text=f"Epoch {snapshot.epoch} of {epochs}: iteration {snapshot.step:,} of {snapshot.steps_per_epoch:,}")


def background_job(config: TrainConfig, name: str | None = None) -> TrainingJob:
    """Start training `config` in the background, saving the run in this session's workspace."""
    return TrainingJob(config, dataset_or_stop(), name=name, workspace=workspace()).start()


def start_job(config: TrainConfig, name: str | None = None) -> TrainingJob:
    """Start training `config` in the background as this session's current run."""
    job = background_job(config, name)
    job_board.post(job)
    return job
