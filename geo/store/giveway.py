"""Reads that give way: a long read stops as soon as its answer is no longer wanted.

At 1,000,000 events the numbers under the map take the store seconds (SQLite, measured:
timeline 1.1-1.5 s, proximity counts 3.3-4.5 s for the whole span). When the user changes the
period meanwhile, Streamlit starts the new run at once (its "fast reruns") and abandons the old
one, but the old run's SQL goes on to its end: seconds of a core on a two-core server, and a
pooled connection on PostgreSQL, for an answer nobody will see. With twenty readers switching
periods, such orphans pile up.

The caller says what "no longer wanted" means: inside `give_way(stop)`, the stores' reads
(`SQLiteStore._read`, `PostgresStore._read`) poll `stop()` while their SQL runs and raise
`geo.errors.Superseded` when it returns True:
- SQLite: a progress handler (sqlite3's `set_progress_handler`) asks every PROGRESS_STEPS
  virtual-machine steps; returning True makes SQLite abandon the statement ("interrupted").
- PostgreSQL: a watcher thread asks every POLL_S seconds and sends the server a cancel
  request (psycopg's `cancel_safe`); the connection is then closed, not returned to the
  pool, so a late cancel can never hit someone else's query.

Only reads give way: writes (imports, undos, accounts) always run to their commit or rollback.
Outside `give_way` nothing is polled. geo/ stays free of Streamlit: the app passes the check
(geo.ui.superseded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from geo.errors import Superseded

# SQLite virtual-machine steps between two checks (a few hundred microseconds of work).
PROGRESS_STEPS = 20_000
# Seconds between two checks of the PostgreSQL watcher.
POLL_S = 0.05

_local = threading.local()


@contextmanager
def give_way(stop: Callable[[], bool]) -> Iterator[None]:
    """Inside the block, this thread's store reads stop (raising Superseded) once `stop()`
    returns True. Blocks nest: the innermost check applies."""
    before = getattr(_local, "stop", None)
    _local.stop = stop
    try:
        yield
    finally:
        _local.stop = before


def current() -> Callable[[], bool] | None:
    """This thread's check, or None outside `give_way`."""
    return getattr(_local, "stop", None)


def check(stop: Callable[[], bool] | None) -> None:
    """Raise Superseded now if `stop` says so (before a read starts any work)."""
    if stop is not None and stop():
        raise Superseded("the read was no longer wanted")


class Watcher:
    """A thread that calls `cancel()` once, when `stop()` turns True, until `close()`."""

    def __init__(self, stop: Callable[[], bool], cancel: Callable[[], None]) -> None:
        self.fired = False
        self._stop = stop
        self._cancel = cancel
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nkmap-give-way", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(POLL_S):
            if self._stop():
                self.fired = True
                self._cancel()
                return

    def close(self) -> None:
        """Stop watching; returns once the thread has ended (a cancel it sent has been sent)."""
        self._done.set()
        self._thread.join()
