"""CLI verb: areas (every local authority, district or region's collaboration measures, on a day or as series)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from graph_service import area_questions
from graph_service.analytics.panel import AREA_MEASURES
from graph_service.area_questions import AreaBy, Step
from graph_service.cli.commands import Command, iso_date
from graph_service.questions import QuestionError
from graph_service.settings import Settings


def year_or_day(text: str) -> date:
    """An argparse ``type``: a year (its 31 August) or a day."""
    try:
        return area_questions.year_or_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Every local authority (or district, or region) side by side: open state-funded schools, shares in a "
        "trust, in a federation and isolated, trusts and their concentration, ties across trusts, fragmentation "
        "(docs/questions.md). On one day (--on, default today) or as a series (--from/--to, every year on 31 August "
        "unless the days given say otherwise)."
    )
    parser.add_argument("--on", type=iso_date, metavar="YYYY-MM-DD", help="the day measured (default: today)")
    parser.add_argument("--from", dest="start", type=year_or_day, metavar="YEAR-OR-DATE", help="first day of a series")
    parser.add_argument("--to", dest="end", type=year_or_day, metavar="YEAR-OR-DATE", help="last day of a series")
    parser.add_argument("--every", choices=[s.value for s in Step], default=Step.YEAR.value, help="step of a series")
    parser.add_argument("--by", choices=[b.value for b in AreaBy], default=AreaBy.LA.value, help="areas (default la)")
    parser.add_argument("--area", metavar="CODE-OR-NAME", help="only this area (an LA code such as 330, or a name)")
    parser.add_argument("--sort", choices=list(AREA_MEASURES), help="largest first by this measure (default: by area)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from graph_service.cli.main import _store, print_rows

    if (args.start is None) != (args.end is None):
        print("error: a series needs both --from and --to", file=sys.stderr)
        return 2
    if args.start is not None and args.on is not None:
        print("error: give --on (one day) or --from/--to (a series), not both", file=sys.stderr)
        return 2
    by = AreaBy(args.by)
    store = _store(settings)
    try:
        if args.start is None:
            table = area_questions.area_table(store, args.on, by)
            rows: list[dict[str, Any]] = [{"as_at": table.as_at, **row.model_dump()} for row in table.rows]
            answer: Any = table
        else:
            answer = area_questions.area_trends(store, args.start, args.end, Step(args.every), by, args.area)
            rows = [
                {"as_at": day, "area": trend.area, "name": trend.name}
                | {measure: values[i] for measure, values in trend.values.items()}
                for trend in answer.areas
                for i, day in enumerate(answer.days)
                if trend.values["schools"][i] is not None
            ]
    except QuestionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.area is not None and args.start is None:
        rows = [row for row in rows if row["area"] == args.area or row["name"].lower() == args.area.lower()]
        if not rows:
            print(f"error: no {by.value} {args.area!r} had open state-funded schools on {table.as_at}", file=sys.stderr)
            return 1
    if args.sort:
        rows.sort(key=lambda row: (row[args.sort] is None, -(row[args.sort] or 0)))
    if args.format == "json" and (args.area is None or args.start is not None):
        json.dump(answer.model_dump(mode="json"), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.format == "table":
        # In a terminal: one day's date once above the table, and a district's or region's name once.
        drop = {"name"} if by is not AreaBy.LA else set()
        if args.start is None:
            drop.add("as_at")
            print(f"as at {table.as_at}")
        print_rows([{k: v for k, v in row.items() if k not in drop} for row in rows], args.format)
    else:
        print_rows(rows, args.format)
    return 0


COMMANDS: dict[str, Command] = {
    "areas": ("collaboration measures of every area, on a day or over years", configure, run),
}


def run_panel(args: argparse.Namespace, settings: Settings) -> int:
    """``export --format panel``: one row per school per day, written to ``-o DIR``."""
    from pathlib import Path

    from graph_service.cli.main import _store
    from graph_service.export.panel import PanelFormat, write_panel

    if (args.start is None) != (args.end is None) or (args.start is None and not args.on):
        print("error: a panel needs --from and --to (a series), or --on DAY (repeatable)", file=sys.stderr)
        return 2
    if args.output == "-":
        print("error: a panel writes a file and its codebook: give a directory with -o", file=sys.stderr)
        return 2
    store = _store(settings)
    try:
        days = list(args.on or ())
        if args.start is not None:
            days += area_questions.series_days(args.start, args.end, Step(args.every))
        rows = area_questions.panel_by_day(store, days)
        as_of = store.get_meta().get("data_date")
        written, count = write_panel(rows, Path(args.output), PanelFormat(args.panel_format), as_of)
    except QuestionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"exported {count} rows ({len(set(days))} days) to {', '.join(map(str, written))}")
    return 0
