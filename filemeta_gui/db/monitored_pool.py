"""A queue pool that reports how long callers wait for a connection.

SQLAlchemy's pool events say when a connection is handed out, not how long the caller
waited for it, nor how many callers are waiting right now. Both are measured here, around
``Pool.connect()``: from the request to a usable connection, which includes waiting for a
free one, opening an overflow connection and the pre-ping.
"""

from __future__ import annotations

import time
from typing import Protocol

from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection, QueuePool


class PoolObserver(Protocol):
    def checkout_started(self) -> None: ...

    def checkout_finished(self, seconds: float, *, succeeded: bool, timed_out: bool) -> None: ...

    def overflow_opened(self) -> None: ...


class MonitoredQueuePool(AsyncAdaptedQueuePool):
    """``AsyncAdaptedQueuePool`` plus checkout timing for an optional observer.

    ``recreate()`` (what ``engine.dispose()`` calls) hands the observer to the new pool.
    """

    observer: PoolObserver | None = None

    def connect(self) -> PoolProxiedConnection:
        observer = self.observer
        if observer is None:
            return super().connect()
        observer.checkout_started()
        started = time.perf_counter()
        succeeded = timed_out = False
        try:
            connection = super().connect()
            succeeded = True
            return connection
        except sa_exc.TimeoutError:
            timed_out = True
            raise
        finally:
            observer.checkout_finished(
                time.perf_counter() - started, succeeded=succeeded, timed_out=timed_out
            )

    def _inc_overflow(self) -> bool:
        opened = super()._inc_overflow()
        # _overflow counts up from -pool_size: above zero the new connection is an overflow.
        if opened and self._overflow > 0 and self.observer is not None:
            self.observer.overflow_opened()
        return opened

    def recreate(self) -> QueuePool:
        pool = super().recreate()
        if isinstance(pool, MonitoredQueuePool):
            pool.observer = self.observer
        return pool
