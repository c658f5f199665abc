"""``mdm share`` and ``mdm access``: conditional sharing and database users for people."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from zoneinfo import ZoneInfo

from mdm import db
from mdm.cli.common import out
from mdm.settings import TIMEZONE, Settings


def _expiry(text: str) -> dt.datetime:
    """An ISO date/time; without a zone, Beijing time."""
    expires = dt.datetime.fromisoformat(text)
    return expires if expires.tzinfo is not None else expires.replace(tzinfo=ZoneInfo(TIMEZONE))


def cmd_share(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.access import sharing

    db.ensure_server(settings)
    with db.connect(db.warehouse_url(settings)) as conn:
        prepared = conn.execute("select to_regprocedure('access.expire_shares()')").fetchone()
    if not (prepared and prepared[0]):
        db.prepare_database(settings)  # needs the platform's user; a prepared warehouse does not
    # An engineer may run this with their own login: grants are recorded with session_user.
    with db.connect(db.warehouse_url(settings)) as conn:
        if args.share_command == "grant":
            expires = _expiry(args.expires)
            try:
                grant_id = sharing.grant(
                    conn,
                    args.consumer,
                    args.dataset,
                    [c.strip() for c in args.columns.split(",") if c.strip()],
                    args.purpose,
                    expires,
                    approval=args.approval,
                )
            except sharing.ShareRefusedError as err:
                out(f"refused: {err}")
                return 2
            out(
                f"grant {grant_id}: role mdm_share_{args.consumer} reads "
                f"{sharing.grant_view(conn, grant_id)} until {expires.isoformat()}"
            )
        elif args.share_command == "revoke":
            out("revoked" if sharing.revoke(conn, args.grant_id) else "no such live grant")
        elif args.share_command == "expire":
            out(f"expired grants: {sharing.expire(conn)}")
        else:
            for row in sharing.list_grants(conn):
                out(
                    f"{row[0]:>4} {row[1]:<10} {row[2]:<16} {','.join(row[3]):<40} "
                    f"until {row[6]:%Y-%m-%d} {'revoked ' + str(row[7]) if row[7] else 'live':<12} "
                    f"reads {row[8]}  {row[9]}  purpose: {row[4]}"
                )
    return 0


def cmd_access_add_user(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.access.roles import add_user

    db.prepare_database(settings)
    password = os.environ.get("MDM_NEW_USER_PASSWORD")  # never on the command line
    with db.connect(db.warehouse_url(settings)) as conn:
        add_user(
            conn,
            args.user,
            f"mdm_{args.role}" if not args.role.startswith("mdm_") else args.role,
            password,
        )
    out(f"{args.user} is a member of {args.role}" + ("" if password else " (no password set)"))
    return 0


def add_share(commands: argparse._SubParsersAction) -> None:
    share = commands.add_parser(
        "share",
        help="conditional sharing: grant, revoke, list, expire",
        description="A grant creates share.<consumer>__<dataset> (..__<grant id> when that "
        "name is taken by a live grant) with exactly the granted "
        "columns for role mdm_share_<consumer>, records who/what/why/until when, and logs "
        "every read. Datasets marked 不予共享 cannot be granted.",
    )
    share_commands = share.add_subparsers(dest="share_command", required=True, metavar="ACTION")
    share_grant = share_commands.add_parser("grant", help="grant columns of a dataset")
    share_grant.add_argument("--consumer", required=True, help="department, e.g. rst")
    share_grant.add_argument(
        "--dataset", required=True, help="natural_person, legal_person, relation or a source"
    )
    share_grant.add_argument("--columns", required=True, help="comma-separated column names")
    share_grant.add_argument("--purpose", required=True, help="why the consumer needs it")
    share_grant.add_argument("--expires", required=True, help="ISO date/time (Beijing time)")
    share_grant.add_argument(
        "--approval",
        help="reference of the recorded approval (审批) a column of grade 4 (personal "
        "sensitive, see `mdm catalogue`) needs",
    )
    share_revoke = share_commands.add_parser("revoke", help="revoke a grant now")
    share_revoke.add_argument("grant_id", type=int)
    share_commands.add_parser("list", help="grants with their reads")
    share_commands.add_parser("expire", help="drop the views of expired grants")
    share.set_defaults(handler=cmd_share)


def add_access(commands: argparse._SubParsersAction) -> None:
    access = commands.add_parser("access", help="database users for people")
    access_commands = access.add_subparsers(dest="access_command", required=True, metavar="ACTION")
    add = access_commands.add_parser(
        "add-user",
        help="a login user in a role (password from MDM_NEW_USER_PASSWORD, never an argument)",
    )
    add.add_argument("user")
    add.add_argument("--role", required=True, help="analyst, steward, engineer or share_<consumer>")
    add.set_defaults(handler=cmd_access_add_user)
