"""change notifications: pg_notify from statement-level triggers (PostgreSQL only)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Every committed change to files, tags, file_tags, folders, users or permissions sends one
NOTIFY on ``filemeta_changes`` (issue 7: live updates between clients). NOTIFY is
transactional: the message leaves only when the changing transaction commits, and never
when it rolls back.

Triggers are statement-level with transition tables, so a 10,000-row batch from the
indexer sends one notification, not 10,000. The payload names the table, the operation,
who (``session_user``) and at most ``MAX_IDS`` distinct ids; above that it says
``"many": true`` with a count. 100 quoted UUIDs are ~3.9 kB, far under PostgreSQL's
8000-byte payload limit, whatever the login name.

Which ids: the row ids for files, tags, folders and users; the *file* ids for file_tags
and permissions, because the file rows shown are what a client refreshes after a link
or a grant changes.

PostgreSQL refuses transition tables on a trigger for more than one event, hence three
triggers per table sharing one function. SQLite has no NOTIFY: clients there poll
``PRAGMA data_version`` (``filemeta_gui.db.sqlite_watch``), so this revision does nothing
on SQLite. The SQL is written out here, not imported, so the revision keeps doing what it
did when the app's code changes; ``filemeta_gui.db.listener`` parses this payload.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "filemeta_changes"
MAX_IDS = 100
FUNCTION = "filemeta_notify_change"
# table -> the column whose values the payload lists.
KEY_COLUMNS = {
    "files": "id",
    "tags": "id",
    "file_tags": "file_id",
    "folders": "id",
    "users": "id",
    "permissions": "file_id",
}
EVENTS = {
    # event -> the transition table it can see (an UPDATE's ids are the same before/after).
    "insert": "NEW TABLE AS changed_rows",
    "update": "NEW TABLE AS changed_rows",
    "delete": "OLD TABLE AS changed_rows",
}

# Dynamic SQL because the key column differs per table (passed as the trigger argument);
# transition tables are visible to EXECUTE as to static SQL. A statement that touched no
# row (an UPDATE matching nothing still fires statement triggers) sends nothing.
FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
    ids jsonb;
BEGIN
    EXECUTE format(
        'SELECT count(DISTINCT %1$I), '
        '(SELECT jsonb_agg(k) FROM (SELECT DISTINCT %1$I AS k FROM changed_rows '
        'ORDER BY 1 LIMIT {MAX_IDS + 1}) AS firsts) FROM changed_rows',
        TG_ARGV[0])
    INTO changed, ids;
    IF changed = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('{CHANNEL}', jsonb_build_object(
        'table', TG_TABLE_NAME,
        'op', TG_OP,
        'count', changed,
        'many', changed > {MAX_IDS},
        'ids', CASE WHEN changed > {MAX_IDS} THEN '[]'::jsonb ELSE ids END,
        'who', session_user::text
    )::text);
    RETURN NULL;
END
$$
"""


def _trigger_name(table: str, event: str) -> str:
    return f"{FUNCTION}_{table}_{event}"


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(FUNCTION_SQL)
    for table, key in KEY_COLUMNS.items():
        for event, transition in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event.upper()} ON {table} "
                f"REFERENCING {transition} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {FUNCTION}('{key}')"
            )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in KEY_COLUMNS:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
