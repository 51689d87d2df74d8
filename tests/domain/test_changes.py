"""Merging change events into what a window reloads."""

from __future__ import annotations

import uuid

from filemeta_gui.domain.changes import (
    ChangeEvent,
    ChangeKind,
    ChangeOp,
    ConnectionState,
    StatusEvent,
    plan_refresh,
)


def test_links_and_updates_refetch_only_their_rows() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    plan = plan_refresh(
        [
            ChangeEvent(ChangeKind.FILE_TAGS, ChangeOp.INSERT, (a,), 1),
            ChangeEvent(ChangeKind.FILES, ChangeOp.UPDATE, (b,), 1),
        ]
    )
    assert plan.file_ids == {a, b} and not plan.all_files
    assert plan.counts and plan.tags and plan.folders and not plan.access


def test_new_files_or_too_many_ids_reload_the_list() -> None:
    added = plan_refresh([ChangeEvent(ChangeKind.FILES, ChangeOp.INSERT, (uuid.uuid4(),), 1)])
    assert added.all_files and not added.file_ids
    many = plan_refresh([ChangeEvent(ChangeKind.FILE_TAGS, ChangeOp.DELETE, (), 5000, many=True)])
    assert many.all_files


def test_tags_folders_users_and_grants_touch_their_own_parts() -> None:
    assert plan_refresh([ChangeEvent(ChangeKind.TAGS, ChangeOp.INSERT)]).tags
    assert not plan_refresh([ChangeEvent(ChangeKind.TAGS, ChangeOp.INSERT)]).all_files
    assert plan_refresh([ChangeEvent(ChangeKind.TAGS, ChangeOp.UPDATE)]).all_files  # renamed
    assert plan_refresh([ChangeEvent(ChangeKind.FOLDERS, ChangeOp.DELETE)]).all_files
    assert plan_refresh([ChangeEvent(ChangeKind.USERS, ChangeOp.UPDATE)]).access
    assert plan_refresh([ChangeEvent(ChangeKind.PERMISSIONS, ChangeOp.INSERT)]).all_files


def test_a_reconnect_or_an_unknown_change_reloads_everything() -> None:
    for event in (
        StatusEvent(ConnectionState.RECONNECTED, "back"),
        ChangeEvent(ChangeKind.LIBRARY),
    ):
        plan = plan_refresh([event])
        assert plan.all_files and plan.counts and plan.tags and plan.folders and plan.access
    assert plan_refresh([StatusEvent(ConnectionState.RECONNECTING, "down")]).empty
    assert plan_refresh([]).empty
