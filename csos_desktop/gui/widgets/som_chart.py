"""The SOM chart as a widget: the chart itself is drawn by ``charts.som_chart``."""

from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView
from PySide6.QtGui import QPainter

from csos_desktop.charts.som_chart import DECISION_TONE, build_chart
from csos_desktop.som import Decision
from csos_desktop.som.series import FamilySeries

__all__ = ["DECISION_TONE", "SomChartView"]


class SomChartView(QChartView):
    """The chart widget; `show_series` replaces what it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setAccessibleName("SOM chart: this family's order history and baseline")
        self.setMinimumHeight(260)
        self.clear()

    def _replace(self, chart: QChart) -> None:
        # setChart releases the old chart without deleting it.
        old = self.chart()
        self.setChart(chart)
        if old is not None and old is not chart:
            old.deleteLater()

    def clear(self, message: str = "No controlled line to chart yet.") -> None:
        chart = QChart()
        chart.setTitle(message)
        self._replace(chart)

    def show_series(self, series: FamilySeries, title: str, decision: Decision) -> None:
        self._replace(build_chart(series, title, decision))
        self.setAccessibleDescription(
            f"{title}: {len(series.day) - 1} past orders; this order "
            f"{int(series.units[-1]) if len(series.units) else 0} units, {decision.value}"
        )
