"""``mdm catalogue`` (the graded resource catalogue, standard 6.3) and ``mdm open`` (the
open resources, standard 6.2): docs/adr/0023."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from mdm import db
from mdm.cli.common import out, run_id, warehouse
from mdm.settings import Settings


def cmd_catalogue(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.catalogue import GRADES
    from mdm.catalogue.store import current, export, load

    db.prepare_database(settings)  # loads the catalogue too
    with db.connect(db.warehouse_url(settings)) as conn:
        if args.catalogue_command == "load":
            counts = load(conn)
            out(f"catalogue loaded: {counts['resources']} resources, {counts['fields']} fields")
        elif args.catalogue_command == "export":
            folder = export(conn, args.out or settings.outbox_dir)
            out(f"written {folder}")
        else:
            for resource in current(conn):
                grades = ", ".join(
                    f"{g} {GRADES[g]}: {sum(f.grade == g for f in resource.fields)}"
                    for g in sorted(GRADES)
                    if any(f.grade == g for f in resource.fields)
                )
                out(
                    f"{resource.code:<16} {resource.kind:<10} {resource.key:<32} "
                    f"{resource.share_type} {resource.open_type} {resource.update_cycle}  "
                    f"fields {len(resource.fields)} ({grades})"
                )
    return 0


def cmd_open(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.opendata.publish import build_open, open_root

    if args.open_command == "publish":
        db.prepare_database(settings)
        result = build_open(settings, warehouse(settings), run_id("cli__open"))
        if "skipped" in result:
            out(f"nothing opened: {result['skipped']}")
            return 0
        for code, produced in sorted(result["resources"].items()):
            out(f"{code:<16} {produced['key']:<32} rows {produced['rows']}")
        for code, why in sorted(result["withheld"].items()):
            out(f"{code:<16} withheld: {'; '.join(why)}")
        out(f"publication {result['version']}: {result['folder']}")
        return 0
    root = open_root(settings)
    versions = sorted(p.name for p in root.glob("*-*") if (p / "_manifest.json").is_file())
    if not versions:
        out(f"no publication under {root}: run `mdm open publish` first")
        return 1
    if args.open_command == "serve":
        return _serve(root / (args.version or versions[-1]), args.port)
    for version in versions:
        out(f"{version}  {root / version}/index.html")
    return 0


def _serve(folder: Path, port: int) -> int:
    """The publication's portal on http://127.0.0.1:<port>/ until interrupted (a plain
    static server: the portal needs nothing else)."""
    import functools
    import http.server

    if not (folder / "index.html").is_file():
        out(f"no portal in {folder}")
        return 1
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        out(f"serving {folder} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


def add_catalogue(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "catalogue",
        help="the graded resource catalogue (政务数据资源目录): list, load, export (6.3)",
        description="Every source dataset, repository table, analyst view, share and open "
        "resource with its fields' meaning, type and grade (1 public .. 4 personal "
        "sensitive). Kept in plugins/mdm/registry/catalogue.yaml and datasets.yaml.",
    )
    actions = parser.add_subparsers(dest="catalogue_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="resources with their share/open types and grades")
    actions.add_parser("load", help="load the registry's catalogue into schema catalogue")
    export = actions.add_parser(
        "export", help="write <outbox>/catalogue/<YYYYMMDD-NN>/catalogue.json + .csv"
    )
    export.add_argument("--out", type=Path, help="outbox (default $MDM_SHARED_DIR/outbox)")
    parser.set_defaults(handler=cmd_catalogue)


def add_open(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "open",
        help="public-data opening (公共数据开放): publish, list, serve the portal",
    )
    actions = parser.add_subparsers(dest="open_command", required=True, metavar="ACTION")
    actions.add_parser(
        "publish", help="build, check and publish to $MDM_HOME/open/<version>/ (as DAG mdm_open)"
    )
    actions.add_parser("list", help="the publications and their portals")
    serve = actions.add_parser("serve", help="serve a publication's portal on 127.0.0.1")
    serve.add_argument("--version", help="YYYYMMDD-NN (default: the newest)")
    serve.add_argument("--port", type=int, default=8000)
    parser.set_defaults(handler=cmd_open)
