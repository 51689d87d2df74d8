"""Run an idempotent unit of work again, once, after the connection dropped under it.

When the server restarts or the network drops, the pool hands out fresh connections
again (pre-ping, invalidation), but the unit of work that was running fails with
:class:`ConnectionLostError`. If that work is idempotent (tagging and untagging, grants,
restores: set-based writes that mean the same thing twice), running it once more is
safe *even if the first try did commit* (the error can come while the COMMIT's answer
was on its way back). Work that is not idempotent (creating something new, an edit
checked against a version) must not go through here: show the error instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from filemeta_gui.domain.errors import ConnectionLostError

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_DELAY_S = 0.2
"""A moment for a restarting server to accept connections again."""


async def retry_once(
    work: Callable[[], Awaitable[T]],
    *,
    delay_s: float = RETRY_DELAY_S,
    on_retry: Callable[[ConnectionLostError], None] | None = None,
) -> T:
    """``await work()``; if it fails with ConnectionLostError, wait ``delay_s`` and once more.

    Args:
        work: builds a new coroutine per call (a coroutine cannot be awaited twice), e.g.
            ``lambda: services.tags.attach(["x"], ids)``.
        on_retry: told about the first failure (a status line: "reconnecting…").

    Raises:
        ConnectionLostError: the second try failed too; its message is fit for a person.
    """
    try:
        return await work()
    except ConnectionLostError as error:
        log.info("connection lost, retrying once: %s", error)
        if on_retry is not None:
            on_retry(error)
    await asyncio.sleep(delay_s)
    return await work()
