"""Whether the process behind a "running" run or job is still alive.

A process that is killed outright (SIGKILL, a power cut, the OOM killer) cannot record that it stopped, so its
run or job would stay "running" forever, and a second server sharing the database cannot tell it from one that
is still working. So each run and job names its owner ("host:pid:token") and the owner writes a heartbeat
every HEARTBEAT_S seconds while it works. Another process counts it as dead (an orphan) when:

* the owner is on this host and its pid is no longer alive (seen at once: a restarted server takes up the job
  its predecessor left, without waiting), or
* its heartbeat is older than stale_after_s() (the owner is on another machine, or its pid was reused).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from typing import Callable

from discourse.settings import stale_after_s

log = logging.getLogger(__name__)

#: Seconds between heartbeats.
HEARTBEAT_S = 10.0

_TOKEN = uuid.uuid4().hex[:8]


def process_owner() -> str:
    """This process as an owner: "host:pid:token" (the token tells this process from an earlier one that had
    the same pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    except OSError:
        return True
    return True


def _as_utc(value: dt.datetime) -> dt.datetime:
    # SQLite gives back naive datetimes; every timestamp the store writes is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def is_orphan(owner: str | None, heartbeat_at: dt.datetime | None, stale_after: float | None = None,
              now: dt.datetime | None = None) -> bool:
    """Whether a "running" row with this owner and last heartbeat belongs to a process that is gone."""
    now = now or dt.datetime.now(dt.timezone.utc)
    stale_after = stale_after_s() if stale_after is None else stale_after
    if heartbeat_at is None or (now - _as_utc(heartbeat_at)).total_seconds() > stale_after:
        return True
    host, _, rest = (owner or "").partition(":")
    pid, _, token = rest.partition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return False  # this process (or an earlier one with its pid, which the heartbeat will tell)
        return not _pid_alive(int(pid))
    return False


class Heartbeat:
    """Calls `beat()` every `every_s` seconds in a daemon thread while the `with` block runs. A failing beat
    (the database away for a moment) is logged and retried at the next one; it never stops the work."""

    def __init__(self, beat: Callable[[], None], every_s: float = HEARTBEAT_S):
        self.beat, self.every_s = beat, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried; the work goes on
                log.warning("heartbeat failed", exc_info=True)

    def __enter__(self) -> "Heartbeat":
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every_s + 5)


class Interrupted(Exception):
    """The work was taken away from this process (its job was handed to another server): stop, record the run
    as interrupted, and leave the job alone."""
