"""The window's actions (with their shortcuts), menus and toolbar.

Actions are created here and connected by the window, so the menu bar, the toolbar and
the context menus all trigger the same ``QAction`` with the same shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QSizePolicy, QToolBar, QToolButton, QWidget

from filemeta_gui.ui.resources import icon

_Key = QKeySequence.StandardKey


@dataclass
class WindowActions:
    add_folder: QAction
    rescan: QAction
    rescan_all: QAction
    remove_folder: QAction
    connect: QAction
    quit: QAction
    find: QAction
    remove_files: QAction
    undo_remove: QAction
    open_file: QAction
    reveal_file: QAction
    copy_path: QAction
    select_all: QAction
    view_table: QAction
    view_grid: QAction
    toggle_details: QAction
    database_panel: QAction
    duplicates: QAction
    new_tag: QAction
    tag_selection: QAction
    rename_tag: QAction
    merge_tags: QAction
    delete_tag: QAction
    set_tag_parent: QAction
    save_search: QAction
    about: QAction

    def all(self) -> list[QAction]:
        return [getattr(self, f.name) for f in fields(self)]


def _action(
    window: QMainWindow,
    text: str,
    icon_name: str | None = None,
    shortcut: QKeySequence | _Key | str | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if icon_name:
        action.setIcon(icon(icon_name))
    if shortcut is not None:
        sequence = QKeySequence(shortcut)
        action.setShortcut(sequence)
        shown = sequence.toString(QKeySequence.SequenceFormat.NativeText)
        tip = f"{tip or text.rstrip('…')} ({shown})" if shown else tip
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    return action


_Spec = tuple[str, str | None, QKeySequence | _Key | str | None, str]

# name: (text, icon, shortcut, tip)
SPECS: dict[str, _Spec] = {
    "add_folder": (
        "Add Folder…",
        "folder-add",
        "Ctrl+O",
        "Add a folder to the library and scan it",
    ),
    "rescan": ("Rescan", "refresh", "F5", "Rescan the selected folder"),
    "rescan_all": ("Rescan All Folders", None, "Shift+F5", ""),
    "remove_folder": ("Remove Folder from Library…", None, None, ""),
    "connect": ("Connect…", "connect", None, "Open another library or a PostgreSQL server"),
    "quit": ("Quit", None, "Ctrl+Q", ""),
    "find": ("Find", "search", "Ctrl+F", "Search the library"),
    "remove_files": (
        "Remove from Library",
        "remove",
        "Delete",
        "Remove the selected files from the library (not from disk)",
    ),
    "undo_remove": ("Undo Remove", None, _Key.Undo, ""),
    "open_file": ("Open", "open", "Return", ""),
    "reveal_file": ("Open Containing Folder", "folder", "Ctrl+Shift+R", ""),
    "copy_path": ("Copy Path", "copy", "Ctrl+Shift+C", ""),
    "select_all": ("Select All", None, _Key.SelectAll, ""),
    "view_table": ("List", "view-list", "Ctrl+1", "Show files as a list"),
    "view_grid": ("Thumbnails", "view-grid", "Ctrl+2", "Show files as thumbnails"),
    "toggle_details": ("Details Pane", "details", "Ctrl+I", ""),
    "database_panel": ("Database Panel", "database", None, "What the database is doing"),
    "duplicates": ("Find Duplicates…", "duplicates", "Ctrl+D", ""),
    "new_tag": ("New Tag…", "tag", None, ""),
    "tag_selection": ("Tag Selection…", "tag", "Ctrl+T", "Add a tag to the selected files"),
    "rename_tag": ("Rename Tag…", None, None, ""),
    "merge_tags": ("Merge Tag Into…", None, None, ""),
    "delete_tag": ("Delete Tag…", None, None, ""),
    "set_tag_parent": ("Set Parent Tag…", None, None, ""),
    "save_search": ("Save Search…", "bookmark", "Ctrl+S", ""),
    "about": ("About FileMeta", None, None, ""),
}


def create_actions(window: QMainWindow) -> WindowActions:
    a = WindowActions(**{name: _action(window, *spec) for name, spec in SPECS.items()})
    a.quit.setMenuRole(QAction.MenuRole.QuitRole)
    a.about.setMenuRole(QAction.MenuRole.AboutRole)
    # Return and Delete belong to the file views; elsewhere (a line edit) they keep
    # their usual meaning. The window adds these two to the views directly.
    for action in (a.open_file, a.remove_files):
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    group = QActionGroup(window)
    for action in (a.view_table, a.view_grid):
        action.setCheckable(True)
        group.addAction(action)
    a.view_table.setChecked(True)
    a.toggle_details.setCheckable(True)
    a.toggle_details.setChecked(True)
    a.database_panel.setCheckable(True)
    return a


def build_menus(window: QMainWindow, a: WindowActions) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.add_folder, a.connect])
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit = bar.addMenu("&Edit")
    edit.addActions([a.undo_remove])
    edit.addSeparator()
    edit.addActions([a.open_file, a.reveal_file, a.copy_path])
    edit.addSeparator()
    edit.addActions([a.select_all, a.find, a.save_search])
    edit.addSeparator()
    edit.addAction(a.remove_files)
    view = bar.addMenu("&View")
    view.addActions([a.view_table, a.view_grid])
    view.addSeparator()
    view.addActions([a.toggle_details, a.database_panel])
    library = bar.addMenu("&Library")
    library.addActions([a.add_folder, a.rescan, a.rescan_all, a.remove_folder])
    library.addSeparator()
    library.addAction(a.duplicates)
    tags = bar.addMenu("&Tags")
    tags.addActions([a.tag_selection, a.new_tag])
    tags.addSeparator()
    tags.addActions([a.rename_tag, a.set_tag_parent, a.merge_tags, a.delete_tag])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(a.about)


def build_toolbar(window: QMainWindow, a: WindowActions, search: QWidget) -> QToolBar:
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setIconSize(QSize(20, 20))
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.addAction(a.add_folder)
    toolbar.addAction(a.rescan)
    toolbar.addSeparator()
    toolbar.addWidget(search)
    search.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    toolbar.addSeparator()
    for action in (a.view_table, a.view_grid, a.toggle_details, a.duplicates):
        toolbar.addAction(action)
        button = toolbar.widgetForAction(action)
        if isinstance(button, QToolButton):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
    return toolbar
