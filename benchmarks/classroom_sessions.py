"""A class of N students on one `streamlit run`, driven without browsers: page loads, p50 and p95.

    .venv/bin/python benchmarks/classroom_sessions.py [--sessions 40] [--minutes 6] [--seed 1]

How it is driven. One fresh server (`streamlit run dashboard.py` as `make run` starts it, via
tests/app_server.py, with its runs in a temporary folder). Then N sessions, each an asyncio task in
this one Python process, speak Streamlit's own websocket protocol to it (benchmarks/
streamlit_sessions.py: the HTML GET, the websocket, BackMsg reruns with page hashes and widget
states, the ForwardMsgs of each run, the fragments' run_every ticks), as N browser tabs would. The
students arrive over `--ramp` seconds and each does a realistic lesson with think times of a few
seconds between steps: open the landing page (`?lang=en`), go to Train, press Train (the default
linear run) in a share of them (`--train-share`) and watch its curves arrive for a while, then
visit Compare, Replay, Exam (pressing "Sit the final exam" where the workspace has a run), Inside,
Draw, Robustness and Overview, and a student who trained goes back to Train to see the run end and
then sits the exam. A share of them (`--returning-share`) come back to a workspace that already holds
a trained linear run and a small CNN (trained here before the server starts, minted with the server's
secret and opened with `?workspace=`), so Replay, Exam, Inside and Robustness have work to do from
the start. Before the students, the teacher opens the app once (the first load imports TensorFlow
and loads MNIST: not a classroom figure, reported apart).

Why this is fair. The server keeps the machine's cores: the client is one process with one thread
that mostly waits on sockets, parsing the server's protobufs (its CPU seconds are printed beside
the server's, and are a small share). Forty Chromiums, by contrast, would need more CPU and memory
than the server they measure, and their rendering would be counted as the server's slowness. What
the server sees is what forty browsers send: the same messages, including the Train page's
refresh every 2 s while a run trains. What is not measured: the browser's own drawing time, and
static files (JavaScript, fonts) that a browser fetches once and caches.

Reported: per page (and per click) the count, p50, p95 and worst of the load time (request to the
run's script_finished; for the landing page from the HTML GET on) and the p50 time to the first
element; the errors (an exception element, the app's "Something went wrong", a page that never
finished); first loads over 30 s; the server's peak memory (VmHWM) and CPU seconds; the client's
CPU seconds; the runs the students trained and how many finished.

Bounded: at most 60 sessions, and the class ends after `--minutes` (a student still in a step
finishes it, up to the client's 180 s load timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))

from streamlit_sessions import SessionError, StreamlitSession, machine_busy_seconds, percentile, process_figures
from tests.app_server import running_app

MOST_SESSIONS = 60
SLOW_FIRST_LOAD_SECONDS = 30.0
TOUR = ["Compare", "Replay", "Exam", "Inside", "Draw", "Robustness", "Overview"]
EXAM_BUTTON = "Sit the final exam"  # "... on the 10,000 test digits"
FINISHED_TEXT = "Finished all"  # the Train page's message for a completed run
WAITING_TEXT = "Waiting for the server"  # ui/heavy_work.py: heavy work waiting for its turn


# -- trained workspaces, made before the server starts -------------------------------------------

def train_template(runs_root: str, models: tuple[str, ...]) -> str:
    """In a child process (TensorFlow stays out of the client): one workspace holding a run of each
    of `models` ("linear": the Train page's default; "cnn": the preset, 2 epochs on 6,000 digits),
    minted with the server's secret in `runs_root`. Returns its name."""
    from mnist_core import TrainConfig, load_mnist, train_and_record
    from mnist_core.runs import new_workspace

    dataset = load_mnist()
    workspace = new_workspace(Path(runs_root))
    for model in models:
        config = TrainConfig() if model == "linear" else TrainConfig.for_model(model, epochs=2, train_subset_size=6000)
        list(train_and_record(config, dataset, runs_root=Path(runs_root), workspace=workspace, name=f"pretrained-{model}"))
    return workspace


def trained_workspaces(runs_root: Path, count: int, models: tuple[str, ...] = ("linear", "cnn")) -> list[str]:
    """`count` workspaces, each holding its own copy of the same trained runs (train once, copy the run
    folders: each copy is a run of its own, so the server's caches, keyed by run folder, compute
    each workspace's pictures anew)."""
    if count == 0:
        return []
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        template = pool.submit(train_template, str(runs_root), models).result()
    from mnist_core.runs import list_runs, new_workspace

    names = [template]
    for _ in range(count - 1):
        name = new_workspace(runs_root)
        for run_folder in (runs_root / template).iterdir():
            if not run_folder.name.startswith("."):
                shutil.copytree(run_folder, runs_root / name / run_folder.name)
        names.append(name)
    runs, damaged = list_runs(runs_root, workspace=names[-1])
    if damaged or len(runs) != len(models):
        raise RuntimeError(f"a copied workspace lists {len(runs)} runs and {damaged} damaged, not {len(models)} runs")
    return names


# -- the class -----------------------------------------------------------------------------------

class Records:
    def __init__(self):
        self.loads = defaultdict(list)  # label -> [Load]
        self.errors: list[str] = []
        self.trained_workspaces: list[str] = []
        self.waited = 0  # students who saw the heavy work's waiting notice at least once

    def add(self, label: str, load) -> None:
        self.loads[label].append(load)
        self.errors.extend(f"{label}: {error}" for error in load.errors)


async def student(number: int, url: str, workspace: str | None, trains: bool, records: Records, deadline: float,
                  args, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, args.ramp))
    session = StreamlitSession(url, f"student-{number}", on_tick=lambda load: records.add("Train refresh (tick)", load),
                               watch=(WAITING_TEXT,))

    def think(short: bool = False):
        low, high = (0.5, 2.0) if short else (args.think_min, args.think_max)
        return asyncio.sleep(rng.uniform(low, high))

    def time_left() -> bool:
        return time.monotonic() < deadline

    exam_done = False

    async def visit(page: str) -> None:
        nonlocal exam_done
        records.add(page, await session.goto(page))
        if page == "Exam" and session.has_button(EXAM_BUTTON, prefix=True) and not exam_done:
            await think(short=True)
            records.add("click: Sit the final exam", await session.click(EXAM_BUTTON, prefix=True))
            exam_done = True

    try:
        records.add("landing (first load)", await session.open(f"lang=en&workspace={workspace}" if workspace else "lang=en"))
        await think()
        records.add("Train", await session.goto("Train"))
        if trains and time_left():
            await think(short=True)
            records.add("click: Train", await session.click("Train"))
            if session.workspace:
                records.trained_workspaces.append(session.workspace)
            # Watch the curves arrive for a while (the page's fragment refreshes every 2 s meanwhile).
            await session.wait_for(lambda s: s.shows(FINISHED_TEXT), rng.uniform(10, args.watch))
        rest = TOUR[3:]
        rng.shuffle(rest)  # Compare, Replay, Exam first (the lesson's order); the rest as each student likes
        tour = TOUR[:3] + rest
        for page in tour:
            if not time_left():
                break
            await think()
            await visit(page)
        if trains and time_left():
            await think()
            records.add("Train", await session.goto("Train"))
            await session.wait_for(lambda s: s.shows(FINISHED_TEXT) or time.monotonic() > deadline,
                                   max(0.0, deadline - time.monotonic()))
            if session.shows(FINISHED_TEXT) and time_left():
                await think(short=True)
                await visit("Exam")
    except SessionError as error:
        records.errors.append(f"student {number}: {error}")
    except Exception as error:  # noqa: BLE001  reported, not hidden: one student's failure ends only that student
        records.errors.append(f"student {number}: {type(error).__name__}: {error}")
    finally:
        records.waited += session.seen[WAITING_TEXT] > 0
        await session.close()


