"""A small live line chart drawn with QPainter (PySide6-Essentials ships no QtCharts).

The chart keeps a fixed number of samples per series in ring buffers, so appending one
sample a second for hours costs constant memory and each repaint draws at most
``capacity`` points per series.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

_MARGIN = 6
_LEGEND_GAP = 10


@dataclass
class Series:
    """One line of the chart.

    Attributes:
        name: shown in the legend with the latest value.
        color: line colour; a filled series gets the same colour, translucent.
        filled: paint the area under the line.
        dashed: draw a dashed line (used for limits such as the pool size).
    """

    name: str
    color: QColor
    filled: bool = False
    dashed: bool = False
    values: deque[float] = field(default_factory=deque)


class SparklineChart(QWidget):
    """A titled chart of one or more series sharing a y axis that starts at zero.

    Args:
        title: text drawn at the top left.
        series: ``(name, colour)`` pairs, or :class:`Series` objects for more control.
        capacity: how many samples each series keeps (one a second: 180 = three minutes).
        unit: appended to the values in the legend and on the axis ("ms", "/s").
        decimals: digits after the point in the legend.
        time_span: what the full width stands for ("5 min"), written at the bottom left.
    """

    def __init__(
        self,
        title: str,
        series: Sequence[Series | tuple[str, str]],
        *,
        capacity: int = 180,
        unit: str = "",
        decimals: int = 0,
        time_span: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._title = title
        self._time_span = time_span
        self._unit = unit
        self._decimals = decimals
        self._capacity = capacity
        self._series = [self._make_series(item) for item in series]
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(90)
        self.setAccessibleName(title)

    def _make_series(self, item: Series | tuple[str, str]) -> Series:
        if isinstance(item, Series):
            item.values = deque(item.values, maxlen=self._capacity)
            return item
        name, color = item
        return Series(name, QColor(color), values=deque(maxlen=self._capacity))

    # -- data -----------------------------------------------------------------

    @property
    def title(self) -> str:
        return self._title

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def sample_count(self) -> int:
        """Samples held (the same for every series)."""
        return len(self._series[0].values) if self._series else 0

    def series_names(self) -> list[str]:
        return [s.name for s in self._series]

    def values(self, name: str) -> list[float]:
        """The samples of one series, oldest first."""
        return list(self._by_name(name).values)

    def latest(self, name: str) -> float | None:
        values = self._by_name(name).values
        return values[-1] if values else None

    def append(self, *values: float) -> None:
        """Add one sample per series, in the order the series were given.

        ``math.nan`` means "no value" (no query ran, so there is no latency): the line
        has a gap there rather than dropping to zero.
        """
        if len(values) != len(self._series):
            raise ValueError(f"{self._title}: expected {len(self._series)} values")
        for series, value in zip(self._series, values, strict=True):
            series.values.append(float(value))
        self.update()

    def clear(self) -> None:
        for series in self._series:
            series.values.clear()
        self.update()

    def _by_name(self, name: str) -> Series:
        for series in self._series:
            if series.name == name:
                return series
        raise KeyError(name)

    # -- painting -------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(320, 120)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 90)

    def format_value(self, value: float) -> str:
        text = f"{value:,.{self._decimals}f}"
        return f"{text} {self._unit}".rstrip() if self._unit else text

    def _scale_max(self) -> float:
        finite = [v for s in self._series for v in s.values if math.isfinite(v)]
        peak = max(finite, default=0.0)
        return _nice_ceiling(peak)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        font = QFont(self.font())
        metrics = QFontMetrics(font)
        line = metrics.height()
        top = _MARGIN + line + 4
        plot = QRectF(_MARGIN, top, self.width() - 2 * _MARGIN, self.height() - top - _MARGIN)
        self._paint_header(painter, metrics)
        if plot.height() < 10 or plot.width() < 10:
            painter.end()
            return
        scale = self._scale_max()
        self._paint_grid(painter, plot, scale, metrics)
        for series in self._series:
            self._paint_series(painter, plot, series, scale)
        painter.end()

    def _paint_header(self, painter: QPainter, metrics: QFontMetrics) -> None:
        text_color = self.palette().text().color()
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        y = _MARGIN + metrics.ascent()
        painter.drawText(_MARGIN, y, self._title)
        painter.setFont(self.font())
        x = float(self.width() - _MARGIN)
        for series in reversed(self._series):
            latest = series.values[-1] if series.values else math.nan
            shown = self.format_value(latest) if math.isfinite(latest) else "–"
            label = f"{series.name} {shown}"
            width = metrics.horizontalAdvance(label)
            x -= width
            painter.setPen(series.color)
            painter.drawText(QPointF(x, y), label)
            x -= _LEGEND_GAP

    def _paint_grid(
        self, painter: QPainter, plot: QRectF, scale: float, metrics: QFontMetrics
    ) -> None:
        grid = QColor(self.palette().mid().color())
        grid.setAlpha(90)
        painter.setPen(QPen(grid, 1))
        for fraction in (0.0, 0.5, 1.0):
            y = plot.bottom() - fraction * plot.height()
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        label_color = QColor(self.palette().text().color())
        label_color.setAlpha(150)
        painter.setPen(label_color)
        axis = f"{scale:,.0f}" if scale >= 10 else f"{scale:g}"
        if self._unit:
            axis += f" {self._unit}"
        painter.drawText(QPointF(plot.left() + 2, plot.top() + metrics.ascent()), axis)
        if self._time_span:
            painter.drawText(
                QPointF(plot.left() + 2, plot.bottom() - metrics.descent() - 1),
                f"last {self._time_span}",
            )

    def _paint_series(self, painter: QPainter, plot: QRectF, series: Series, scale: float) -> None:
        pen = QPen(series.color, 1.6)
        if series.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        fill = QColor(series.color)
        fill.setAlpha(50)
        for points in _segments(series.values, plot, scale, self._capacity):
            path = QPainterPath(points[0])
            for point in points[1:]:
                path.lineTo(point)
            if series.filled and len(points) > 1:
                area = QPainterPath(path)
                area.lineTo(points[-1].x(), plot.bottom())
                area.lineTo(points[0].x(), plot.bottom())
                area.closeSubpath()
                painter.fillPath(area, fill)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                painter.drawPath(path)


def _segments(
    values: deque[float], plot: QRectF, scale: float, capacity: int
) -> list[list[QPointF]]:
    """Runs of finite samples as points; the newest sample sits at the right edge and the
    x step is fixed, so the chart scrolls left as samples arrive."""
    step = plot.width() / max(capacity - 1, 1)
    start = plot.right() - step * (len(values) - 1)
    segments: list[list[QPointF]] = []
    current: list[QPointF] = []
    for i, value in enumerate(values):
        if not math.isfinite(value):
            if current:
                segments.append(current)
            current = []
            continue
        y = plot.bottom() - min(max(value, 0.0) / scale, 1.0) * plot.height()
        current.append(QPointF(start + i * step, y))
    if current:
        segments.append(current)
    return segments


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least ``value`` (1 for empty charts)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude
