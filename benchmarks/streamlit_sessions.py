"""A headless Streamlit browser session: the app's own websocket protocol, without a browser.

A real browser runs Streamlit's JavaScript, which talks to the server over one websocket; the
server neither knows nor cares what is on the other end. This module speaks that protocol from
Python, so a benchmark can keep forty "students" in one light client process and leave the
server's cores to the server (forty Chromiums would need more CPU than the server they measure).

What it does, as the frontend does (streamlit/static/.../index.*.js, App.sendRerunBackMsg, and
streamlit/web/server/starlette/starlette_websocket.py on the server's side):

- `open(query)`: GET the app's page (the HTML a browser loads first, and any cookies it sets),
  then connect to ws://HOST:PORT/_stcore/stream with `Sec-WebSocket-Protocol: streamlit` (the
  frontend's second and third entries, an XSRF token and a session id to resume, only matter
  for Streamlit's auth cookies and reconnects, so none are sent) and the browser's Origin and
  cookies, and ask for the first run as the frontend does: a BackMsg `rerun_script` with the
  address's query string, no page hash and the page's name from the path.
- Every run of the script arrives as ForwardMsgs: `new_session` (one per run; its metadata names
  the run and, for a fragment's run, its fragments), `navigation` (st.navigation's pages, with
  their script hashes), `delta`s (the page's elements, at their delta paths), `page_info_changed`
  (the script changed the query string), `auto_rerun` / `stop_auto_rerun` (a fragment's
  `run_every` timer) and `script_finished`.
- `goto(page)`: a rerun with that page's script hash and the query string a page change leaves.
- `click(label)`: a rerun whose widget states carry trigger_value=True for that button's id (and
  the button's fragment id, when it sits in a fragment: only the fragment reruns, as in a browser).
- `choose(label, option)`: a radio's or selectbox's new value (the option's text, as Streamlit
  1.67 serialises them); `type_text(label, text)` a text input's.
- Every rerun carries the widget states of the widgets on the page, as the frontend's
  WidgetStateManager does: a checkbox's, radio's, selectbox's and text input's value (the one the
  student chose, the one the script set, or the widget's default); widgets of other kinds are not
  reported, and the server keeps their last value, which is what it does for any widget a
  browser leaves out.
- A fragment's `run_every` timer is honoured: while the page shows such a fragment (the Train
  page while its run trains, Replay while it plays), the session asks for the fragment's rerun
  every `interval` seconds, as the browser's setInterval does. That load is part of a class.

Each `open`, `goto`, `click`, `choose` returns a `Load`: seconds from the request to the first
delta of its run and to its `script_finished` (a run that ends in st.rerun() is followed to the
end of the run it starts), and the errors the page showed (an exception element, or the app's own
"Something went wrong"). For `open`, the time starts before the HTML GET and the websocket
handshake, as a student's first load does.

The app keeps the student's workspace in a cookie set by JavaScript in an st.html element; this
client reads the workspace from that element and keeps it as a cookie, so a reconnect
(`open()` again on the same session) comes back to the same workspace, as a browser would.

Only `websockets` (already in the virtual environment, by uvicorn) and Streamlit's protobufs.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

APP_ERROR_TEXT = "Something went wrong"  # ui/failures.py: the app's own message for a page that failed
WORKSPACE_COOKIE = "mnist_lab_workspace"  # ui/workspace.py
WORKSPACE_IN_HTML = re.compile(WORKSPACE_COOKIE + r"=([0-9a-zA-Z_-]+)")
SUCCESSFUL_ENDS = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
LOAD_TIMEOUT_SECONDS = 180.0
IDLE_WAIT_SECONDS = 30.0  # before a click: the run in flight (an auto-rerun tick, say) ends first
# A person clicks no sooner than this after the page has finished drawing; a client that clicks within
# a millisecond of script_finished asks of the server what no browser does.
REACTION_SECONDS = 0.3


class SessionError(Exception):
    """The page cannot do what was asked (no such button, a disabled one, no such page)."""


@dataclass
class Load:
    """One request's round trip: `kind` ("open", "page", "click", "choose", "tick") and `what` (the page or label)."""

    kind: str
    what: str
    page: str
    started: float
    seconds: float | None = None  # to script_finished; None if it never came (timeout or a closed connection)
    first_delta_seconds: float | None = None
    status: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.seconds is not None and not self.errors


@dataclass
class _Request:
    load: Load
    done: asyncio.Future
    run_ids: set = field(default_factory=set)


def _status_name(status: int) -> str:
    return ForwardMsg.ScriptFinishedStatus.Name(status)


