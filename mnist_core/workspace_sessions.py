"""Which live browser sessions use which workspace, so that a workspace open in two of them is noticed.

Whoever has a workspace's name has its runs: they see them, and Stop stops them. So when a second
browser session opens a workspace another one is using (a student opened the teacher's private link,
two people share a computer and its cookie), both should know. A student's own second tab, or a page
still open after a refresh, is the same thing seen from the server, and it is harmless: the pages say
it in words that fit both cases and block nothing (ui/workspace.py).

Each session is noted on every page run: its workspace, the id of its connection to the server, when
it came to this workspace and when it was last seen. It is known by a token kept in its own session
state, which lives exactly as long as the session; Streamlit's session id would do as well on a
server, but Streamlit's test harness gives every session the same one. The sessions that came later
are the ones offered a workspace of their own: the first is most likely the owner (the teacher whose
link was opened).

Live. Streamlit has no public hook for a session's end, but its runtime knows which sessions have a
browser connected (Runtime.is_active_session, safe from any thread): a closed tab, or the old page of
a refresh, stops counting at once, so a refresh is not taken for a second window. That method is not
in Streamlit's documented API, so the pages ask it through one guarded function
(ui/workspace.py's browser_connected), and tests/test_workspace_sessions.py fails loudly if an upgrade
moves it. Where the runtime cannot answer (the method gone; the test harness, which has no
connections), a session counts as live while it was seen in the last SEEN_RECENTLY_SECONDS. A last-seen
time alone was not chosen as the rule: a refresh's old page would then count as a second window for
as long as that time lasts.

Told. The newcomer is told on its first page run. The session that was there first is told without a
click: the sidebar runs a small heartbeat (a fragment every HEARTBEAT_SECONDS) that notes the session
and looks again, which also keeps every open page seen for the fallback above.

Bounded: the sessions are kept in the server store "workspace sessions" (mnist_core/stores.py), the
least recently seen forgotten first beyond its count; an open page is seen every heartbeat, so only a
page long gone quiet is forgotten. A session neither connected nor seen recently is dropped when
another looks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from mnist_core.stores import ComputedOnce

HEARTBEAT_SECONDS = 15.0  # how soon the first session hears of a newcomer; a fragment run this often costs little
SEEN_RECENTLY_SECONDS = 3 * HEARTBEAT_SECONDS  # without the runtime's answer: live if seen in the last three heartbeats

# Asks whether the browser of a connection (Streamlit's session id) is still connected: True or False,
# or None where that cannot be known.
ConnectionCheck = Callable[[str], bool | None]


@dataclasses.dataclass(frozen=True)
class SessionVisit:
    """One browser session's stay in a workspace."""

    workspace: str
    connection: str  # Streamlit's id for the session: the runtime says whether its browser is still connected
    arrived: float  # when it opened this workspace (time.monotonic): the later comers are offered one of their own
    seen: float  # its last page run or heartbeat

    @property
    def nbytes(self) -> int:
        """What the store counts against its byte budget (stores.size_in_bytes): the two names and two times."""
        return len(self.workspace) + len(self.connection) + 16


@dataclasses.dataclass(frozen=True)
class Company:
    """Who else uses a session's workspace right now."""

    others: int  # other live sessions in the same workspace
    came_later: bool  # this session opened the workspace after one of them: it is offered a workspace of its own


ALONE = Company(others=0, came_later=False)


class WorkspaceSessions:
    """The server's record of which session uses which workspace, kept in `visits` (the store
    "workspace sessions": session token -> SessionVisit)."""

    def __init__(self, visits: ComputedOnce):
        self._visits = visits

    def note(self, session: str, workspace: str, connection: str, now: float) -> SessionVisit:
        """Session `session` uses `workspace` at `now`: on every page run and every heartbeat. Its arrival
        is kept while it stays in the workspace, and starts again when it moves to another."""
        previous = self._visits.peek(session)
        stayed = isinstance(previous, SessionVisit) and previous.workspace == workspace
        visit = SessionVisit(workspace, connection, previous.arrived if stayed else now, now)
        self._visits.put(session, visit)
        return visit

    def company(self, session: str, is_connected: ConnectionCheck, now: float) -> Company:
        """The other live sessions in `session`'s workspace (noted before), and whether it came after one of
        them. Sessions neither connected nor seen recently are forgotten on the way."""
        mine = self._visits.peek(session)
        if not isinstance(mine, SessionVisit):
            return ALONE
        others, came_later = 0, False
        for other, visit in self._visits.items():
            if other == session or not isinstance(visit, SessionVisit):
                continue
            if is_live(visit, is_connected, now):
                if visit.workspace == mine.workspace:
                    others += 1
                    came_later = came_later or (visit.arrived, other) < (mine.arrived, session)
            elif now - visit.seen > SEEN_RECENTLY_SECONDS:
                self._visits.forget(other, visit)
        return Company(others, came_later)


def is_live(visit: SessionVisit, is_connected: ConnectionCheck, now: float) -> bool:
    """Whether the session's browser is still there: the runtime's answer, else seen recently."""
    connected = is_connected(visit.connection)
    return connected if connected is not None else now - visit.seen <= SEEN_RECENTLY_SECONDS
