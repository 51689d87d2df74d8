"""``filemeta users list | add | set-role | set-address | disable | enable | remove | passwd``.

For admins who script. On a team server each user is also a login role, which the
server creates, regroups and drops through FileMeta's own functions: the admin running
these needs no CREATEROLE. A password is read from stdin (``--password-stdin``), never
from the command line, where every other user of the machine could see it.
"""

from __future__ import annotations

import argparse
import sys

from filemeta_gui.cli.output import print_json
from filemeta_gui.cli.parser import Commands, UsageError
from filemeta_gui.cli.session import open_services
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.records import UserRecord

ROLES = [r.value for r in Role]


def add_parser(commands: Commands) -> None:
    users = commands.add_parser("users", help="manage who may use a library (admins)")
    actions = users.add_subparsers(title="actions", metavar="ACTION", parser_class=type(users))
    listing = actions.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_users)

    add = actions.add_parser("add", help="add a user (and their login role on a server)")
    add.add_argument("login")
    add.add_argument("--ip", required=True, metavar="ADDR", help="address or network")
    add.add_argument("--role", choices=ROLES, default=Role.GUEST.value)
    add.add_argument("--password-stdin", action="store_true", help="read a password from stdin")
    add.set_defaults(handler=add_user)

    role = actions.add_parser("set-role", help="make a user a guest or an admin")
    role.add_argument("login")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=set_role)

    address = actions.add_parser("set-address", help="change where a user may connect from")
    address.add_argument("login")
    address.add_argument("address", metavar="ADDR")
    address.set_defaults(handler=set_address)

    for name, handler, text in (
        ("disable", disable, "keep a user but let them see nothing"),
        ("enable", enable, "let a disabled user in again"),
        ("remove", remove, "forget a user and their permissions"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("login")
        action.set_defaults(handler=handler)

    passwd = actions.add_parser("passwd", help="set a password (read from stdin)")
    passwd.add_argument("login")
    passwd.set_defaults(handler=set_password)


def user_line(user: UserRecord) -> str:
    state = "disabled" if user.disabled else "enabled"
    created = user.created_at.astimezone().strftime("%Y-%m-%d")
    login = user.login or "(this computer)"
    return f"{login:<24} {user.role.value:<6} {user.ip_address:<20} {state:<9} {created}"


async def list_users(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        users = await services.users.list()
    if args.json:
        print_json(
            {
                "users": [
                    {
                        "login": u.login,
                        "role": u.role.value,
                        "address": u.ip_address,
                        "disabled": u.disabled,
                        "created": u.created_at,
                    }
                    for u in users
                ]
            }
        )
        return 0
    for user in users:
        print(user_line(user))
    return 0


def read_password() -> str:
    """The first line of stdin, without its line ending (a trailing blank is kept)."""
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password[:-1] if password.endswith("\r") else password
    if not password:
        raise UsageError("filemeta users: --password-stdin read no password from stdin")
    return password


async def add_user(args: argparse.Namespace) -> int:
    password = read_password() if args.password_stdin else None
    async with open_services(args) as services:
        user = await services.users.add(args.login, args.ip, Role(args.role), password)
    print(f"Added {user.login} as {user.role.value}, connecting from {user.ip_address}.")
    return 0


async def set_role(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        user = await services.users.set_role(args.login, Role(args.role))
    print(f"{user.login} is now {'an' if user.role is Role.ADMIN else 'a'} {user.role.value}.")
    return 0


async def set_address(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        user = await services.users.set_address(args.login, args.address)
    print(f"{user.login} may now connect from {user.ip_address}.")
    return 0


async def disable(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        await services.users.disable(args.login)
    print(f"{args.login} is disabled: they see nothing until enabled again.")
    return 0


async def enable(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        await services.users.enable(args.login)
    print(f"{args.login} is enabled.")
    return 0


async def remove(args: argparse.Namespace) -> int:
    async with open_services(args) as services:
        await services.users.remove(args.login)
    print(f"Removed {args.login} and their permissions.")
    return 0


async def set_password(args: argparse.Namespace) -> int:
    password = read_password()
    async with open_services(args) as services:
        await services.users.set_password(args.login, password)
    print(f"Password of {args.login} set.")
    return 0
