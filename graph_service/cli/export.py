"""CLI verb: export (GraphML, GEXF, node-link JSON, CSV, Cypher)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph_service.area_questions import Step
from graph_service.areas import UnknownArea, check_area, parse_la
from graph_service.cli.areas import run_panel, year_or_day
from graph_service.cli.commands import Command, iso_date
from graph_service.export import CsvFlavour, ExportError, ExportFormat, build_spec, prepare_export, write_export
from graph_service.export.exporter import BUNDLES
from graph_service.export.panel import PanelFormat
from graph_service.models import EdgeKind
from graph_service.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Export the graph (whole, an area, some kinds of tie, or as at a date) for Gephi, networkx, "
        "igraph, R, spreadsheets, pandas/polars/DuckDB (Parquet) or Neo4j. Every file carries its sources, dates, "
        "filters, a codebook and the OGL attribution."
    )
    parser.add_argument(
        "--format",
        "-f",
        required=True,
        choices=[*(f.value for f in ExportFormat), "panel"],
        help="file format; panel: one row per school per day (see --from, --to, --on)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="file to write ('-' for standard output); for csv and parquet a directory, or a .zip file",
    )
    area = parser.add_argument_group("area (all given must match; default: the whole graph)")
    # --la as in every command that takes an area; --la-code, its old spelling here, still works.
    area.add_argument("--la", "--la-code", dest="la", metavar="CODE-OR-NAME", help="local authority: 330 or Birmingham")
    area.add_argument("--local-authority", metavar="NAME", help="local authority name")
    area.add_argument("--district", metavar="NAME", help="administrative district")
    area.add_argument("--constituency", metavar="NAME", help="parliamentary constituency")
    area.add_argument(
        "--hops", type=int, metavar="N", help="rings of tied organisations to add to an area (default 1: trusts, LA...)"
    )
    parser.add_argument(
        "--tie-kind",
        action="append",
        choices=[k.value for k in EdgeKind],
        metavar="KIND",
        help=f"only this kind of tie (repeatable): {', '.join(k.value for k in EdgeKind)}",
    )
    parser.add_argument("--as-at", type=iso_date, metavar="YYYY-MM-DD", help="the graph as it stood on this date")
    panel = parser.add_argument_group("panel (--format panel; -o DIR gets panel.csv or .parquet and codebook.csv)")
    panel.add_argument("--from", dest="start", type=year_or_day, metavar="YEAR-OR-DATE", help="first day")
    panel.add_argument("--to", dest="end", type=year_or_day, metavar="YEAR-OR-DATE", help="last day")
    panel.add_argument("--every", choices=[s.value for s in Step], default=Step.YEAR.value, help="step (default year)")
    panel.add_argument("--on", action="append", type=iso_date, metavar="YYYY-MM-DD", help="a day (repeatable)")
    panel.add_argument("--panel-format", choices=[f.value for f in PanelFormat], default="csv", help="file type")
    parser.add_argument(
        "--csv-flavour",
        choices=[f.value for f in CsvFlavour],
        default=CsvFlavour.PLAIN.value,
        help="csv layout: plain, kumu (elements/connections) or neo4j-admin (typed import headers)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.format == "panel":
        return run_panel(args, settings)
    fmt = ExportFormat(args.format)
    flavour = CsvFlavour(args.csv_flavour)
    if flavour is not CsvFlavour.PLAIN and fmt is not ExportFormat.CSV:
        print("error: --csv-flavour applies only to --format csv", file=sys.stderr)
        return 2
    if args.output == "-" and fmt in BUNDLES:
        print(f"error: {fmt.value} writes several files: give a directory or a .zip path, not '-'", file=sys.stderr)
        return 2
    la_code, la_name = parse_la(args.la)
    from graph_service.cli.main import _store  # here: cli.main imports this module (on use)

    store = _store(settings)  # says which store it reads
    try:
        # An unknown area is an error naming the nearest ones, as in the other commands.
        check_area(store, la_code, la_name or args.local_authority, args.district, args.constituency)
        spec = build_spec(
            la_code=la_code,
            local_authority=la_name or args.local_authority,
            district=args.district,
            constituency=args.constituency,
            hops=args.hops,
            tie_kinds=[EdgeKind(kind) for kind in args.tie_kind or ()],
            as_at=args.as_at,
        )
        prepared = prepare_export(store, spec, fmt, flavour)
        nodes, edges = prepared.selection.counts
        if args.output == "-":
            for chunk in prepared.chunks():
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            print(f"exported {nodes} organisations and {edges} ties", file=sys.stderr)
            return 0
        written = write_export(prepared, Path(args.output))
    except (ExportError, UnknownArea) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"exported {nodes} organisations and {edges} ties to {', '.join(map(str, written))}")
    return 0


COMMANDS: dict[str, Command] = {"export": ("export the graph for research tools", configure, run)}
