"""Training: the loop the study note teaches, and the classroom's controls around it.

The loop, in plain TensorFlow (the custom-training guide's; tests/test_training.py runs it eagerly,
batch by batch, and checks that a run of this module ends with the very same weights):

    for epoch in range(1, epochs + 1):
        order = shuffled_order(seed, epoch, len(train_labels))  # a new shuffle every epoch
        for step in range(steps_per_epoch):
            batch = order[step * batch_size:(step + 1) * batch_size]
            with tf.GradientTape() as tape:
                logits = model(train_images[batch] / 255, training=True)
                loss = cross_entropy(train_labels[batch], logits)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        measure(training_sample), measure(validation_set)  # then measure, dropout off

Where each part lives:

- `Training._train` is this loop, with the classroom's controls as named steps between its lines;
- the tape, the gradient and the update: `train_step` in trainers.py, as above (plus the L2
  penalty, for a model that has one);
- the batches: `Training._train_steps` hands several of them at once to trainers.py's compiled
  `train_chunk`, which gathers and scales each batch and runs `train_step` on it;
- the measuring: `Training._measure_epoch`; the epoch kept, compared with the best and saved:
  `Training._end_of_epoch`;
- the classroom's controls: before each chunk, pause and step (`_steps_allowed`, which asks
  pausing.py) and Stop and the time limits (`_classroom_check`); after each chunk and each measure,
  divergence (a loss that is infinite or NaN); after each epoch, early stopping (`_stop_early`).

What makes it fast without hiding it:

- the data lives in memory as uint8 tensors and each batch is gathered inside the compiled code, so
  no Python runs per batch;
- one compiled call, `train_chunk`, runs a *chunk* of `train_step`s in a `tf.while_loop`. A chunk is
  sized to take about a quarter of a second, so progress reports and the Stop button still answer
  promptly;
- the compiled step is traced once per model shape and reused by later runs (trainers.py), which
  also keeps a long-running server's memory flat.

After every epoch the model is measured on (a fixed sample of) the training set and on the
validation set with dropout off: that is the classic loop's training accuracy, not a running average
of a model that kept changing during the epoch. The test set is never touched here.

A run can be paused, stepped one batch or one epoch at a time, and resumed (`PauseControl`): between
two chunks the loop asks how far it may go, which costs one lock per chunk, never per batch. Time
spent paused is not training time: the run's time limit and its epochs' seconds leave it out.

The settings are in config.py, the words for a run's state and its epochs in results.py.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Callable, Iterator

import numpy as np

from . import exports
from .config import TrainConfig, lower_rate_advice, split_for_config, steps_per_epoch
from .data import DatasetSplit, load_dataset
from .fair_share import SHORTER_RUN_ADVICE
from .i18n import Message
from .kernels import choose_kernel_library
from .models import build_model, count_parameters, get_weights, set_weights
from .pausing import PauseControl
from .precision import machine_precision
from .quiet_tensorflow import tf
from .results import EpochResult, IterationLog, RunStatus, epochs_text, kept_epochs_text
from .runs import SHARED_WORKSPACE, RunSaveError, start_run
from .trainers import CompiledTrainer, borrowed_trainer

logger = logging.getLogger(__name__)

CHUNK_TARGET_SECONDS = 0.25   # how long one compiled call may run before Python checks Stop and reports progress


def shuffled_order(seed: int, epoch: int, training_examples: int) -> np.ndarray:
    """The order in which epoch `epoch` visits the training examples: a new shuffle every epoch,
    fixed by the seed, so a rerun (or a reference loop in a test) sees the very same batches."""
    return np.random.default_rng([seed, epoch]).permutation(training_examples)


def metrics_sample(seed: int, training_examples: int, size: int) -> np.ndarray:
    """The fixed training examples every epoch's training metrics are measured on (sorted indices).
    Seeded apart from the epochs' shuffles (which use epochs 1, 2, ...)."""
    rng = np.random.default_rng([seed, 0])
    return np.sort(rng.choice(training_examples, size=min(size, training_examples), replace=False))


