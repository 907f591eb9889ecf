"""`python -m admin create-admin`: the first admin account (or another one), from the terminal.

Reads ADMIN_USERNAME and ADMIN_PASSWORD from the environment when set (for scripts and CI), and
asks otherwise; the password is never taken from the command line, where `ps` would show it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from admin import accounts
from admin.db import Database
from admin.models import Role
from helpdesk.settings import get_settings


async def create_admin(url: str, username: str, password: str, role: str) -> None:
    database = Database(url)
    try:
        await database.create_schema()
        async with database.sessions.begin() as session:
            await accounts.create_user(session, None, username, password, role)
    finally:
        await database.close()


def _ask() -> tuple[str, str]:
    username = os.environ.get("ADMIN_USERNAME") or input("Username: ").strip()
    password = os.environ.get("ADMIN_PASSWORD")
    if not password:
        password = getpass.getpass("Password (at least 10 characters): ")
        if getpass.getpass("Again: ") != password:
            raise accounts.AccountError("The passwords differ.")
    return username, password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create a staff account (admin by default)")
    create.add_argument("--role", default=Role.ADMIN.value, choices=[r.value for r in Role])
    args = parser.parse_args(argv)
    try:
        username, password = _ask()
        asyncio.run(create_admin(get_settings().db_url, username, password, args.role))
    except (accounts.AccountError, EOFError) as error:
        print(f"Not created: {error}", file=sys.stderr)
        return 1
    print(f"Created {args.role} {username!r}. Sign in at {get_settings().web_url}/admin",
          file=sys.stderr)
    return 0
