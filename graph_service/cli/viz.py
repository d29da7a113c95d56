"""CLI verb: render, which writes a network picture as one offline HTML page."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from graph_service.areas import UnknownArea, check_area, parse_la
from graph_service.cli.commands import Command, iso_date
from graph_service.settings import Settings
from graph_service.store import GraphStore

VIEWS = ("organisation", "area", "group", "isolated", "graph")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Draw a network picture as one self-contained HTML page (works offline). Views: "
        "organisation ID [--hops K]; area --la CODE-OR-NAME | --district NAME; "
        "group ID (trust, federation, hub, partnership or sponsor); isolated (an area's isolated "
        "schools and their nearest possible partners); graph (everything open)."
    )
    parser.add_argument("view", choices=VIEWS, help="what to draw")
    parser.add_argument("id", nargs="?", help="organisation or group id (organisation and group views)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.html", help="where to write the page")
    parser.add_argument("--hops", type=int, default=1, help="organisation view: ties out from it (default 1)")
    # --la as in isolated, health and export; --la-code, its old spelling here, still works.
    parser.add_argument("--la", "--la-code", dest="la", help="area and isolated views: local authority code or name")
    parser.add_argument("--local-authority", help=argparse.SUPPRESS)
    parser.add_argument("--district", help="area and isolated views: administrative district name")
    parser.add_argument("--partners", type=int, default=3, help="isolated view: nearest partners per school")
    parser.add_argument("--colour", choices=("kind", "rating"), default="kind", help="fill by kind or Ofsted rating")
    parser.add_argument("--layout", choices=("geo", "force"), default="geo", help="map (default) or force layout")
    parser.add_argument("--as-at", type=iso_date, help="ties holding on this date (YYYY-MM-DD; default today)")
    parser.add_argument("--include-closed", action="store_true", help="also draw closed organisations")
    parser.add_argument(
        "--all-types",
        action="store_true",
        help="isolated view: also independent schools and GIAS's other types (default: state-funded only)",
    )
    parser.add_argument(
        "--admin-ties",
        action="store_true",
        help="organisation view: also walk administrative ties (a local authority maintaining a school)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from viz import views
    from viz.render import write_html

    needs_id = args.view in ("organisation", "group")
    if needs_id and not args.id:
        print(f"graph-service render {args.view}: give the organisation's id", file=sys.stderr)
        return 2
    if not needs_id and args.id:
        print(f"graph-service render {args.view}: takes no id (got {args.id!r})", file=sys.stderr)
        return 2
    if not 1 <= args.hops <= settings.max_hops:
        print(f"graph-service render: --hops must be between 1 and {settings.max_hops}", file=sys.stderr)
        return 2
    output = Path(args.output)
    if not output.parent.is_dir():
        print(f"graph-service render: folder {output.parent} does not exist", file=sys.stderr)
        return 2

    def make(store: GraphStore) -> Callable[[], views.View]:
        def area() -> views.Area:
            la_code, la_name = parse_la(args.la)
            where = views.Area(la_code=la_code, local_authority=la_name or args.local_authority, district=args.district)
            check_area(store, where.la_code, where.local_authority, where.district)
            return where

        closed = args.include_closed
        return {
            "organisation": lambda: views.neighbourhood(store, args.id, args.hops, args.as_at, closed, args.admin_ties),
            "area": lambda: views.area(store, area(), args.as_at, closed),
            "group": lambda: views.group(store, args.id, args.as_at, closed),
            "isolated": lambda: views.isolated(store, area(), args.partners, args.as_at, args.all_types),
            "graph": lambda: views.whole(store, args.as_at, closed),
        }[args.view]

    from graph_service.cli.main import _store  # here: cli.main imports this module (on use)

    store = _store(settings)  # says which store it reads
    try:
        view = make(store)()
        picture = views.picture(view, store, colour=args.colour, layout=args.layout)
        write_html(picture, output)
    except (views.ViewError, UnknownArea) as exc:
        print(f"graph-service render: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{output}: {view.title} ({view.graph.number_of_nodes()} organisations, {view.graph.number_of_edges()} ties)")
    return 0


COMMANDS: dict[str, Command] = {"render": ("draw a network picture as an offline HTML page", configure, run)}
