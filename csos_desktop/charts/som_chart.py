"""A family's order history as a QtCharts chart: past orders, the baseline band, this order.

Drawn for both front ends: the GUI's SOM panel shows it, `csos som report --chart` saves
it as a PNG offscreen. Here, outside ``gui``, so the CLI does not import the GUI.

The same numbers as `csos som report` (``som.series.family_series``): the band
is the quartiles of the baseline each order met, the line its median (or the
policy floor while history is thin), the dashed line where a warning starts.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from PySide6.QtCharts import (
    QAreaSeries,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QDateTime, QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QApplication

from csos_desktop.charts.tone import Tone
from csos_desktop.som import Decision
from csos_desktop.som.series import FamilySeries

_DAY_MS = 86_400_000
DECISION_TONE = {Decision.OK: Tone.OK, Decision.WARN: Tone.WARN, Decision.INTERCEPT: Tone.BAD}


def _ms(day: int) -> float:
    return float(day) * _DAY_MS


def _line(
    name: str,
    xs: list[float],
    ys: list[float],
    colour: str,
    dashed: bool = False,
    width: float = 1.5,
) -> QLineSeries:
    s = QLineSeries()
    s.setName(name)
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(y):
            s.append(x, y)
    pen = QPen(QColor(colour))
    pen.setWidthF(width)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    s.setPen(pen)
    return s


def _scale_top(series: FamilySeries, units: list[float]) -> float:
    """The y axis fits the orders and the limits that apply to this order.

    The policy floor of the first months (thin history) can be far above later
    baselines; scaling to it squashed every later order into the bottom of the chart.
    """
    last = float(series.base[-1]) if len(series.base) else math.nan
    limits = [series.warn_multiplier]
    if series.intercept_multiplier is not None:
        limits.append(series.intercept_multiplier)
    at_this_order = [last * m for m in limits] if math.isfinite(last) else []
    return max([*units, *at_this_order], default=1.0)


def build_chart(series: FamilySeries, title: str, decision: Decision) -> QChart:
    """Past orders as points, the baseline band and lines, and this order highlighted."""
    chart = QChart()
    chart.setTitle(title)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    font = chart.legend().font()
    font.setPointSizeF(font.pointSizeF() * 0.85)  # five entries fit under a narrow panel
    chart.legend().setFont(font)
    chart.setMargins(QMargins(4, 4, 4, 4))
    n = len(series.day)
    xs = [_ms(int(d)) for d in series.day]
    units = [float(u) for u in series.units]
    q1 = _line("", xs, [float(v) for v in series.q1], "#7a9cc6")
    q3 = _line("", xs, [float(v) for v in series.q3], "#7a9cc6")
    band = QAreaSeries(q3, q1)
    # The area keeps raw pointers to its bounding lines: they must live as long as it does.
    q1.setParent(band)
    q3.setParent(band)
    band.setName("quartiles")
    band.setColor(QColor(122, 156, 198, 70))
    band.setBorderColor(QColor(122, 156, 198, 120))
    base = _line("median", xs, [float(v) for v in series.base], "#1f3b63")
    warn = _line(
        f"warn {series.warn_multiplier:g}×",
        xs,
        [float(v) * series.warn_multiplier for v in series.base],
        Tone.WARN.value,
        dashed=True,
    )
    lines = [band, base, warn]
    if series.intercept_multiplier is not None:
        lines.append(
            _line(
                f"hold {series.intercept_multiplier:g}×",
                xs,
                [float(v) * series.intercept_multiplier for v in series.base],
                Tone.BAD.value,
                dashed=True,
            )
        )
    past = QScatterSeries()
    past.setName("past orders")
    past.setMarkerSize(7)
    past.setColor(QColor("#7a9cc6"))
    for x, y in zip(xs[:-1], units[:-1], strict=True):
        past.append(QPointF(x, y))
    this = QScatterSeries()
    this.setName(f"this order ({decision.value})")
    this.setMarkerSize(14)
    this.setColor(QColor(DECISION_TONE[decision].value))
    if n:
        this.append(QPointF(xs[-1], units[-1]))
    shown = [*lines, past, this]
    for s in shown:
        chart.addSeries(s)
    axis_x = QDateTimeAxis()
    axis_x.setFormat("MMM yyyy")
    axis_x.setTitleText("order date")
    axis_y = QValueAxis()
    axis_y.setTitleText("dosage units per order")
    top = _scale_top(series, units)
    axis_y.setRange(0, top * 1.1 or 1.0)
    axis_y.setLabelFormat("%.0f")
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    if n:
        pad = 7 * _DAY_MS
        lo, hi = min(xs) - pad, max(xs) + pad
        axis_x.setRange(
            QDateTime.fromMSecsSinceEpoch(int(lo)), QDateTime.fromMSecsSinceEpoch(int(hi))
        )
    for s in shown:
        s.attachAxis(axis_x)
        s.attachAxis(axis_y)
    # Six entries do not fit under a narrow panel: the band explains itself (tooltip-free).
    for marker in chart.legend().markers(band):
        marker.setVisible(False)
    return chart


def save_chart_png(chart: QChart, path: Path, width: int = 990, height: int = 460) -> None:
    """Render *chart* to a PNG file without a window (`csos som report`).

    Needs a QApplication; `ensure_offscreen_app` makes one for the command line.
    Raises OSError when the file cannot be written.
    """
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.resize(width, height)
    if not view.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")


def ensure_offscreen_app() -> QApplication:
    """The running QApplication, or a new one on the offscreen platform (no display needed)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a file is drawn, no window is shown
    return QApplication([sys.argv[0] if sys.argv else "csos"])