class StreamlitSession:
    """One browser tab on a `streamlit run` server at `base_url` (http://127.0.0.1:PORT)."""

    def __init__(self, base_url: str, name: str = "", *, locale: str = "en-US",
                 auto_reruns: bool = True, on_tick=None, watch: tuple[str, ...] = ()):
        self.base_url = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self.host, self.port = parts.hostname, parts.port
        self.name = name
        self.locale = locale
        self.auto_reruns = auto_reruns
        self.on_tick = on_tick  # called with each auto-rerun tick's Load
        self.watch = watch  # texts to count whenever an element shows them, even for a moment
        self.seen: dict[str, int] = dict.fromkeys(watch, 0)
        self.cookies: dict[str, str] = {}
        self.query_string = ""
        self.page_hash = ""  # the page shown
        self.main_script_hash = ""
        self.pages: dict[str, str] = {}  # url path ("train") and title ("Train") -> page script hash
        self.page_names: dict[str, str] = {}  # page script hash -> url path
        self.elements: dict[tuple, tuple] = {}  # delta path -> (Element, fragment id), this run's
        self.widget_values: dict[str, WidgetState] = {}  # widget id -> its state as the browser would send it
        self.workspace: str | None = None
        self.errors: list[str] = []  # every error any page of this session showed
        self.ticks = 0
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._request: _Request | None = None
        self._running: str | None = None  # the script run in progress, if any
        self._idle = asyncio.Event()
        self._idle.set()
        self._finished_at = 0.0  # when the last run ended (perf_counter)
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._closed = False

    # -- the page, as the student sees it --------------------------------------------------------

    @property
    def page(self) -> str:
        return self.page_names.get(self.page_hash, "")

    def find(self, kind: str, label: str, *, prefix: bool = False):
        """The element of `kind` ("button", "radio", ...) on the page whose label is `label` (or starts with it)."""
        for element, fragment_id in self.elements.values():
            if element.WhichOneof("type") != kind:
                continue
            widget = getattr(element, kind)
            if widget.label == label or (prefix and widget.label.startswith(label)):
                return widget, fragment_id
        return None, None

    def has_button(self, label: str, *, prefix: bool = False, enabled: bool = True) -> bool:
        button, _fragment = self.find("button", label, prefix=prefix)
        return button is not None and (not enabled or not button.disabled)

    def texts(self) -> list[str]:
        """The page's words: markdown, alerts, headings, captions, progress texts."""
        found = []
        for element, _fragment in self.elements.values():
            kind = element.WhichOneof("type")
            if kind in ("markdown", "alert", "heading", "text"):
                found.append(getattr(element, kind).body)
            elif kind == "progress":
                found.append(element.progress.text)
        return found

    def shows(self, text: str) -> bool:
        return any(text in body for body in self.texts())

    # -- the requests ----------------------------------------------------------------------------

    async def open(self, query: str = "", path: str = "/") -> Load:
        """Load the app's address `path?query` as a browser does: its HTML, then the websocket and the first run."""
        await self.close()
        self._closed = False
        started = time.perf_counter()
        await self._get_page(path, query)
        self._ws = await connect(
            f"ws://{self.host}:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=f"http://{self.host}:{self.port}",
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None,
            user_agent_header="Mozilla/5.0 (headless MNIST Lab benchmark)", proxy=None,
            ping_interval=None,  # a browser sends no pings; a busy server's late pong must not end the session
            max_size=None, max_queue=None, open_timeout=LOAD_TIMEOUT_SECONDS)
        self._reader = asyncio.create_task(self._read(), name=f"read-{self.name}")
        self.query_string = query
        self.page_hash = ""
        self.workspace = self.cookies.get(WORKSPACE_COOKIE)  # the page re-sets the cookie only if it changes
        page_name = path.strip("/")
        return await self._rerun("open", page_name or "landing", started=started, page_name=page_name)

    async def goto(self, page: str) -> Load:
        """Go to `page` (its address, "train", or its title, "Train") as the navigation's link does."""
        page_hash = self.pages.get(page) or self.pages.get(page.lower())
        if page_hash is None:
            raise SessionError(f"no page {page!r} in the navigation (pages: {sorted(self.pages)})")
        self._stop_timers()
        # A page change keeps only the address's query-bound widgets' parameters: none in this app.
        self.query_string = ""
        return await self._rerun("page", self.page_names.get(page_hash, page), page_hash=page_hash,
                                 widgets=self._widget_states(sidebar_only=True))

    async def click(self, label: str, *, prefix: bool = False) -> Load:
        """Press the button labelled `label` (or starting with it)."""
        await self._wait_idle()
        button, fragment_id = self.find("button", label, prefix=prefix)
        if button is None:
            raise SessionError(f"no button {label!r} on {self.page or 'the page'}")
        if button.disabled:
            raise SessionError(f"the button {label!r} is disabled")
        trigger = WidgetState(id=button.id, trigger_value=True)
        return await self._rerun("click", label, page_hash=self.page_hash, fragment_id=fragment_id,
                                 widgets=[*self._widget_states(), trigger])

    async def choose(self, label: str, option: str) -> Load:
        """Choose `option` (its text as shown) in the radio or selectbox labelled `label`."""
        await self._wait_idle()
        for kind in ("radio", "selectbox"):
            widget, fragment_id = self.find(kind, label)
            if widget is not None:
                break
        else:
            raise SessionError(f"no radio or selectbox {label!r} on {self.page or 'the page'}")
        if option not in widget.options:
            raise SessionError(f"{label!r} has no option {option!r} (options: {list(widget.options)})")
        self.widget_values[widget.id] = WidgetState(id=widget.id, string_value=option)
        return await self._rerun("choose", f"{label}: {option}", page_hash=self.page_hash, fragment_id=fragment_id,
                                 widgets=self._widget_states())

    async def type_text(self, label: str, text: str) -> Load:
        """Type `text` into the text input labelled `label` and press Enter."""
        await self._wait_idle()
        widget, fragment_id = self.find("text_input", label)
        if widget is None:
            raise SessionError(f"no text input {label!r} on {self.page or 'the page'}")
        self.widget_values[widget.id] = WidgetState(id=widget.id, string_value=text)
        return await self._rerun("choose", f"{label}: {text}", page_hash=self.page_hash, fragment_id=fragment_id,
                                 widgets=self._widget_states())

    async def wait_for(self, predicate, timeout: float) -> bool:
        """Wait (the page's own timers ticking) until predicate(self) holds; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            await asyncio.sleep(0.25)
        return predicate(self)

    async def close(self) -> None:
        self._closed = True
        self._stop_timers()
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 10)
            except Exception:  # noqa: BLE001  closing a dead connection
                pass
            self._ws = None
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:  # noqa: BLE001
                pass
            self._reader = None
        if self._request is not None and not self._request.done.done():
            self._request.done.set_result(None)
        self._request = None
        self._running = None
        self._idle.set()

    # -- the protocol ----------------------------------------------------------------------------

    async def _get_page(self, path: str, query: str) -> None:
        """The browser's first request: the app's HTML (and any cookies the server sets)."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        target = path + (f"?{query}" if query else "")
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        writer.write((f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: text/html\r\n"
                      + (f"Cookie: {cookie}\r\n" if cookie else "") + "Connection: close\r\n\r\n").encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), LOAD_TIMEOUT_SECONDS)
        writer.close()
        head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        status = head.split("\r\n", 1)[0]
        if " 200 " not in status + " ":
            raise SessionError(f"GET {target}: {status}")
        for line in head.split("\r\n")[1:]:
            name, _sep, value = line.partition(":")
            if name.strip().lower() == "set-cookie":
                key, _eq, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";", 1)[0]

    def _context_info(self) -> ContextInfo:
        path = self.page_names.get(self.page_hash, "")
        url = f"{self.base_url}/{path}" + (f"?{self.query_string}" if self.query_string else "")
        return ContextInfo(timezone="UTC", timezone_offset=0, locale=self.locale, url=url, is_embedded=False,
                           color_scheme="light")

    async def _send_rerun(self, *, page_hash: str = "", page_name: str = "", fragment_id: str = "",
                          widgets=None, auto: bool = False) -> None:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = page_hash
        state.page_name = page_name
        state.fragment_id = fragment_id or ""
        state.is_auto_rerun = auto
        state.widget_states.widgets.extend(widgets or [])
        state.context_info.CopyFrom(self._context_info())
        await self._ws.send(message.SerializeToString())

    async def _wait_idle(self) -> None:
        """Let a run in flight (an auto-rerun tick) end before a new request, so the request's own run is
        the next one to start: the measurement then belongs to it; then leave a person's reaction time
        (REACTION_SECONDS) after the page finished. A browser does not wait for a tick, but a tick lasts
        well under a second, and the time waited here is not counted in the click."""
        self._stop_timers()
        try:
            await asyncio.wait_for(self._idle.wait(), IDLE_WAIT_SECONDS)
        except TimeoutError:
            pass
        reaction = self._finished_at + REACTION_SECONDS - time.perf_counter()
        if reaction > 0:
            await asyncio.sleep(reaction)

    async def _rerun(self, kind: str, what: str, *, started: float | None = None, page_hash: str = "",
                     page_name: str = "", fragment_id: str = "", widgets=None) -> Load:
        if self._ws is None:
            raise SessionError("the session is not open")
        if kind not in ("open", "click", "choose"):
            await self._wait_idle()
        load = Load(kind, what, self.page_names.get(page_hash, what if kind == "page" else self.page),
                    started if started is not None else time.perf_counter())
        request = _Request(load, asyncio.get_running_loop().create_future())
        self._request = request
        await self._send_rerun(page_hash=page_hash, page_name=page_name, fragment_id=fragment_id, widgets=widgets)
        try:
            await asyncio.wait_for(asyncio.shield(request.done), LOAD_TIMEOUT_SECONDS)
        except TimeoutError:
            load.errors.append(f"no script_finished within {LOAD_TIMEOUT_SECONDS:.0f} s")
        if self._request is request:
            self._request = None
        if load.seconds is None and not load.errors:
            load.errors.append("the connection closed before the page finished")
        if kind == "open":
            load.page = self.page or load.page
        self.errors.extend(load.errors)
        return load

    def _widget_states(self, sidebar_only: bool = False) -> list[WidgetState]:
        """The states of the widgets on the page, as the frontend sends with every rerun."""
        ids = set()
        for path, (element, _fragment) in self.elements.items():
            if sidebar_only and path[:1] != (1,):  # the sidebar's container: what stays on a page change
                continue
            kind = element.WhichOneof("type")
            widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
            if widget_id:
                ids.add(widget_id)
        return [state for widget_id, state in self.widget_values.items() if widget_id in ids]

    def _remember_widget(self, element) -> None:
        """The value the browser's widget would report: set by the script, chosen before, or its default."""
        kind = element.WhichOneof("type")
        widget = getattr(element, kind)
        known = self.widget_values.get(getattr(widget, "id", ""))
        if kind == "checkbox":
            if widget.set_value or known is None:
                self.widget_values[widget.id] = WidgetState(id=widget.id, bool_value=widget.value if widget.set_value
                                                            else widget.default)
        elif kind in ("radio", "selectbox"):
            if widget.set_value:
                if widget.HasField("raw_value"):
                    self.widget_values[widget.id] = WidgetState(id=widget.id, string_value=widget.raw_value)
                else:
                    self.widget_values.pop(widget.id, None)
            elif known is None and widget.HasField("default") and 0 <= widget.default < len(widget.options):
                self.widget_values[widget.id] = WidgetState(id=widget.id, string_value=widget.options[widget.default])
        elif kind == "text_input":
            if widget.set_value:
                if widget.HasField("value"):
                    self.widget_values[widget.id] = WidgetState(id=widget.id, string_value=widget.value)
                else:
                    self.widget_values.pop(widget.id, None)
            elif known is None and widget.HasField("default"):
                self.widget_values[widget.id] = WidgetState(id=widget.id, string_value=widget.default)

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                message = ForwardMsg()
                message.ParseFromString(data)
                self._handle(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001  a dropped connection: the waiting request hears of it
            if not self._closed:
                self.errors.append(f"connection lost: {error!r}")
        finally:
            if self._request is not None and not self._request.done.done():
                self._request.done.set_result(None)
            self._running = None
            self._idle.set()

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        request = self._request
        now = time.perf_counter()
        if kind == "new_session":
            run = message.metadata.run
            fragments = set(run.fragment_ids)
            self._running = run.script_run_id
            self._idle.clear()
            if request is not None:
                request.run_ids.add(run.script_run_id)
            session = message.new_session
            self.main_script_hash = session.main_script_hash
            if not fragments:  # a run of the whole page: its elements come anew, its timers start again
                self.page_hash = session.page_script_hash
                self.elements = {}
                self._stop_timers()
            else:
                self.elements = {path: entry for path, entry in self.elements.items() if entry[1] not in fragments}
            for page in session.app_pages:
                self._add_page(page)
        elif kind == "navigation":
            for page in message.navigation.app_pages:
                self._add_page(page)
            if message.navigation.page_script_hash:
                self.page_hash = message.navigation.page_script_hash
        elif kind == "delta":
            if request is not None and request.run_ids and request.load.first_delta_seconds is None:
                request.load.first_delta_seconds = now - request.load.started
            delta = message.delta
            if delta.WhichOneof("type") == "new_element":
                element = delta.new_element
                self.elements[tuple(message.metadata.delta_path)] = (element, delta.fragment_id)
                self._look_at(element, request)
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "page_not_found":
            self._error(request, f"page not found: {message.page_not_found.page_name}")
        elif kind == "auto_rerun":
            if self.auto_reruns:
                self._start_timer(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "script_finished":
            run_id = message.metadata.run.script_run_id
            status = message.script_finished
            if run_id == self._running and status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._running = None
                self._finished_at = now
                self._idle.set()
            if (request is not None and run_id in request.run_ids and status != ForwardMsg.FINISHED_EARLY_FOR_RERUN
                    and not request.done.done()):
                request.load.seconds = now - request.load.started
                request.load.status = _status_name(status)
                if status not in SUCCESSFUL_ENDS:
                    request.load.errors.append(f"script finished: {_status_name(status)}")
                request.done.set_result(None)

    def _add_page(self, page) -> None:
        self.pages[page.url_pathname] = page.page_script_hash
        self.pages[page.page_name] = page.page_script_hash
        self.pages[page.page_name.lower()] = page.page_script_hash
        self.page_names[page.page_script_hash] = page.url_pathname or page.page_name

    def _look_at(self, element, request) -> None:
        kind = element.WhichOneof("type")
        if self.watch and kind in ("alert", "markdown", "progress", "text"):
            body = element.progress.text if kind == "progress" else getattr(element, kind).body
            for text in self.watch:
                if text in body:
                    self.seen[text] += 1
        if kind == "exception":
            self._error(request, f"exception on {self.page}: {element.exception.type}: {element.exception.message[:200]}")
        elif kind == "alert" and APP_ERROR_TEXT in element.alert.body:
            self._error(request, f"the app's error on {self.page}: {element.alert.body[:120]}")
        elif kind == "html":
            found = WORKSPACE_IN_HTML.search(element.html.body)
            if found:
                self.workspace = found.group(1)
                self.cookies[WORKSPACE_COOKIE] = self.workspace
        elif kind in ("checkbox", "radio", "selectbox", "text_input"):
            self._remember_widget(element)

    def _error(self, request, text: str) -> None:
        if request is not None and not request.done.done():
            request.load.errors.append(text)
        else:
            self.errors.append(text)  # shown by a tick or a run nobody waits for

    # -- a fragment's run_every timer ------------------------------------------------------------

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or interval <= 0:
            return
        current = self._timers.get(fragment_id)
        if current is not None and current[0] == interval:
            return
        self._stop_timer(fragment_id)
        self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    def _stop_timer(self, fragment_id: str) -> None:
        entry = self._timers.pop(fragment_id, None)
        if entry is not None:
            entry[1].cancel()

    def _stop_timers(self) -> None:
        for fragment_id in list(self._timers):
            self._stop_timer(fragment_id)

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """The browser's setInterval: the fragment's rerun every `interval` seconds, with the widget states."""
        while True:
            await asyncio.sleep(interval)
            if self._ws is None or self._request is not None:
                continue
            self.ticks += 1
            try:
                if self.on_tick is None:
                    await self._send_rerun(page_hash=self.page_hash, fragment_id=fragment_id,
                                           widgets=self._widget_states(), auto=True)
                else:  # measured like any request (the tick's own run, to its script_finished)
                    load = Load("tick", self.page, self.page, time.perf_counter())
                    request = _Request(load, asyncio.get_running_loop().create_future())
                    self._request = request
                    await self._send_rerun(page_hash=self.page_hash, fragment_id=fragment_id,
                                           widgets=self._widget_states(), auto=True)
                    try:
                        await asyncio.wait_for(asyncio.shield(request.done), LOAD_TIMEOUT_SECONDS)
                    finally:
                        if self._request is request:
                            self._request = None
                    self.on_tick(load)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001  the connection went: the reader says so
                return


def percentile(values, share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95) of `values`; NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * share // 1))  # ceil
    return ordered[int(rank) - 1]


def process_figures(pid: int) -> dict:
    """The process's resident high-water mark (MiB) and CPU seconds so far, from /proc (Linux)."""
    peak = None
    for line in open(f"/proc/{pid}/status").read().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime (fields 14 and 15 of stat)
    return {"peak_mib": peak, "cpu_seconds": cpu}


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat, Linux): what the server
    and the client did not use of it in a phase was other work on the machine, which a reader of the
    figures should know about."""
    values = [int(value) for value in open("/proc/stat").readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
