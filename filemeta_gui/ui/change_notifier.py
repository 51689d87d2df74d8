"""``ChangeNotifier``: the change feed as Qt signals, for the main window.

It runs :class:`~filemeta_gui.services.changes.ChangeFeed` as one asyncio task on the
qasync loop (kept in ``self._task``: qasync does not keep a reference, and an unreferenced
task can be garbage-collected mid-run) and turns its events into signals:

* ``changed(ChangeEvent)`` for every change, at once;
* ``status(str)`` with a sentence for the status bar ("reconnecting…");
* ``refresh(RefreshPlan)``: the changes of the last ``debounce_ms`` merged into what the
  window should reload, so a burst of 200 notifications costs one refresh. After a
  reconnect the plan says "everything" (changes made meanwhile were not told).

Wiring (the window's owner)::

    notifier = ChangeNotifier(ChangeFeed(services.database, services.policy), parent=window)
    notifier.refresh.connect(window.apply_refresh)
    notifier.status.connect(window.statusBar().showMessage)
    notifier.start()
    ...
    await notifier.stop()   # before services.close()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable

from PySide6.QtCore import QObject, QTimer, Signal

from filemeta_gui.domain.changes import (
    ChangeEvent,
    ConnectionState,
    Event,
    StatusEvent,
    plan_refresh,
)

log = logging.getLogger(__name__)

DEBOUNCE_MS = 100


class ChangeNotifier(QObject):
    changed = Signal(object)
    """A :class:`ChangeEvent` made by another client (or process, on SQLite)."""
    status = Signal(str)
    """A sentence about the live-update connection, for the status bar."""
    refresh = Signal(object)
    """A :class:`RefreshPlan`: what to reload after the last burst of changes."""

    def __init__(
        self,
        feed: AsyncIterable[Event],
        parent: QObject | None = None,
        *,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__(parent)
        self._feed = feed
        self._task: asyncio.Task[None] | None = None
        self._pending: list[Event] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._flush)
        self.state: ConnectionState | None = None
        self.last_status = ""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def connected(self) -> bool:
        return self.state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTED)

    def start(self) -> None:
        """Start listening (on the running qasync loop); a second call does nothing."""
        if self.running:
            return
        self._task = asyncio.get_event_loop().create_task(self._run(), name="change-notifier")

    async def stop(self) -> None:
        """Stop listening and close the listener's connection; safe to call twice."""
        self._timer.stop()
        self._pending.clear()
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        # The feed closes its connection while unwinding: wait, so that happens before
        # the caller disposes the database and the loop stops.
        await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            async for event in self._feed:
                self._deliver(event)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the feed reconnects by itself: this is a bug
            log.exception("live updates stopped")
            self.status.emit(f"Live updates stopped: {error}")

    def _deliver(self, event: Event) -> None:
        if isinstance(event, StatusEvent):
            self.state = event.state
            self.last_status = event.message
            self.status.emit(event.message)
            if not event.needs_full_refresh:
                return
        elif isinstance(event, ChangeEvent):
            self.changed.emit(event)
        self._pending.append(event)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        events, self._pending = self._pending, []
        plan = plan_refresh(events)
        if not plan.empty:
            self.refresh.emit(plan)
