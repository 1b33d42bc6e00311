"""Training on a Dask cluster's workers, when a school outgrows one server (executors.py chooses it).

The app keeps admission: a run queues here for one of the cluster's training slots (the workers'
`training_slot` resources, added up), and only an admitted run is submitted, so the queue a student
sees is the real one. The run then trains on a worker, in the worker's own `train_on_worker`, which
writes the run's folder as a local run does: the runs folder is shared by the app and every worker, at
the same path (README, "Past one machine").

Between the two, two small messages go back and forth through the scheduler, as `distributed.Variable`s
named after the run:
- *control* (app to worker): stop, paused, and counters of the resumes, batch steps, epoch steps and
  training turns asked for. Counters, not events, so a message read twice or skipped is harmless. With
  each heartbeat, how many finished points of the iteration curve the app holds;
- *news* (worker to app): the run's status, epochs, the iteration curve past what the app holds,
  progress, and while it is paused its weights and how long it may still rest; a *version* beside it,
  so the app fetches the news only when it changed (a paused model's weights can be megabytes).
Each side looks every LINK_SECONDS, and every QUICK_LINK_SECONDS for a few seconds after a button
(a step is five messages back and forth), so a button's effect shows on the page within a second while
forty idle runs cost the scheduler little.

A paused run rests on its worker and gives its slot back to the app's queue, as a local one does; a
step or Resume queues for a slot in the app, which then grants the worker its turn.

The run's lock (runs/writer.py) stays with the app, which watches the worker: a worker that is killed,
or a scheduler that goes away, ends the job as interrupted and lets go of the lock, so the run is listed
as interrupted with the epochs its worker saved, as kill -9 leaves a local run. Dask gives a lost
worker's task to another worker; that one finds the run already begun and leaves it alone.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time

from distributed import Client, Variable, get_client
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from .executor_api import UNREACHABLE_MESSAGE, RunRequest, TrainingUnavailableError
from .i18n import Message
from .kernels import choose_kernel_library
from .pausing import MOST_BATCH_STEPS_ASKED, PauseControl
from .precision import machine_precision
from .queueing import FirstComeFirstServed
from .results import RunStatus, kept_epochs_text

logger = logging.getLogger(__name__)

LINK_SECONDS = 0.2        # how often the app and the worker look at each other's messages
QUICK_LINK_SECONDS = 0.04  # ... and how often, for QUICK_SECONDS after a button, while its effect goes back and forth
QUICK_SECONDS = 3.0
CONNECT_SECONDS = 5       # the longest a start waits for an unreachable scheduler before it says so
# After a failed attempt, starts are refused at once for this long: a class pressing Train while the scheduler
# is down would otherwise queue on the connection lock, CONNECT_SECONDS each (the 40th student 200 s).
UNREACHABLE_RETRY_SECONDS = 10.0
SLOTS_REFRESH_SECONDS = 5.0  # how often the app counts the cluster's training slots (workers come and go)
SILENT_SCHEDULER_SECONDS = 30.0  # a scheduler that answers neither side this long: the run is lost
# A worker whose app has not been heard from this long stops the run: nobody is there to see it.
SILENT_APP_SECONDS = 60.0
HEARTBEAT_SECONDS = 2.0   # how often the app says it is still there, with nothing else to say
TRAINING_SLOT = "training_slot"  # the worker resource that admits one run (`dask worker --resources training_slot=1`)


def _variable_names(run_id: str) -> tuple[str, str, str]:
    return f"mnist-lab-{run_id}-control", f"mnist-lab-{run_id}-news", f"mnist-lab-{run_id}-version"


def lost_message(finished_epochs: int) -> Message:
    kept = kept_epochs_text(finished_epochs) if finished_epochs else Message("nothing had been trained yet")
    return Message("Interrupted during epoch {epoch}: the cluster computer that was training it stopped or could not be "
                   "reached, so {kept}.", epoch=finished_epochs + 1, kept=kept)


# -- on the worker -----------------------------------------------------------------------------------

class _WorkerSide:
    """A run on a worker: its PauseControl, driven by the app's control message, and its news."""

    def __init__(self, client, run_id: str, pause_limit_seconds: float | None):
        control_name, news_name, version_name = _variable_names(run_id)
        self._control = Variable(control_name, client=client)
        self._news, self._version = Variable(news_name, client=client), Variable(version_name, client=client)
        self.pause_control = PauseControl(pause_limit_seconds, give_way=self._give_way, take_turn=self._take_turn)
        self.stop = threading.Event()
        self.training = None
        self._progress = (0, 0, 0)
        self._applied = {"resumes": 0, "batch_steps": 0, "epoch_steps": 0, "beats": 0}
        self._turns_granted = self._turns_wanted = 0
        self._resting = False
        self._points_heard = 0  # the finished points of the iteration curve the app says it holds: news sends the rest
        self._condition = threading.Condition()
        self._publishing = threading.Lock()
        self._published = 0
        self._app_heard_at = time.monotonic()
        self._quick_until = 0.0  # time.monotonic() until which the listener looks quickly (a button was pressed)
        self._done = threading.Event()
        # The buttons pressed before the run reached its worker (paused from the start, an epoch step) hold
        # before its first step: read here, not left to the listener, which the training could outrun.
        self._apply(self._control.get(timeout=CONNECT_SECONDS))
        self._listener = threading.Thread(target=self._listen, name="mnist-lab-control", daemon=True)
        self._listener.start()

    def close(self) -> None:
        self._done.set()
        self._listener.join(timeout=5)

    # what the app says

    def _listen(self) -> None:
        while not self._done.is_set():
            try:
                self._apply(self._control.get(timeout=5 * LINK_SECONDS))
            # A scheduler that does not answer (or a worker client closing with its worker): keep asking until done.
            except (OSError, TimeoutError, AttributeError) as error:
                logger.debug("control of a run not read: %s", error)
            if time.monotonic() - self._app_heard_at > SILENT_APP_SECONDS:
                logger.warning("the app that asked for this run has not been heard from for %.0f s: stopping it",
                               SILENT_APP_SECONDS)
                self.stop.set()
            self._done.wait(QUICK_LINK_SECONDS if time.monotonic() < self._quick_until else LINK_SECONDS)

    def _apply(self, control: dict) -> None:
        pause_control, applied = self.pause_control, self._applied
        changed = any(control[name] != applied[name] for name in ("resumes", "batch_steps", "epoch_steps"))
        if changed or control["paused"] != pause_control.paused or control["turns"] > self._turns_granted:
            self._quick_until = time.monotonic() + QUICK_SECONDS  # a button's effect is on its way: look quickly
        if control["beats"] != applied["beats"]:
            self._app_heard_at = time.monotonic()
        self._points_heard = control["points_heard"]
        if control["stop"]:
            self.stop.set()
        if control["resumes"] > applied["resumes"]:
            pause_control.resume()
        if control["paused"] and not pause_control.paused:
            pause_control.pause()
        elif not control["paused"] and pause_control.paused:
            pause_control.resume()
        for _ in range(control["batch_steps"] - applied["batch_steps"]):
            pause_control.step_batch()
        if control["epoch_steps"] > applied["epoch_steps"]:
            pause_control.step_epoch()
        applied.update((name, control[name]) for name in applied)
        with self._condition:
            if control["turns"] > self._turns_granted:
                self._turns_granted = control["turns"]
                self._condition.notify_all()
        if changed:
            self.publish()

    # what the run asks of the app: give its slot back while it rests, and wait for a turn to go on

    def _give_way(self) -> None:
        self._resting = True
        self.publish()

    def _take_turn(self) -> None:
        # No longer resting from here on: asking for a turn, the run holds no slot, and the app must not give
        # back the one it is about to queue for (news is read in order, so none says "resting" after this).
        self._resting = False
        with self._condition:
            self._turns_wanted += 1
        self.publish()
        with self._condition:
            while self._turns_granted < self._turns_wanted and not self.stop.is_set():
                self._condition.wait(LINK_SECONDS)

    # what the worker says

    def on_progress(self, epoch: int, step: int, steps_per_epoch: int) -> None:
        self._progress = (epoch, step, steps_per_epoch)
        self.publish()

    def news(self) -> dict:
        training, pause_control = self.training, self.pause_control
        news = {"resting": self._resting, "turns_wanted": self._turns_wanted, "progress": self._progress,
                "batch_steps_applied": self._applied["batch_steps"],
                "batch_steps_waiting": pause_control.batch_steps_waiting, "pause_seconds_left": None, "started": False}
        if self._resting and pause_control.limit_seconds is not None:
            news["pause_seconds_left"] = max(0.0, pause_control.limit_seconds - pause_control.seconds_rested)
        if training is not None:
            # Only the curve the app does not hold yet: the whole of a 100-epoch run's is 20,000 points (0.7 MB),
            # five times a second through the scheduler. Counted before the curve is read, so a stretch that ends
            # in between is sent again, never skipped.
            finished = len(training.iterations.points)
            start = min(self._points_heard, finished)
            news.update(started=True, status=training.status, message=training.message, history=list(training.history),
                        iterations=tuple(training.iterations.points_from(start)), iterations_from=start,
                        iterations_finished=finished, best_epoch=training.best_epoch,
                        steps_per_epoch=training.steps_per_epoch, precision=training.precision, kernels=training.kernels,
                        paused_weights=training.paused_weights)
        return news

    def publish(self) -> None:
        with self._publishing:
            news = self.news()
            self._published += 1
            try:
                self._news.set(pickle.dumps(news))  # pickled: a Variable's own packing turns a RunStatus into a str
                self._version.set(self._published)
            except (OSError, TimeoutError) as error:  # the app reads the run from its folder if it never hears this
                logger.warning("news of a run not sent: %s", error)