async def run_class(url: str, workspaces: list[str | None], trainers: list[bool], args) -> tuple[Records, float]:
    records = Records()
    rng = random.Random(args.seed)
    started = time.monotonic()
    deadline = started + args.minutes * 60
    tasks = [asyncio.create_task(student(number, url, workspace, trains, records, deadline, args,
                                         random.Random(rng.random())))
             for number, (workspace, trains) in enumerate(zip(workspaces, trainers), start=1)]
    await asyncio.gather(*tasks)
    return records, time.monotonic() - started


async def teacher_opens(url: str):
    """The first visit after the server starts: imports TensorFlow, loads MNIST."""
    teacher = StreamlitSession(url, "teacher")
    first = await teacher.open("lang=en")
    train = await teacher.goto("Train")
    await teacher.close()
    return first, train


def finished_runs(runs_root: Path, workspaces: list[str]) -> tuple[int, int]:
    from mnist_core.runs import list_runs

    started = finished = 0
    for workspace in workspaces:
        runs, _damaged = list_runs(runs_root, workspace=workspace)
        for run in runs:
            if not run.name or not run.name.startswith("pretrained-"):
                started += 1
                finished += run.status.value == "completed"
    return started, finished


def row(label: str, loads) -> str:
    done = [load.seconds for load in loads if load.seconds is not None]
    firsts = [load.first_delta_seconds for load in loads if load.first_delta_seconds is not None]
    errors = sum(1 for load in loads if load.errors)
    return (f"{label:<30} {len(loads):>5} {percentile(done, 0.5):>7.2f} {percentile(done, 0.95):>7.2f} "
            f"{max(done, default=float('nan')):>7.2f} {percentile(firsts, 0.5):>12.2f} {errors:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=6.0, help="the class's length: no new step starts after it")
    parser.add_argument("--train-share", type=float, default=0.5, help="share of students who press Train")
    parser.add_argument("--returning-share", type=float, default=0.25,
                        help="share of students who open a workspace that already holds trained runs")
    parser.add_argument("--ramp", type=float, default=30.0, help="students arrive over this many seconds")
    parser.add_argument("--think-min", type=float, default=2.0)
    parser.add_argument("--think-max", type=float, default=6.0)
    parser.add_argument("--watch", type=float, default=40.0, help="longest a student watches the curves after Train")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.sessions <= MOST_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MOST_SESSIONS}")
    if not 0 < args.minutes <= 15:
        parser.error("--minutes must be more than 0 and at most 15")

    rng = random.Random(args.seed)
    count = args.sessions
    returning = round(count * args.returning_share)
    trainers = [rng.random() < args.train_share for _ in range(count)]
    with tempfile.TemporaryDirectory(prefix="classroom-") as folder:
        runs_root = Path(folder) / "runs"
        runs_root.mkdir()
        made = time.monotonic()
        returning_workspaces = trained_workspaces(runs_root, returning)
        print(f"trained workspaces for {returning} returning students in {time.monotonic() - made:.0f} s", flush=True)
        workspaces = returning_workspaces + [None] * (count - returning)
        rng.shuffle(workspaces)
        with running_app(runs_root, Path(folder) / "server.log") as (server, url):
            first, train = asyncio.run(teacher_opens(url))
            print(f"teacher's first load {first.seconds:.1f} s, then Train {train.seconds:.2f} s", flush=True)
            before = process_figures(server.pid)
            client_before = resource.getrusage(resource.RUSAGE_SELF)
            machine_before = machine_busy_seconds()
            records, wall = asyncio.run(run_class(url, workspaces, trainers, args))
            machine_after = machine_busy_seconds()
            client_after = resource.getrusage(resource.RUSAGE_SELF)
            after = process_figures(server.pid)
        server_log = (Path(folder) / "server.log").read_text(errors="replace")
        started_runs, finished = finished_runs(runs_root, sorted(set(records.trained_workspaces + returning_workspaces)))

    client_cpu = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
    landing = records.loads.get("landing (first load)", [])
    slow_first = sum(1 for load in landing if load.seconds is None or load.seconds > SLOW_FIRST_LOAD_SECONDS)
    print()
    print(f"Classroom: {count} sessions in one client process against one `streamlit run` ({sum(trainers)} press Train, "
          f"{returning} return to a trained workspace), {wall:.0f} s of class")
    print(f"{'page or action':<30} {'n':>5} {'p50 s':>7} {'p95 s':>7} {'worst s':>7} {'1st elem p50':>12} {'errors':>6}")
    order = ["landing (first load)", "Train", "click: Train", "Train refresh (tick)", "Compare", "Replay", "Exam",
             "click: Sit the final exam", "Inside", "Draw", "Robustness", "Overview"]
    for label in order + sorted(set(records.loads) - set(order)):
        if label in records.loads:
            print(row(label, records.loads[label]))
    every = [load for loads in records.loads.values() for load in loads if load.kind != "tick"]
    print(row("all page loads and clicks", every))
    print(f"errors: {len(records.errors)}" + "".join(f"\n  {error}" for error in records.errors[:10]))
    print(f"students who saw \"{WAITING_TEXT}\" (heavy work in line): {records.waited} of {count}")
    print(f"first loads over {SLOW_FIRST_LOAD_SECONDS:.0f} s: {slow_first} of {len(landing)}")
    print(f"server: peak memory (VmHWM) {after['peak_mib']:.0f} MiB; CPU {after['cpu_seconds'] - before['cpu_seconds']:.0f} s "
          f"during the class ({(after['cpu_seconds'] - before['cpu_seconds']) / wall:.2f} cores on average), "
          f"{after['cpu_seconds']:.0f} s since it started")
    print(f"client (all {count} sessions): CPU {client_cpu:.1f} s ({client_cpu / wall:.2f} cores on average)")
    server_cpu = after["cpu_seconds"] - before["cpu_seconds"]
    outside = max(0.0, machine_after - machine_before - server_cpu - client_cpu)
    print(f"other processes on the machine: CPU {outside:.0f} s during the class ({outside / wall:.2f} cores on average; "
          "near 0 for clean figures)")
    print(f"runs trained by the students: {finished} of {started_runs} finished before the class ended")
    tracebacks = server_log.count("Traceback")
    if tracebacks:
        print(f"server log: {tracebacks} tracebacks")


if __name__ == "__main__":
    main()