# A paused run stepped through at most this many batches draws each as a point of its own; a step of
# the rest of an epoch (hundreds of batches) is averaged as usual.
STEPS_SHOWN_ONE_BY_ONE = 20


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """What the loop reads on every step: the training part as tensors, a fixed sample of it for the
    training metrics (so every epoch is measured on the same digits), and the validation part."""

    train_images: tf.Tensor
    train_labels: tf.Tensor
    sample_images: np.ndarray
    sample_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray

    @classmethod
    def of(cls, split: DatasetSplit, config: TrainConfig) -> "TrainingData":
        sample = metrics_sample(config.seed, len(split.train_labels), config.train_metrics_sample)
        return cls(tf.constant(split.train_images), tf.constant(split.train_labels, dtype=tf.int32),
                   split.train_images[sample], split.train_labels[sample], split.validation_images, split.validation_labels)


@dataclasses.dataclass
class _Loop:
    """What the loop carries from one chunk and one epoch to the next. It is the loop's own, so it
    goes when the run ends: a Training may be kept long after, not its best weights."""

    trainer: CompiledTrainer     # the borrowed working model, its optimizer and its compiled chunk
    batch_size: tf.Tensor        # the compiled chunk's argument, made once
    most_steps: int              # the most steps one compiled call may take (CompiledTrainer.most_steps)
    started: float               # when training began, moved on by each rest: the time limit counts training alone
    epoch_start: float = 0.0     # when this epoch began, moved on by each rest likewise
    iterations: int = 0          # steps trained, all epochs
    chunk_steps: int = 1         # steps for the next compiled call (_next_chunk_size)
    best_val_loss: float = math.inf
    best_weights: dict[str, np.ndarray] | None = None
    epochs_without_improvement: int = 0


