"""Values of the ``size:`` and ``modified:`` search filters: parsing and describing them.

Both filters accept ``>``, ``>=``, ``<``, ``<=``, ``=`` (or no operator, meaning ``=``) and
ranges ``A..B`` (inclusive), ``A..`` and ``..B``. Every form is reduced to one interval so
the SQL side has a single shape to compile:

* sizes to whole bytes ``[minimum, maximum]`` (fractions like ``1.5KB`` allowed, rounded
  inward so ``>0.1KiB`` means 103 bytes or more);
* dates to days ``[start, end)``: a date names a whole period (``2024`` is the year,
  ``2024-03`` the month) so ``modified:2024-03`` is March and ``<=2024-03`` is up to its end.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from fractions import Fraction

from filemeta_gui.domain.errors import QuerySyntaxError

SIZE_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
# Units tried when describing a size, largest first: only exact multiples are shown so the
# text reads back to the same number of bytes.
_DESCRIBE_UNITS = (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3))
_OPERATOR = re.compile(r"(>=|<=|>|<|=)?(.*)", re.DOTALL)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
MIN_YEAR, MAX_YEAR = 1000, 9998
SIZE_HINT = "Sizes look like size:>10MB, size:<=2GiB or size:1MB..5MB."
DATE_HINT = "Dates look like modified:<2024-01-01, modified:2024-03 or modified:2023..2024."


def parse_size(text: str, pos: int) -> tuple[int | None, int | None]:
    """``(minimum, maximum)`` bytes, inclusive, for the value of ``size:`` at ``pos``."""
    operator, low, high = _split(text, pos, SIZE_HINT)
    if operator is None:
        minimum = None if low is None else math.ceil(_bytes(low[0], low[1]))
        maximum = None if high is None else math.floor(_bytes(high[0], high[1]))
        if minimum is not None and maximum is not None and minimum > maximum:
            raise QuerySyntaxError(f"The size range {text.strip()} is empty. {SIZE_HINT}", pos)
        return minimum, maximum
    assert low is not None
    value = _bytes(low[0], low[1])
    if operator == ">":
        return math.floor(value) + 1, None
    if operator == ">=":
        return math.ceil(value), None
    if operator == "<":
        if value <= 0:
            raise QuerySyntaxError("No file is smaller than 0 bytes.", pos)
        return None, math.ceil(value) - 1
    if operator == "<=":
        return None, math.floor(value)
    if value.denominator != 1:
        raise QuerySyntaxError(f"{text.strip()} is not a whole number of bytes.", pos)
    return int(value), int(value)


def parse_modified(text: str, pos: int) -> tuple[date | None, date | None]:
    """``(start, end)`` days, end exclusive, for the value of ``modified:`` at ``pos``."""
    operator, low, high = _split(text, pos, DATE_HINT)
    if operator is None:
        start = None if low is None else _period(low[0], low[1])[0]
        end = None if high is None else _period(high[0], high[1])[1]
        if start is not None and end is not None and start >= end:
            raise QuerySyntaxError(f"The date range {text.strip()} is empty. {DATE_HINT}", pos)
        return start, end
    assert low is not None
    first, after = _period(low[0], low[1])
    return {
        ">": (after, None),
        ">=": (first, None),
        "<": (None, first),
        "<=": (None, after),
        "=": (first, after),
    }[operator]


def describe_size(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and minimum == maximum:
        return f"={_size_text(minimum)}"
    if maximum is None:
        return f">={_size_text(minimum or 0)}"
    if minimum is None:
        return f"<={_size_text(maximum)}"
    return f"{_size_text(minimum)}..{_size_text(maximum)}"


def describe_period(start: date | None, end: date | None) -> str:
    if start is None:
        return f"<{end.isoformat()}" if end else ">=1000"
    if end is None:
        return f">={start.isoformat()}"
    last = end - timedelta(days=1)
    if start.month == 1 and start.day == 1 and end == date(start.year + 1, 1, 1):
        return str(start.year)
    if start.day == 1 and end == _next_month(start.year, start.month):
        return f"{start.year:04d}-{start.month:02d}"
    if start == last:
        return start.isoformat()
    return f"{start.isoformat()}..{last.isoformat()}"


# --- helpers --------------------------------------------------------------------------------

_Part = tuple[str, int]
"""A piece of the value and its offset in the whole query."""


def _split(text: str, pos: int, hint: str) -> tuple[str | None, _Part | None, _Part | None]:
    """``(operator, low, high)``: an operator with its operand in ``low``, or a range.

    A bare value (no operator, no ``..``) is returned as the operator ``=``.
    """
    match = _OPERATOR.fullmatch(text)
    assert match is not None
    operator, rest = match.group(1), match.group(2)
    rest_pos = pos + (len(operator) if operator else 0)
    if ".." not in rest:
        if not rest.strip():
            raise QuerySyntaxError(
                f"A value is missing after {operator or 'the colon'}. {hint}", pos
            )
        return operator or "=", (rest, rest_pos), None
    if operator:
        raise QuerySyntaxError(f"Use either {operator} or a range with .., not both. {hint}", pos)
    left, _, right = rest.partition("..")
    if ".." in right or not (left.strip() or right.strip()):
        raise QuerySyntaxError(f"A range needs one '..' and at least one end. {hint}", pos)
    low = (left, rest_pos) if left.strip() else None
    high = (right, rest_pos + len(left) + 2) if right.strip() else None
    return None, low, high


def _bytes(text: str, pos: int) -> Fraction:
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise QuerySyntaxError(f"{text.strip()!r} is not a size. {SIZE_HINT}", pos)
    number, unit = match.groups()
    if unit not in SIZE_UNITS:
        raise QuerySyntaxError(
            f"Unknown size unit {unit!r}: use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB.", pos
        )
    return Fraction(number) * SIZE_UNITS[unit]


def _period(text: str, pos: int) -> tuple[date, date]:
    """First day of the period named by ``text`` and the first day after it."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise QuerySyntaxError(f"{text.strip()!r} is not a date. {DATE_HINT}", pos)
    year, month, day = (int(group) if group else None for group in match.groups())
    assert year is not None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise QuerySyntaxError(f"The year {year} is out of range ({MIN_YEAR}–{MAX_YEAR}).", pos)
    try:
        if month is None:
            return date(year, 1, 1), date(year + 1, 1, 1)
        if day is None:
            return date(year, month, 1), _next_month(year, month)
        first = date(year, month, day)
    except ValueError:
        raise QuerySyntaxError(f"{text.strip()} is not a valid date. {DATE_HINT}", pos) from None
    return first, first + timedelta(days=1)


def _next_month(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def _size_text(size: int) -> str:
    for unit, factor in _DESCRIBE_UNITS:
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
