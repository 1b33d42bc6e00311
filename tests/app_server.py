"""Starting the app as `make run` does, and driving it in Chromium: shared by the browser tests and the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps trying to reach Google's servers, which a classroom
# (or CI) network may refuse or stall on.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--disable-quic"]
START_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_app(runs_root: Path, log_path: Path, **environment):
    """`streamlit run dashboard.py` on a free localhost port, saving runs in `runs_root`.
    Yields (the server process, its address); stops it afterwards."""
    port = free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env={**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root), **environment},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield server, url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


# -- a student's first steps in the browser (Playwright pages) --------------------------------------

def open_app(page, address: str) -> None:
    """Open the app and wait for its landing page (a link clicked while the first page still loads can be lost)."""
    from playwright.sync_api import expect

    page.goto(address)
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible()


def open_workspace_page(page, app_url: str, workspace: str, name: str) -> None:
    """Open the app in `workspace` and go to its page `name` by the navigation's link."""
    open_app(page, f"{app_url}/?workspace={workspace}")
    page.get_by_role("link", name=name).click()


def open_train_page(page, address: str) -> None:
    from playwright.sync_api import expect

    open_app(page, address)
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()


def clear_canvas(page) -> None:
    """Press the Draw page's Clear and wait for the new, blank canvas: a stroke drawn on the old one,
    still on screen for a moment, would be lost."""
    old_canvas = page.locator("canvas").first.element_handle()
    page.get_by_role("button", name="Clear the canvas").click()
    page.wait_for_function("canvas => !canvas.isConnected", arg=old_canvas)
    page.locator("canvas").first.wait_for()


WORKSPACE_COOKIE = "mnist_lab_workspace"  # ui/workspace.py


def workspace_of(page) -> str:
    """The workspace this browser keeps in its cookie: the page itself never shows it."""
    page.wait_for_function(f"() => document.cookie.includes('{WORKSPACE_COOKIE}=')")
    return next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == WORKSPACE_COOKIE)