class Training:
    """One training run. Iterate over it for one EpochResult per finished epoch.

    While and after it runs, `status`, `message`, `history`, `best_epoch` and `model` say where it
    stands; `history` is the run's one list of finished epochs, which the recorder saves and the
    pages draw. While it is paused, `paused_weights` are the weights it has reached, a step after
    the last epoch's end perhaps. Use `train()` or `train_and_record()` to make one.
    """

    def __init__(self, config: TrainConfig, dataset=None, split: DatasetSplit | None = None,
                 stop_requested: Callable[[], bool] | None = None,
                 on_progress: Callable[[int, int, int], None] | None = None, recorder=None,
                 time_limit_seconds: float | None = None, pause_control: PauseControl | None = None,
                 precision: str | None = None):
        config.validate()
        self.config = config
        if split is None:
            dataset = dataset if dataset is not None else load_dataset(config.dataset)
            split = split_for_config(dataset, config)
        else:
            dataset = None  # the split was made elsewhere: it is kept, since it could not be made again
        training_examples = len(split.train_labels)
        if config.batch_size > training_examples:
            raise ValueError(Message(
                "The batch size ({batch_size}) is larger than the training set ({examples} examples). "
                "Choose a batch size of at most {examples}.", batch_size=config.batch_size, examples=training_examples))
        self.split = split
        # A rest lets go of the data and the next step makes it again from the dataset it was split from
        # (the server's shared one, never copied): only where that dataset was given.
        self._dataset = dataset
        self._data: TrainingData | None = None
        self.stop_requested = stop_requested or (lambda: False)
        self.on_progress = on_progress or (lambda epoch, step, steps_per_epoch: None)
        self.recorder = recorder
        self.time_limit_seconds = time_limit_seconds
        self.pause_control = pause_control or PauseControl()
        self.paused_weights: dict[str, np.ndarray] | None = None  # the working model's weights while paused, else None
        self.training_examples = training_examples
        self.steps_per_epoch = steps_per_epoch(training_examples, config.batch_size)
        # float32, or mixed bfloat16 where this CPU multiplies it natively (precision.py)
        self.precision = precision or machine_precision(config.model)
        self.kernels = choose_kernel_library()  # this process's, where it trains (kernels.py)
        self.model = build_model(config, self.precision)
        self.parameter_count = count_parameters(self.model)
        self.history: list[EpochResult] = []
        self.iterations = IterationLog(self.steps_per_epoch)  # the batches' loss and accuracy, live
        self.status = RunStatus.RUNNING
        self.message = ""
        self.best_epoch: int | None = None
        self.saved_epochs = 0  # how many of `history` are on disk, if recorded
        self.model_epoch: int | None = None  # the saved epoch whose weights `model` holds (None before the first)
        self._epochs = self._run()

    @property
    def run_id(self) -> str | None:
        """The saved run's id, if it is being recorded."""
        return self.recorder.run_id if self.recorder is not None else None

    def __iter__(self) -> Iterator[EpochResult]:
        return self

    def __next__(self) -> EpochResult:
        return next(self._epochs)

    def close(self) -> None:
        """End the run now (as 'stopped' if it was still running), keeping every finished epoch."""
        self._epochs.close()

    # -- the loop the note teaches ---------------------------------------------------------------

    def _run(self) -> Iterator[EpochResult]:
        # The run trains a borrowed trainer's working model and copies each finished epoch's
        # weights into its own `self.model`, which pages and the recorder read.
        with borrowed_trainer(self.config, self.model, self.steps_per_epoch, self.precision) as trainer:
            yield from self._train(trainer)

    def _train(self, trainer: CompiledTrainer) -> Iterator[EpochResult]:
        """The module docstring's loop: each epoch, each batch (several per compiled call), then measure.
        The classroom's controls are the named steps between; each `return` ends the run with the
        status `_finish` (or, for a disk that refused a save, `_save_or_fail`) gave it."""
        config = self.config
        loop = _Loop(trainer, tf.constant(config.batch_size, tf.int32),
                     trainer.most_steps(config.batch_size, self.steps_per_epoch), started=time.perf_counter())
        try:
            if not self._save_or_fail(lambda: self.recorder.mark_running(get_weights(self.model), self.precision, self.kernels)):
                return
            for epoch in range(1, config.epochs + 1):  # each epoch
                order = self._start_epoch(loop, epoch)  # a new shuffle
                step = 0
                while step < self.steps_per_epoch:  # each batch, a chunk of them per compiled call
                    allowed = self._steps_allowed(loop, epoch, step)  # a paused run rests in here
                    if (why := self._classroom_check(loop, epoch, step)) is not None:
                        self._finish(RunStatus.STOPPED, why)
                        return
                    steps = min(loop.chunk_steps, allowed)  # a GradientTape step each, in one compiled call
                    if not self._train_steps(loop, order, step, steps, one_by_one=allowed <= STEPS_SHOWN_ONE_BY_ONE):
                        self._finish(RunStatus.DIVERGED, self._divergence_message(epoch))
                        return
                    step += steps
                    self.on_progress(epoch, step, self.steps_per_epoch)
                result = self._measure_epoch(loop, epoch)  # then measure
                if result is None:
                    self._finish(RunStatus.DIVERGED, self._divergence_message(epoch))
                    return
                if not self._end_of_epoch(loop, result):
                    return  # the disk refused the epoch: the run has failed, saying so
                yield result
                if (why := self._stop_early(loop, epoch)) is not None:
                    self._finish(RunStatus.EARLY_STOPPED, why)
                    return
            self._finish(RunStatus.COMPLETED, Message("Finished all {epochs} epoch(s).", epochs=config.epochs))
        finally:
            self._wrap_up()

    # -- its steps: each epoch, each chunk of batches, then measure -----------------------------

    def _start_epoch(self, loop: _Loop, epoch: int) -> tf.Tensor:
        """The epoch's clock starts, and its order of the training examples is drawn (returned); an
        augmented run's trainer draws the epoch's variations of them too."""
        loop.epoch_start = time.perf_counter()
        order = tf.constant(shuffled_order(self.config.seed, epoch, self.training_examples), dtype=tf.int32)
        loop.trainer.start_epoch(self.config.seed, epoch, self.training_examples)
        return order

    def _train_steps(self, loop: _Loop, order: tf.Tensor, first_step: int, steps: int, one_by_one: bool) -> bool:
        """Train on batches first_step .. first_step+steps-1 of the epoch's `order` in one compiled call, a
        GradientTape step each (trainers.py); log their losses and accuracies, and size the next call.
        `one_by_one`: few steps were allowed, so a paused run draws each batch as a point of its own.
        False if a loss was infinite or NaN: the weights blew up."""
        data = self._training_data()  # a local, gone when this returns: the run alone holds it, so a rest can let go of it
        chunk_start = time.perf_counter()
        losses, right_answers = loop.trainer.train_chunk(data.train_images, data.train_labels, order, loop.batch_size,
                                                         tf.constant(first_step, tf.int32), tf.constant(steps, tf.int32))
        losses = losses.numpy()
        all_finite = bool(np.isfinite(losses).all())
        self.iterations.add(losses, right_answers.numpy() / self._batch_sizes(first_step, steps),
                            each_its_own_point=self.pause_control.paused and one_by_one)
        loop.iterations += steps
        loop.chunk_steps = self._next_chunk_size(steps, time.perf_counter() - chunk_start,
                                                 first_call=loop.iterations == steps, most=loop.most_steps)
        return all_finite

    def _measure_epoch(self, loop: _Loop, epoch: int) -> EpochResult | None:
        """The epoch's result: the model measured with dropout off on the fixed training sample and on the
        validation set. None if a loss is infinite or NaN."""
        data = self._training_data()
        train_loss, train_acc = loop.trainer.measure(data.sample_images, data.sample_labels)
        val_loss, val_acc = loop.trainer.measure(data.validation_images, data.validation_labels)
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            return None
        return EpochResult(epoch=epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss,
                           val_acc=val_acc, seconds=time.perf_counter() - loop.epoch_start, iterations=loop.iterations)

    def _end_of_epoch(self, loop: _Loop, result: EpochResult) -> bool:
        """A measured epoch becomes the run's: in its history, in its model, compared with the best so far
        (for early stopping), and saved. False if the disk refused it: the run has failed, saying so."""
        self.history.append(result)
        epoch_weights = get_weights(loop.trainer.model)
        set_weights(self.model, epoch_weights)  # the run's model: always its last finished epoch
        self.model_epoch = result.epoch
        if result.val_loss < loop.best_val_loss:
            loop.best_val_loss, self.best_epoch, loop.best_weights = result.val_loss, result.epoch, epoch_weights
            loop.epochs_without_improvement = 0
        else:
            loop.epochs_without_improvement += 1
        if not self._save_or_fail(lambda: self.recorder.record_epoch(self.history, epoch_weights, self.best_epoch,
                                                                     self.iterations.points)):
            return False
        self.saved_epochs = len(self.history)
        return True

    # -- the classroom's controls ----------------------------------------------------------------

    def _steps_allowed(self, loop: _Loop, epoch: int, step: int) -> int:
        """How many steps the loop may run before it asks again: the rest of the epoch, unless the run
        is paused. A paused run rests here, showing the weights it has reached, until a button moves it
        on; 0 when Stop or the pause limit ends the rest instead. A rest is not training time: the
        run's clocks skip it."""
        asked_at = time.perf_counter()
        try:
            steps_left = self.steps_per_epoch - step
            while (allowed := self.pause_control.allowance(epoch, steps_left)) is None:
                self._let_go_of_data()  # first: whoever sees the paused weights sees a run at rest
                self.paused_weights = get_weights(loop.trainer.model)
                if not self.pause_control.rest(self.stop_requested):
                    return 0
            if not self.pause_control.paused:
                self.paused_weights = None
            return allowed
        finally:
            rested = time.perf_counter() - asked_at
            loop.started, loop.epoch_start = loop.started + rested, loop.epoch_start + rested

    def _classroom_check(self, loop: _Loop, epoch: int, step: int) -> Message | None:
        """Why the run must stop before its next chunk, or None: Stop was pressed, it was left paused too
        long, or it has trained as long as a run may. Each ends it as stopped, its finished epochs kept."""
        if self.stop_requested():
            return Message("Stopped {when}; {kept}.", when=self._when(epoch, step), kept=self._kept_text())
        if self.pause_control.rested_too_long:
            return Message(
                "Stopped {when}: it was left paused for {minutes:g} minutes, the longest a run may stay paused "
                "on this server; {kept}.", when=self._when(epoch, step),
                minutes=self.pause_control.limit_seconds / 60, kept=self._kept_text())
        if self.time_limit_seconds is not None and time.perf_counter() - loop.started > self.time_limit_seconds:
            return Message(
                "Stopped {when}: a run may train for at most {minutes:g} minutes on this server, so that "
                "everyone gets a turn; {kept}. {advice}", when=self._when(epoch, step),
                minutes=self.time_limit_seconds / 60, kept=self._kept_text(), advice=SHORTER_RUN_ADVICE)
        return None

    def _stop_early(self, loop: _Loop, epoch: int) -> Message | None:
        """After a saved epoch: why early stopping ends the run here, or None. Validation loss has not
        improved for `early_stopping_patience` epochs (and epochs are left): the best epoch's weights are
        restored into the run's model, if the settings ask for it."""
        config = self.config
        patience = config.early_stopping_patience
        if not (patience and loop.epochs_without_improvement >= patience and epoch < config.epochs):
            return None
        if config.restore_best_weights:
            set_weights(self.model, loop.best_weights)
            self.model_epoch = self.best_epoch
        kept = (Message("the weights of epoch {epoch} restored", epoch=self.best_epoch) if config.restore_best_weights
                else Message("the last weights kept"))
        return Message("Stopped early after epoch {epoch}: validation loss has not improved for {patience} epoch(s); best "
                       "was epoch {best}, {kept}.", epoch=epoch, patience=patience, best=self.best_epoch, kept=kept)

    def _divergence_message(self, epoch: int) -> Message:
        return Message("Diverged in epoch {epoch}: the loss became infinite or NaN, so the weights blew up; {kept}. {advice}",
                       epoch=epoch, kept=self._kept_text(), advice=lower_rate_advice(self.config))

    @staticmethod
    def _when(epoch: int, step: int) -> Message:
        """When a run stopped: during an epoch, or between two (a run paused after an epoch step stops
        after that epoch, not "during" the next one, which it never began)."""
        if step or epoch == 1:
            return Message("during epoch {epoch}", epoch=epoch)
        return Message("after epoch {epoch}", epoch=epoch - 1)

    def _kept_text(self) -> Message:
        finished = len(self.history)
        return kept_epochs_text(finished) if finished else Message("no epoch had finished yet")

    # -- the data, let go of while the run rests -------------------------------------------------

    def _training_data(self) -> TrainingData:
        """The data the loop trains and measures on, made again after a rest let go of it."""
        if self._data is None:
            if self.split is None:
                self.split = split_for_config(self._dataset, self.config)
            self._data = TrainingData.of(self.split, self.config)
        return self._data

    def _let_go_of_data(self) -> None:
        """A paused run need not hold its copy of the data (the split and TensorFlow's copy of its
        training part, twice the training digits' bytes): it is made again,
        the same, when the run goes on. A split given from elsewhere is kept: it could not be made again."""
        if self._dataset is not None:
            self.split, self._data = None, None

    # -- saving, and ending the run ----------------------------------------------------------------

    def _save_or_fail(self, save) -> bool:
        """Run `save` (a recorder call), if the run is recorded. A disk that refuses it (read-only,
        full) ends the run as failed, saying so; the epochs saved before stay on disk."""
        if self.recorder is None:
            return True
        try:
            save()
            return True
        except RunSaveError as error:
            self.status = RunStatus.FAILED
            kept = (Message("The {epochs} saved before are kept.", epochs=epochs_text(self.saved_epochs)) if self.saved_epochs
                    else Message("No epoch had been saved yet."))
            self.message = Message("The run could not be saved, so it stopped. {error} {kept}", error=error.message, kept=kept)
            try:
                self.recorder.finish(self.status, self.message, self.best_epoch)
            except RunSaveError:
                pass  # the lock is released all the same; a reader reports the run as interrupted
            return False

    def _finish(self, status: RunStatus, message: Message) -> None:
        # The model holds a saved epoch's weights (the last finished, or the best restored): its kept
        # checkpoint becomes the final weights. No epoch, no weights: the folder says so. Saved first,
        # then said: a page that reads the ended status finds the run's folder saying it too, so no
        # "Stopped ..." ever sits above a run history still saying "running".
        if self._save_or_fail(lambda: self.recorder.finish(status, message, self.best_epoch,
                                                           iterations=self.iterations.points,
                                                           weights_of_epoch=self.model_epoch)):
            self._write_curves_for_tensorboard()
            self.status, self.message = status, message

    def _wrap_up(self) -> None:
        """However the loop ended, the consumer closing the generator or an error escaping included: a run
        still running is recorded as stopped, with what was finished, and the run lets go of its data."""
        # `self.model` holds the last finished epoch's weights whichever way the run ended.
        if self.status == RunStatus.RUNNING:
            self._finish(RunStatus.STOPPED, Message("Stopped after {epochs}.", epochs=epochs_text(len(self.history))))
        # A finished run keeps its metrics and model, not its copy of the training data (42 MB for
        # all of MNIST): a background job or a page may hold on to the Training long after.
        self.split, self._data, self._dataset = None, None, None

    def _write_curves_for_tensorboard(self) -> None:
        """The saved run's curves as TensorBoard event files, from what the run holds. An extra: whatever
        goes wrong is logged, and the run, saved already, is unaffected (`python -m mnist_core tensorboard`
        can write them again)."""
        if self.recorder is None:
            return
        try:
            exports.write_curves_for_tensorboard(self.recorder.folder, self.history, self.iterations.points,
                                                 self.recorder.info["created"])
        except Exception as error:  # any failure of an extra is the log's, never the run's
            logger.warning("run %s: its TensorBoard event files could not be written (%s)", self.run_id, error,
                           exc_info=True)

    # -- sizes -------------------------------------------------------------------------------------

    def _batch_sizes(self, first_step: int, steps: int) -> np.ndarray:
        """The sizes of an epoch's batches first_step .. first_step+steps-1: all full but the last."""
        batch_size = self.config.batch_size
        return np.minimum(batch_size, self.training_examples - batch_size * np.arange(first_step, first_step + steps))

    @staticmethod
    def _next_chunk_size(steps: int, seconds: float, first_call: bool, most: int) -> int:
        """Steps for the next compiled call: about CHUNK_TARGET_SECONDS' worth, growing at most fourfold a
        call, and at most `most` (the trainer's limit, CompiledTrainer.most_steps)."""
        if first_call:  # the first call may have traced and compiled the function: its time says nothing
            return 1
        seconds_per_step = max(seconds / steps, 1e-6)
        wanted = int(CHUNK_TARGET_SECONDS / seconds_per_step)
        return max(1, min(wanted, 4 * steps, most))