def train_on_worker(config, dataset, recorder, time_limit_seconds: float | None,
                    pause_limit_seconds: float | None) -> dict:
    """The task a worker runs: train `config` on `dataset`, saving it with `recorder` (in the shared runs
    folder), driven by the app's control message; return the run's last news."""
    from .training import train_and_record  # the worker's preload has imported it already

    if recorder.saved_status() != RunStatus.WAITING:
        return {"lost": True}  # a worker that had begun it was lost: the run stays as that one left it
    side = _WorkerSide(get_client(), recorder.run_id, pause_limit_seconds)
    try:
        training = train_and_record(config, dataset, recorder=recorder, stop_requested=side.stop.is_set,
                                    on_progress=side.on_progress, time_limit_seconds=time_limit_seconds,
                                    pause_control=side.pause_control)
        side.training = training
        side.publish()
        for _ in training:
            side.publish()
        side.publish()
        return side.news()
    finally:
        side.close()


# -- in the app --------------------------------------------------------------------------------------

class IterationsSoFar:
    """The iteration curve as a worker last reported it, read as a Training's IterationLog is."""

    def __init__(self, points: tuple):
        self.points_so_far = points


class RemoteRun:
    """A run training on a worker, as its last news told: what a job's snapshot reads of a Training."""

    def __init__(self, news: dict, folder):
        self.folder = folder
        self.finished_points: tuple = ()  # the iteration curve's finished points, which news no longer repeats
        self.update(news)

    @property
    def model(self):
        """The model of the last finished epoch, rebuilt from the run's folder (the worker holds the live one);
        None before the first epoch is saved."""
        from .runs import read_run_safely

        return read_run_safely(self.folder).load_model() if self.history else None

    def update(self, news: dict) -> None:
        # The history first, the status last: a snapshot never pairs an ended status with an older history.
        self.history = news["history"]
        curve = self.finished_points[:news["iterations_from"]] + tuple(news["iterations"])
        self.finished_points = curve[:news["iterations_finished"]]
        self.iterations = IterationsSoFar(curve)
        self.paused_weights, self.best_epoch = news["paused_weights"], news["best_epoch"]
        self.steps_per_epoch, self.precision, self.kernels = news["steps_per_epoch"], news["precision"], news["kernels"]
        self.message, self.status = news["message"], news["status"]

    def lose(self) -> None:
        """Its worker, or the scheduler, is gone: the run ends as interrupted, with the epochs it saved."""
        self.paused_weights = None
        self.message, self.status = lost_message(len(self.history)), RunStatus.INTERRUPTED


