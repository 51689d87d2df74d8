"""What the window does for a team library: live updates, admin menu, notices.

* Live updates: a :class:`ChangeNotifier` per open library; a burst of changes made by
  teammates (or by another process on the same SQLite file) becomes one refresh of what
  it touched — the sidebar for tags and folders, the list for files.
* The Admin menu (users, permissions of the selection, access of a user) exists for
  admins only; guests never see it.
* Notices: a login the library does not know, a library made by a newer FileMeta
  (read-only), or an older schema an admin may upgrade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from PySide6.QtWidgets import QMenu, QVBoxLayout

from filemeta_gui.domain.changes import RefreshPlan
from filemeta_gui.ui.change_notifier import ChangeNotifier
from filemeta_gui.ui.dialogs.permissions_dialog import PermissionsDialog
from filemeta_gui.ui.dialogs.user_access_dialog import UserAccessDialog
from filemeta_gui.ui.dialogs.users_dialog import UsersDialog
from filemeta_gui.ui.widgets.notice_bar import NoticeBar

_Dialog = TypeVar("_Dialog", UsersDialog, PermissionsDialog, UserAccessDialog)

if TYPE_CHECKING:
    from filemeta_gui.services.container import Services
    from filemeta_gui.ui.main_window import MainWindow


class TeamFeatures:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.notice = NoticeBar(window)
        central = window.centralWidget()
        layout = central.layout() if central is not None else None
        if isinstance(layout, QVBoxLayout):
            layout.insertWidget(1, self.notice)  # under the connection banner
        self.notifier: ChangeNotifier | None = None
        self.admin_menu = self._build_admin_menu()

    async def attach(self, services: Services) -> None:
        """Follow ``services``' library: start its live updates, show its notices."""
        await self.stop()
        from filemeta_gui.services.changes import ChangeFeed

        self.notifier = ChangeNotifier(ChangeFeed(services.database, services.policy), self.window)
        self.notifier.refresh.connect(self.apply_refresh)
        self.notifier.status.connect(self._show_status)
        self.notifier.start()
        self.admin_menu.menuAction().setVisible(services.identity.is_admin)
        await self.update_notice(services)

    async def stop(self) -> None:
        notifier, self.notifier = self.notifier, None
        if notifier is not None:
            await notifier.stop()
            notifier.deleteLater()

    async def update_notice(self, services: Services) -> None:
        if services.identity.user is None:
            self.notice.show_notice(services.identity.problem or "You have no access here.")
            return
        status = await services.schema.state()
        if status.can_upgrade:
            self.notice.show_notice(
                status.message or "This library can be upgraded to the newest version.",
                "Upgrade now",
                lambda: self._start_upgrade(services),
            )
        elif status.message:
            self.notice.show_notice(status.message)
        else:
            self.notice.clear()

    def _start_upgrade(self, services: Services) -> None:
        self.window.tasks.start(self._upgrade(services), key="schema-upgrade")

    async def _upgrade(self, services: Services) -> None:
        self.notice.show_notice("Upgrading the library…")
        await services.schema.upgrade_schema()
        await self.update_notice(services)
        self.window.refresh(keep_rows=False)

    def apply_refresh(self, plan: RefreshPlan) -> None:
        """Reload what a burst of teammates' changes touched."""
        window = self.window
        if window.closing or window.services is None:
            return
        if window.scan.running:
            # Most likely our own scan's batches (from its process; on SQLite every commit
            # says "everything changed", and on PostgreSQL every file change touches tag
            # counts). The scan reloads the list and the whole sidebar at its own pace and
            # once more when it ends, which covers a teammate's change meanwhile too; one
            # refresh per commit piled up queries and stalled the window (benchmarks/
            # bench_gui_scan.py: 23 sidebar reloads in a 20 s scan).
            return
        if plan.all_files or plan.file_ids or plan.access:
            window.model.reload(keep_rows=True)
        if plan.tags or plan.folders or plan.counts or plan.all_files or plan.access:
            window.tasks.start(window.reload_sidebar(), key="sidebar")

    def _show_status(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 5000)

    def _build_admin_menu(self) -> QMenu:
        window = self.window
        menu = QMenu("&Admin", window)
        bar = window.menuBar()
        # Before Help, where people look for it; menus are built before this runs.
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is None:
            bar.addMenu(menu)
        else:
            bar.insertMenu(help_menu, menu)
        menu.addAction("&Users…").triggered.connect(self.show_users)
        menu.addAction("&Permissions of Selection…").triggered.connect(self.show_permissions)
        menu.addAction("&Access of a User…").triggered.connect(self.show_user_access)
        menu.menuAction().setVisible(False)
        return menu

    def show_users(self) -> UsersDialog | None:
        services = self.window.services
        if services is None:
            return None
        dialog = UsersDialog(services.users, self.window)
        return self._open(dialog)

    def show_permissions(self) -> PermissionsDialog | None:
        services = self.window.services
        records = self.window.whole_selection("change permissions of")
        if services is None or not records:
            return None
        dialog = PermissionsDialog(services.permissions, services.users, records, self.window)
        return self._open(dialog)

    def show_user_access(self) -> UserAccessDialog | None:
        services = self.window.services
        if services is None:
            return None
        return self._open(UserAccessDialog(services.permissions, services.users, self.window))

    def _open(self, dialog: _Dialog) -> _Dialog:
        dialog.changed.connect(lambda *_: self.window.refresh())
        dialog.open()
        return dialog