def train(config: TrainConfig, dataset=None, **options) -> Training:
    """Start a run that is not saved: iterate the result for one EpochResult per epoch.

    `dataset` is what load_mnist() returns (loaded if omitted); options are those of `Training`:
    `split`, `stop_requested` (checked between chunks of steps), `on_progress(epoch, step,
    steps_per_epoch)`, `recorder` (saves the run as it goes; see runs/writer.py), `time_limit_seconds`
    (of training, pauses left out), `pause_control` (a PauseControl, to pause and step the run) and
    `precision` (precision.py's path; by default, this machine's for the model)
    """
    return Training(config, dataset=dataset, **options)


def train_and_record(config: TrainConfig, dataset=None, *, runs_root=None, name: str | None = None,
                     workspace: str = SHARED_WORKSPACE, recorder=None, **options) -> Training:
    """Start a run that saves itself in `workspace` at every epoch end: the one call behind the
    background job, the CLI and the tests. `training.run_id` names its folder.

    `recorder` is the run reserved earlier (by a job, before it queued); without one, it is reserved
    here, raising RunSaveError if the runs folder cannot be written. A run refused before it starts
    (a batch bigger than the training set, say) raises ValueError and leaves nothing on disk.
    """
    try:
        training = train(config, dataset, **options)  # refuses settings that do not fit before anything is saved
    except BaseException:
        if recorder is not None:
            recorder.discard()
        raise
    training.recorder = recorder or start_run(config, runs_root, name, workspace)
    return training