class RemotePauseControl:
    """The page's Pause, Resume and Step buttons for a run on a worker: they change the control message,
    which the app's watcher sends on (`DaskExecutor.train`). Reads as a PauseControl for the job."""

    def __init__(self, limit_seconds: float | None, give_way, take_turn):
        self.limit_seconds, self.give_way, self.take_turn = limit_seconds, give_way, take_turn
        self._lock = threading.Lock()
        self._control = {"stop": False, "paused": False, "resumes": 0, "batch_steps": 0, "epoch_steps": 0, "turns": 0,
                         "beats": 0, "points_heard": 0}
        self._points_heard = 0  # the finished points of the run's curve the app holds, told with each heartbeat
        self.ever_paused = False
        self._turn_asked = 0  # the latest turn queued for in the app
        self._batch_steps_applied = self._batch_steps_waiting = 0
        self._rest_ends_at: float | None = None  # time.monotonic() at which the pause limit ends the rest
        self._quick_until = 0.0  # time.monotonic() until which the watcher looks quickly (QUICK_SECONDS after a button)
        self._pressed = threading.Event()  # wakes the watcher at once: a button's message leaves without waiting

    @property
    def paused(self) -> bool:
        return self._control["paused"]

    def pause(self) -> None:
        with self._lock:
            self._pressed_now()
            self._control["paused"] = self.ever_paused = True

    def resume(self) -> None:
        with self._lock:
            self._pressed_now()
            self._control["paused"] = False
            self._control["resumes"] += 1

    def step_batch(self) -> bool:
        with self._lock:
            control = self._control
            not_taken = control["batch_steps"] - self._batch_steps_applied + self._batch_steps_waiting
            if not control["paused"] or not_taken >= MOST_BATCH_STEPS_ASKED:
                return False
            control["batch_steps"] += 1
            self._pressed_now()
            return True

    def step_epoch(self) -> None:
        with self._lock:
            self._pressed_now()
            if self._control["paused"]:
                self._control["epoch_steps"] += 1

    def seconds_left(self) -> float | None:
        rest_ends_at = self._rest_ends_at
        return None if rest_ends_at is None else max(0.0, rest_ends_at - time.monotonic())

    # the watcher's side

    def stop(self) -> None:
        with self._lock:
            if not self._control["stop"]:  # the watcher calls this at every look once Stop is pressed: wake it once
                self._pressed_now()
                self._control["stop"] = True

    def queue_for_turn(self, turn: int) -> None:
        """The worker asks for its `turn`-th turn to go on: queue for a slot in the app's queue (`take_turn`),
        then let it go on. In a thread of its own, so the watcher goes on carrying the buttons and the
        heartbeat while the run waits, minutes perhaps, behind a class's runs."""
        with self._lock:
            if turn <= self._control["turns"] or self._turn_asked >= turn:
                return
            self._turn_asked = turn

        def queue() -> None:
            self.take_turn()
            with self._lock:
                self._control["turns"] = turn
                self._pressed_now()  # the worker waits for this turn: tell it at once

        threading.Thread(target=queue, name="mnist-lab-turn", daemon=True).start()

    def beat(self) -> None:
        with self._lock:
            self._control["beats"] += 1
            self._control["points_heard"] = self._points_heard

    def hold_points(self, count: int) -> None:
        """The app now holds `count` finished points of the curve: the next heartbeat tells the worker (not a
        message of its own, so at most HEARTBEAT_SECONDS of points are sent again)."""
        with self._lock:
            self._points_heard = count

    def _pressed_now(self) -> None:
        self._quick_until = time.monotonic() + QUICK_SECONDS
        self._pressed.set()

    def wait_for_a_press(self) -> None:
        """The watcher's pause between two looks: LINK_SECONDS, or QUICK_LINK_SECONDS in the QUICK_SECONDS after a
        button (or a turn granted), while its effect goes back and forth; cut short by the next button."""
        quick = time.monotonic() < self._quick_until
        self._pressed.wait(QUICK_LINK_SECONDS if quick else LINK_SECONDS)
        self._pressed.clear()

    def control(self) -> dict:
        with self._lock:
            return dict(self._control)

    def heard(self, news: dict) -> None:
        with self._lock:
            self._batch_steps_applied, self._batch_steps_waiting = news["batch_steps_applied"], news["batch_steps_waiting"]
            left = news["pause_seconds_left"]
            self._rest_ends_at = None if left is None else time.monotonic() + left


