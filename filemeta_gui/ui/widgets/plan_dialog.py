"""A query plan as a tree: one row per step, with time, rows and cost where known."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.monitoring import PlanNode, QueryPlan, SlowQuery

COLUMNS = ("Step", "Time", "Rows", "Estimated rows", "Cost")
_HOT = QColor("#fde7e4")


class PlanDialog(QDialog):
    """Shows ``plan`` for the slow query ``query``; the hottest step is tinted."""

    def __init__(self, query: SlowQuery, plan: QueryPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("planDialog")
        self.setWindowTitle("Query plan")
        self.plan = plan
        summary = QLabel(self._summary(query, plan))
        summary.setWordWrap(True)
        statement = QPlainTextEdit(plan.statement or query.statement)
        statement.setReadOnly(True)
        statement.setMaximumHeight(90)
        self.tree = QTreeWidget()
        self.tree.setObjectName("planTree")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self._fill(plan.root)
        self.tree.expandAll()
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy as text", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_as_text)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(statement)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.resize(760, 520)

    @staticmethod
    def _summary(query: SlowQuery, plan: QueryPlan) -> str:
        parts = [f"Took {query.duration_seconds * 1000:,.1f} ms"]
        if query.operation:
            parts.append(f"in {query.operation}")
        parts.append(f"at {query.started_at.astimezone():%H:%M:%S}.")
        if plan.analyzed:
            parts.append(
                "The plan below was measured by running the query again "
                "(its changes were rolled back)."
            )
        else:
            parts.append("The plan below is the server's estimate (the query was not run).")
        if plan.planning_ms is not None and plan.execution_ms is not None:
            parts.append(
                f"Planning {plan.planning_ms:.2f} ms, execution {plan.execution_ms:.2f} ms."
            )
        return " ".join(parts)

    def _fill(self, root: PlanNode) -> None:
        hottest = max(
            (n for n in root.walk() if n.actual_ms is not None and n is not root),
            key=lambda n: n.actual_ms or 0.0,
            default=None,
        )
        self.tree.addTopLevelItem(self._item(root, hottest))

    def _item(self, node: PlanNode, hottest: PlanNode | None) -> QTreeWidgetItem:
        item = QTreeWidgetItem(
            [
                node.label,
                f"{node.actual_ms:,.3f} ms" if node.actual_ms is not None else "",
                f"{node.actual_rows:,.0f}" if node.actual_rows is not None else "",
                f"{node.plan_rows:,.0f}" if node.plan_rows is not None else "",
                f"{node.total_cost:,.2f}" if node.total_cost is not None else "",
            ]
        )
        if node.details:
            item.setToolTip(0, "\n".join(f"{key}: {value}" for key, value in node.details))
        for column in range(1, len(COLUMNS)):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
        if node is hottest:
            for column in range(len(COLUMNS)):
                item.setBackground(column, QBrush(_HOT))
        for child in node.children:
            item.addChild(self._item(child, hottest))
        return item

    def copy_as_text(self) -> None:
        QGuiApplication.clipboard().setText(self.plan.render())
