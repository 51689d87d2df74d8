"""``filemeta server init``: prepare a library for a team, run once by its database owner.

Opening the library migrates it (migration 0004 creates the group roles, grants and
row-level security policies; that needs CREATEROLE) and, the library having no users yet,
makes the login running the command its first admin. Running it again is harmless: it
reports the set-up. On a local (SQLite) library it only migrates.
"""

from __future__ import annotations

import argparse
import sys

from filemeta_gui.cli.parser import Commands
from filemeta_gui.cli.session import open_services
from filemeta_gui.domain.errors import PermissionDeniedError
from filemeta_gui.services.server_setup import ServerReport, ServerSetupService


def add_parser(commands: Commands) -> None:
    server = commands.add_parser("server", help="set up a team server (PostgreSQL)")
    actions = server.add_subparsers(title="actions", metavar="ACTION", parser_class=type(server))
    actions.add_parser(
        "init", help="migrate and make this login the first admin (run once, as the owner)"
    ).set_defaults(handler=init)


async def init(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        identity = services.identity
        if identity.user is None:
            raise PermissionDeniedError(identity.problem or "This login has no user here.")
        if not identity.is_admin:
            raise PermissionDeniedError(
                f"This library is already set up and {identity.login!r} is not one of its "
                "admins: ask an admin, or run this as the database owner."
            )
        if services.database.is_sqlite:
            print(f"{services.database.name} is ready: a local library needs no server set-up.")
            return 0
        report = await ServerSetupService(services.database, services.policy).report()
    _print_report(report)
    return 0


def _print_report(report: ServerReport) -> None:
    admin = report.admin
    print(f"{report.database} is ready for a team.")
    print(f"  admin: {admin.login} (may connect from {admin.ip_address})")
    groups = report.group_roles
    print(f"  roles: {groups['admin']} (admins), {groups['guest']} (guests),")
    print(f"         {groups['owner']} (owns the tables), {groups['definer']} (runs the checks)")
    print("Next: 'filemeta users add LOGIN --ip ADDRESS --password-stdin', then")
    print("      'filemeta perms grant LOGIN read|write|delete PATH...'.")
    for warning in _warnings(report):
        print(f"filemeta: warning: {warning}", file=sys.stderr)


def _warnings(report: ServerReport) -> list[str]:
    found = []
    if report.superuser:
        found.append(
            f"{report.admin.login} is a superuser: row-level security never applies to it. "
            "Use an ordinary login (the database owner with CREATEROLE) for daily work."
        )
    if report.password_encryption != "scram-sha-256":
        found.append(
            f"password_encryption is {report.password_encryption}; set it to scram-sha-256."
        )
    for rule in report.trust_rules or ():
        found.append(
            f"pg_hba.conf {rule} trusts connections without a password: anyone who "
            "can reach it may log in as anyone. Use scram-sha-256 (docs/TEAM_SERVER.md)."
        )
    return found