class DaskExecutor:
    """Runs train on the workers of the Dask cluster whose scheduler is at `address`."""

    def __init__(self, address: str):
        self.address = address
        self.slots = FirstComeFirstServed(0)  # sized by the cluster once connected
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._datasets: dict[int, tuple[object, object]] = {}  # id(dataset): (the dataset, its future on the cluster)
        self._slots_use_resource = True
        self._refused_until = 0.0  # time.monotonic() before which the scheduler is not asked again

    def connect(self) -> Client:
        """The client, connected now if it was not (TrainingUnavailableError if the scheduler cannot be reached
        within CONNECT_SECONDS, or at once within UNREACHABLE_RETRY_SECONDS of a failed attempt); from then on,
        a thread counts the cluster's training slots now and then."""
        with self._lock:
            if self._client is None or self._client.status != "running":
                if time.monotonic() < self._refused_until:
                    raise TrainingUnavailableError(UNREACHABLE_MESSAGE)
                if self._client is not None:
                    self._client.close(timeout=CONNECT_SECONDS)
                    self._client = None
                try:
                    self._client = Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
                except (OSError, TimeoutError) as error:
                    self._refused_until = time.monotonic() + UNREACHABLE_RETRY_SECONDS
                    logger.warning("the Dask scheduler at %s cannot be reached: %s", self.address, error)
                    raise TrainingUnavailableError(UNREACHABLE_MESSAGE) from error
                threading.Thread(target=self._count_slots_now_and_then, args=(self._client,), daemon=True,
                                 name="mnist-lab-dask-slots").start()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _count_slots_now_and_then(self, client: Client) -> None:
        """The cluster's training slots, counted every SLOTS_REFRESH_SECONDS while this client lives: the
        workers' `training_slot` resources added up (or, where no worker declares any, one per worker)."""
        while client.status == "running":
            try:
                workers = client.scheduler_info(n_workers=-1)["workers"].values()
                declared = sum(int(worker.get("resources", {}).get(TRAINING_SLOT, 0)) for worker in workers)
                self._slots_use_resource = declared > 0
                self.slots.resize(declared if declared else len(workers))
            except (OSError, TimeoutError, KeyError) as error:
                logger.warning("the training slots of %s could not be counted: %s", self.address, error)
            time.sleep(SLOTS_REFRESH_SECONDS)

    @staticmethod
    def pause_control(limit_seconds: float | None, give_way, take_turn) -> RemotePauseControl:
        return RemotePauseControl(limit_seconds, give_way, take_turn)

    def _on_cluster(self, client: Client, dataset):
        """The dataset's copy on the cluster, sent to every worker once per dataset (a worker that joins later
        fetches it from another): a run sends only its settings."""
        with self._lock:
            entry = self._datasets.get(id(dataset))
            if entry is None or entry[1].status != "finished":
                [future] = client.scatter([dataset], broadcast=True, hash=False)
                entry = self._datasets[id(dataset)] = (dataset, future)
            return entry[1]

    def train(self, request: RunRequest, started):
        client = self.connect()
        controls: RemotePauseControl = request.controls
        control_name, news_name, version_name = _variable_names(request.recorder.run_id)
        variables = Variable(control_name, client=client), Variable(news_name, client=client), Variable(version_name, client=client)
        control_variable, _, version_variable = variables
        try:
            control_variable.set(controls.control(), timeout=CONNECT_SECONDS)
            version_variable.set(0, timeout=CONNECT_SECONDS)  # so that reading it answers at once, until the worker says more
            future = client.submit(train_on_worker, request.config, self._on_cluster(client, request.dataset),
                                   request.recorder, request.time_limit_seconds, controls.limit_seconds, pure=False,
                                   key=f"mnist-lab-train-{request.recorder.run_id}",
                                   resources={TRAINING_SLOT: 1} if self._slots_use_resource else None)
        except (OSError, TimeoutError) as error:  # the scheduler went away after the run was admitted
            logger.warning("run %s could not be handed to %s: %s", request.recorder.run_id, self.address, error)
            raise TrainingUnavailableError(UNREACHABLE_MESSAGE) from error
        try:
            run = self._watch(future, request, started, *variables)
            if run is None or not run.status.finished:  # its worker, or the scheduler, was lost
                if run is None:
                    run = RemoteRun(NOTHING_TRAINED | {"precision": machine_precision(request.config.model),
                                                     "kernels": choose_kernel_library()},
                                    request.recorder.folder)
                    started(run)
                run.lose()
            return run
        finally:
            request.recorder.release()
            future.release()
            for variable in variables:
                try:
                    variable.delete()
                except (OSError, TimeoutError) as error:  # a scheduler gone: nothing is left to tidy
                    logger.debug("variable %s not deleted: %s", variable.name, error)

    def _watch(self, future, request: RunRequest, started, control_variable, news_variable, version_variable):
        """Carry the buttons to the worker and its news back until the run ends: the run as last heard of (None
        if it never started). Raises what the training raised on the worker (a setting that does not fit)."""
        controls: RemotePauseControl = request.controls
        run, sent, heard_version = None, None, 0
        sent_at = answered_at = time.monotonic()
        while not future.done():
            if request.stop_requested():
                controls.stop()
            if time.monotonic() - sent_at > HEARTBEAT_SECONDS:
                controls.beat()
            try:
                if (control := controls.control()) != sent:
                    control_variable.set(control, timeout=CONNECT_SECONDS)
                    sent, sent_at = control, time.monotonic()
                version = version_variable.get(timeout=CONNECT_SECONDS)
                news = pickle.loads(news_variable.get(timeout=CONNECT_SECONDS)) if version != heard_version else None
                answered_at = time.monotonic()
            except (OSError, TimeoutError) as error:
                logger.warning("the Dask scheduler did not answer about run %s: %s", request.recorder.run_id, error)
                if time.monotonic() - answered_at > SILENT_SCHEDULER_SECONDS:
                    return run  # lost; its worker, if it still trains, stops once it has not heard from here for long
                controls.wait_for_a_press()
                continue
            if news is not None:
                heard_version = version
                run = self._heard(news, run, request, started)
            controls.wait_for_a_press()
        try:
            news = future.result()
        except (KilledWorker, FutureCancelledError, OSError) as error:
            logger.warning("the worker training run %s was lost: %s", request.recorder.run_id, error)
            return run
        return run if news.get("lost") else self._heard(news, run, request, started)

    @staticmethod
    def _heard(news: dict, run: RemoteRun | None, request: RunRequest, started) -> RemoteRun | None:
        """The worker's news: into the run the snapshot reads, and, while the run rests or asks to go on,
        its training slot given back to the app's queue or queued for again."""
        controls: RemotePauseControl = request.controls
        controls.heard(news)
        if news["started"]:
            if run is None:
                run = RemoteRun(news, request.recorder.folder)
                started(run)
            else:
                run.update(news)
            controls.hold_points(len(run.finished_points))
            if news["progress"][0]:
                request.on_progress(*news["progress"])
        if news["resting"]:
            controls.give_way()  # its slot goes back to the queue (once: the job knows whether it holds one)
        controls.queue_for_turn(news["turns_wanted"])
        return run


# What a run that never started on a worker reads as.
NOTHING_TRAINED = {"history": [], "iterations": (), "iterations_from": 0, "iterations_finished": 0, "paused_weights": None,
                   "best_epoch": None, "steps_per_epoch": 1, "message": "", "status": RunStatus.RUNNING}
