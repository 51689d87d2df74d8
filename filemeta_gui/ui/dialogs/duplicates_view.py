"""The Duplicates view: review groups of identical files and remove the extra copies.

Groups arrive from ``DuplicateService.groups`` (two queries whatever their number); the
user keeps or marks copies by hand or with a rule, then removes the marked copies from the
library or moves them to the trash after a confirmation that states the bytes. The last
copy of a group can never be marked (the model refuses) nor removed (the service refuses).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.records import DuplicateGroup
from filemeta_gui.domain.removal import RemovalMode, RemovalResult
from filemeta_gui.ui.dialogs.duplicate_rules import KeepRule
from filemeta_gui.ui.dialogs.duplicates_model import (
    FOLDER,
    FREES,
    MODIFIED,
    NAME,
    SIZE,
    DuplicatesModel,
)
from filemeta_gui.ui.dialogs.duplicates_preview import DuplicatePreview
from filemeta_gui.ui.errors import report_exception
from filemeta_gui.ui.formatting import count_noun, human_size
from filemeta_gui.ui.tasks import TaskRegistry
from filemeta_gui.ui.thumbnails import ThumbnailCache

MIN_SIZES = (
    ("Any size", 1),
    ("1 MB or more", 2**20),
    ("10 MB or more", 10 * 2**20),
    ("100 MB or more", 100 * 2**20),
)
ICON_SIZE = 32
GROUPS_SHOWN = 500  # loaded at a time, largest first


class DuplicateSource(Protocol):
    """What the view needs from ``DuplicateService``."""

    async def groups_and_total(
        self, min_size: int = 1, include_empty: bool = False, limit: int | None = None
    ) -> tuple[list[DuplicateGroup], int]: ...

    async def remove(self, file_ids: Sequence[uuid.UUID], mode: RemovalMode) -> RemovalResult: ...


class DuplicatesView(QWidget):
    """Review and clean up duplicate files.

    Attributes:
        loaded: groups were (re)loaded; carries how many.
        removed: copies were removed; carries how many.
        library_changed: removal changed the library (the file list should refresh).
    """

    loaded = Signal(int)
    removed = Signal(int)
    library_changed = Signal()

    def __init__(
        self,
        service: DuplicateSource,
        parent: QWidget | None = None,
        *,
        tasks: TaskRegistry | None = None,
        thumbnails: ThumbnailCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("duplicatesView")
        self._service = service
        # Not "tasks or …": an empty registry is falsy (it has a length).
        self._tasks = tasks if tasks is not None else TaskRegistry(on_error=report_exception)
        self.thumbnails = thumbnails or ThumbnailCache(self._tasks, parent=self)
        self.model = DuplicatesModel(self.thumbnails, self)
        self.model.marks_changed.connect(self._update_summary)
        self.model.refused.connect(self._show_notice)
        self.confirm_box: QMessageBox | None = None
        self._folder: str | None = None
        self.limit = GROUPS_SHOWN
        """How many groups are loaded, those that free the most space first."""
        self.found = 0
        """How many groups there are in all (``limit`` may leave some out)."""
        self._build()
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)  # inside a dialog, Enter must not remove anything
        self._update_summary()

    # -- layout ---------------------------------------------------------------

    def _build(self) -> None:
        self.summary_label = QLabel()
        self.summary_label.setObjectName("duplicatesSummary")
        font = self.summary_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.summary_label.setFont(font)
        self.min_size_combo = QComboBox()
        for label, size in MIN_SIZES:
            self.min_size_combo.addItem(label, size)
        self.min_size_combo.currentIndexChanged.connect(lambda _i: self.refresh(reset=True))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.more_button = QPushButton()
        self.more_button.setToolTip("Load the groups that free less space too")
        self.more_button.clicked.connect(self.show_more)
        self.more_button.hide()
        top = QHBoxLayout()
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.more_button)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.min_size_combo)
        top.addWidget(self.refresh_button)

        self.rule_combo = QComboBox()
        for rule in KeepRule:
            self.rule_combo.addItem(rule.label, rule)
        self.apply_all_button = QPushButton("Apply to all groups")
        self.apply_all_button.clicked.connect(lambda: self.apply_rule(self.current_rule()))
        self.apply_selected_button = QPushButton("Apply to selected")
        self.apply_selected_button.clicked.connect(self._apply_to_selection)
        self.keep_all_button = QPushButton("Keep everything")
        self.keep_all_button.clicked.connect(lambda: self.model.keep_all())
        rules = QHBoxLayout()
        rules.addWidget(QLabel("Rule:"))
        rules.addWidget(self.rule_combo)
        rules.addWidget(self.apply_all_button)
        rules.addWidget(self.apply_selected_button)
        rules.addStretch(1)
        rules.addWidget(self.keep_all_button)

        self.tree = self._build_tree()
        self.preview = DuplicatePreview(self.thumbnails)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([840, 240])

        self.notice_label = QLabel()
        self.notice_label.setObjectName("duplicatesNotice")
        self.notice_label.setStyleSheet("color: #b3261e;")
        self.plan_label = QLabel()
        self.remove_library_button = QPushButton("Remove from library…")
        self.remove_library_button.setToolTip("Forget the marked copies; the files stay on disk")
        self.remove_library_button.clicked.connect(lambda: self.ask_to_remove(RemovalMode.LIBRARY))
        self.trash_button = QPushButton("Move to trash…")
        self.trash_button.setToolTip("Move the marked files to the trash and forget them")
        self.trash_button.clicked.connect(lambda: self.ask_to_remove(RemovalMode.TRASH))
        bottom = QHBoxLayout()
        bottom.addWidget(self.plan_label, 1)
        bottom.addWidget(self.remove_library_button)
        bottom.addWidget(self.trash_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(rules)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.notice_label)
        layout.addLayout(bottom)

    def _build_tree(self) -> QTreeView:
        tree = QTreeView()
        tree.setObjectName("duplicatesTree")
        tree.setModel(self.model)
        tree.setUniformRowHeights(True)  # thousands of groups scroll without measuring rows
        tree.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        tree.setAlternatingRowColors(True)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setAllColumnsShowFocus(True)
        tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep both ends of long paths
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(FOLDER, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(NAME, 250)
        header.resizeSection(SIZE, 80)
        header.resizeSection(MODIFIED, 120)
        header.resizeSection(FREES, 130)
        tree.selectionModel().currentChanged.connect(self._current_changed)
        return tree

    # -- loading --------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._tasks.running("duplicates-load") or self._tasks.running("duplicates-remove")

    def refresh(self, reset: bool = False) -> None:
        """Reload the groups (a running load is replaced); ``reset``: only the first
        :data:`GROUPS_SHOWN` again."""
        if reset:
            self.limit = GROUPS_SHOWN
        self.summary_label.setText("Looking for duplicates…")
        self.more_button.setEnabled(False)
        self._tasks.start(self._load(), key="duplicates-load")

    def show_more(self) -> None:
        """Load the next :data:`GROUPS_SHOWN` groups as well; marks stay."""
        self.limit += GROUPS_SHOWN
        self.refresh()

    async def _load(self) -> None:
        min_size = int(self.min_size_combo.currentData() or 1)
        # The largest groups first and a count of all: at 1M files with 10% copies there
        # are ~80k groups, 11 s to load them all, well under a second for the first 500.
        groups, self.found = await self._service.groups_and_total(
            min_size=min_size, limit=self.limit
        )
        self.model.set_groups(groups)
        for row in range(min(self.model.rowCount(), 50)):
            self.tree.expand(self.model.index(row, 0))
        if self.model.rowCount():
            self.tree.setCurrentIndex(self.model.index(0, 0))
        self._update_summary()
        self.loaded.emit(len(groups))

    def _update_summary(self) -> None:
        groups = self.model.groups
        if not groups:
            self.summary_label.setText("No duplicates found")
        else:
            copies = sum(g.count for g in groups)
            shown = count_noun(len(groups), "group")
            if self.found > self.limit:  # not all loaded: the rest free less space each
                shown = f"The {shown} freeing the most, of {self.found:,}"
            self.summary_label.setText(
                f"{shown} · {count_noun(copies, 'copy', 'copies')}"
                f" · {human_size(self.model.total_reclaimable())} reclaimable"
            )
        more = min(GROUPS_SHOWN, self.found - self.limit)
        self.more_button.setVisible(more > 0)
        self.more_button.setEnabled(more > 0)
        self.more_button.setText(f"Show {more:,} more")
        marked = self.model.marked_for_removal()
        if marked:
            self.plan_label.setText(
                f"{count_noun(len(marked), 'copy', 'copies')} marked for removal · frees "
                f"{human_size(self.model.planned_bytes())} on disk"
            )
        else:
            self.plan_label.setText("Uncheck the copies you do not want, or apply a rule.")
        for button in (self.remove_library_button, self.trash_button):
            button.setEnabled(bool(marked) and not self._tasks.running("duplicates-remove"))
        for widget in (self.apply_all_button, self.apply_selected_button, self.keep_all_button):
            widget.setEnabled(bool(groups))
        self.notice_label.clear()

    def _show_notice(self, message: str) -> None:
        self.notice_label.setText(message)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.preview.show_item(self.model.group_at(current), self.model.copy_at(current))

    # -- rules ----------------------------------------------------------------

    def current_rule(self) -> KeepRule:
        return KeepRule(self.rule_combo.currentData())

    def apply_rule(
        self, rule: KeepRule, folder: str | None = None, rows: list[int] | None = None
    ) -> int:
        """Apply ``rule``; for "inside a folder" without ``folder``, ask for one."""
        if rule is KeepRule.IN_FOLDER and folder is None:
            folder = QFileDialog.getExistingDirectory(
                self, "Keep the copies inside this folder", self._folder or ""
            )
            if not folder:
                return 0
        self._folder = folder or self._folder
        applied = self.model.apply_rule(rule, folder, rows)
        if rule is KeepRule.IN_FOLDER and applied == 0:
            self._show_notice(f"No copy lies inside {folder}: nothing changed.")
        return applied

    def _apply_to_selection(self) -> None:
        rows = sorted({self._group_row(i) for i in self.tree.selectionModel().selectedRows()})
        if not rows:
            self._show_notice("Select one or more groups first.")
            return
        self.apply_rule(self.current_rule(), rows=rows)

    def _group_row(self, index: QModelIndex) -> int:
        return index.row() if index.internalId() == 0 else index.internalId() - 1

    # -- removal --------------------------------------------------------------

    def ask_to_remove(self, mode: RemovalMode) -> QMessageBox | None:
        """Open the confirmation; removal starts when the user accepts it."""
        marked = self.model.marked_for_removal()
        if not marked:
            return None
        text, info, action = _confirmation(
            mode, len(marked), self.model.marked_bytes(), self.model.planned_bytes()
        )
        box = QMessageBox(QMessageBox.Icon.Question, "Remove duplicates", text, parent=self)
        box.setObjectName("confirmRemoval")
        box.setInformativeText(info)
        yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 340px; }")
        ids = [record.id for record in marked]

        def finished() -> None:
            self.confirm_box = None
            if box.clickedButton() is yes:
                self.remove_marked(ids, mode)
            box.deleteLater()

        box.finished.connect(finished)
        self.confirm_box = box
        box.open()  # window-modal without a nested event loop (qasync-safe)
        return box

    def remove_marked(self, ids: list[uuid.UUID], mode: RemovalMode) -> None:
        for button in (self.remove_library_button, self.trash_button):
            button.setEnabled(False)
        self.plan_label.setText("Removing…")
        self._tasks.start(self._remove(ids, mode), key="duplicates-remove")

    async def _remove(self, ids: list[uuid.UUID], mode: RemovalMode) -> None:
        try:
            result = await self._service.remove(ids, mode)
        finally:
            self._update_summary()
        self.removed.emit(len(result.removed))
        self.library_changed.emit()
        await self._load()
        self._show_notice(_outcome(result, mode))

    def shutdown(self) -> None:
        """Stop loading thumbnails and groups (the window is closing)."""
        for key in ("duplicates-load", "duplicates-remove"):
            self._tasks.cancel(key)


def _confirmation(mode: RemovalMode, count: int, size: int, frees: int) -> tuple[str, str, str]:
    copies = count_noun(count, "copy", "copies")
    if mode is RemovalMode.TRASH:
        return (
            f"Move {copies} ({human_size(size)}) to the trash?",
            f"This frees {human_size(frees)} on disk once the trash is emptied. "
            "One copy of every group is kept.",
            "Move to trash",
        )
    return (
        f"Remove {copies} ({human_size(size)}) from the library?",
        "The files stay on disk; FileMeta forgets them. One copy of every group is kept.",
        "Remove from library",
    )


def _outcome(result: RemovalResult, mode: RemovalMode) -> str:
    """Failures in plain words (empty when everything went)."""
    if not result.failures:
        return ""
    path, reason = result.failures[0]
    where = "moved to the trash" if mode is RemovalMode.TRASH else "deleted"
    more = f" and {len(result.failures) - 1} more" if len(result.failures) > 1 else ""
    return f"Could not be {where} (left in place): {path}{more} — {reason}"


class DuplicatesDialog(QDialog):
    """The view in a window of its own (Tools > Find duplicates…)."""

    def __init__(self, service: DuplicateSource, parent: QWidget | None = None, **kwargs: Any):
        super().__init__(parent)
        self.setWindowTitle("Duplicates")
        self.view = DuplicatesView(service, self, **kwargs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(buttons)
        self.resize(1120, 680)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self.view.model.rowCount() and not self.view.busy:
            self.view.refresh()

    def done(self, result: int) -> None:
        self.view.shutdown()
        super().done(result)
