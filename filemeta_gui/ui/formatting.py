"""Human-readable sizes, dates and counts for the window (pure functions, no Qt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB")


def human_size(size: int | None) -> str:
    """``1536`` → ``"1.5 KB"`` (binary multiples, as file managers show them)."""
    if size is None:
        return ""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    digits = 0 if value >= 100 else 1
    return f"{value:.{digits}f} {_UNITS[unit]}"


def exact_size(size: int) -> str:
    """``"1.2 MB (1,234,567 bytes)"`` for the detail pane."""
    if size < 1024:
        return human_size(size)
    return f"{human_size(size)} ({size:,} bytes)"


def human_time(moment: datetime | None, now: datetime | None = None) -> str:
    """Local time: ``"Today 14:03"``, ``"Yesterday 09:12"`` or ``"12 Mar 2024 14:03"``."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).astimezone().date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"Today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"Yesterday {clock}"
    return f"{local.day} {local.strftime('%b %Y')} {clock}"


def full_time(moment: datetime | None) -> str:
    """Unambiguous local timestamp with its offset, for tooltips and the detail pane."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def count_noun(count: int, singular: str, plural: str | None = None) -> str:
    """``count_noun(2, "file")`` → ``"2 files"``."""
    word = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {word}"


def human_duration(seconds: float | None) -> str:
    """``75`` → ``"1 min 15 s"``; empty when unknown."""
    if seconds is None or seconds < 0 or seconds != seconds:  # NaN
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
