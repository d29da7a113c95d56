"""The ``graph-service`` command line."""

from __future__ import annotations

import argparse
import csv
import errno
import json
import os
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph_service.cli.commands import iso_date

if TYPE_CHECKING:  # imported on use: `graph-service --help` imports none of them
    from graph_service.settings import Settings
    from graph_service.store import GraphStore
    from loaders.common import LoadReport

SAMPLE_FILES = {
    "establishments_january": "edubasealldata20250115_birmingham_with_ofsted.csv",
    "establishments": "edubasealldata20250718_birmingham.csv",
    "links": "links_edubasealldata20250718_birmingham.csv",
    "hubs": "teaching_school_hubs_lead_schools.csv",
    "children_centres": "childrencentres20250727_birmingham.csv",
    "ofsted": "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025_birmingham.csv",
    "ofsted_report_cards": "management_information_report_card_format_birmingham.csv",
}


def sample_path(name: str) -> Path:
    """A file of the bundled Birmingham sample."""
    return Path(str(resources.files("graph_service").joinpath("sample_data", name)))


def print_rows(rows: Sequence[dict[str, Any]], fmt: str, out: Any = None) -> None:
    """Print rows as an aligned table (:func:`graph_service.tables.write_table`), JSON or CSV."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(list(rows), out, indent=2, default=str, ensure_ascii=False)
        out.write("\n")
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        from graph_service.spreadsheet import safe_rows

        writer.writerows(safe_rows(rows))
        return
    # Within the terminal (at most 100 columns), long text wrapped, not cut: graph_service.tables.
    from graph_service.tables import write_table

    write_table(rows, out)


def _store(settings: Settings, reading: bool = True) -> GraphStore:
    """The store a command works on; a reading command says which on stderr, and on an empty default store
    reads the demo's (a load names its store with its summary, :func:`_finish_load`)."""
    from graph_service.cli import demo

    if reading:
        settings, note = demo.reading_settings(settings)
        print(f"store: {demo.where(settings)}{note}", file=sys.stderr)
    if "neo4j_in_memory" not in settings.model_fields_set:
        # A command asks one question: on Neo4j, narrowing it down in Cypher beats reading the
        # whole graph into memory first (which pays off only in a server, question after question).
        settings = settings.model_copy(update={"neo4j_in_memory": False})
    from graph_service.store import make_store

    store = make_store(settings)
    store.open()
    return store


def _report_target(args: argparse.Namespace) -> Path | None:
    """The ``--report`` file, checked before loading so that a bad path fails before anything is written."""
    if not args.report:
        return None
    target = Path(args.report)
    problem = None
    if target.is_dir():
        problem = errno.EISDIR
    elif not target.parent.is_dir():
        problem = errno.ENOENT
    elif not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        problem = errno.EACCES
    if problem is not None:
        from loaders.common import LoadError

        raise LoadError(f"{target}: cannot write the report of rejected rows ({os.strerror(problem)})")
    return target


def default_report_path(inputs: Sequence[str]) -> Path:
    """Where rejected rows go without ``--report``: ``<first input's stem>-rejected.csv`` here.

    The current directory rather than beside the input, which may be read-only (the bundled sample).

    >>> default_report_path(["/data/edubasealldata20250718.csv.gz"]).name
    'edubasealldata20250718-rejected.csv'
    """
    name = Path(inputs[0]).name if inputs else "load"
    for suffix in (".gz", ".csv", ".json", ".txt"):
        name = name.removesuffix(suffix)
    return Path.cwd() / f"{name}-rejected.csv"


def _finish_load(report: LoadReport, target: Path | None, settings: Settings) -> int:
    """Print the summary and write the report of rejected rows.

    With ``--report`` the report is always written (just its header after a clean load, so
    no earlier report stays behind); without it, rows that were rejected go to
    :func:`default_report_path`, and a clean load empties a report left there by an earlier one.
    """
    from graph_service.cli import demo
    from graph_service.tables import fit_lines

    print(f"store: {demo.where(settings)}")  # a path is not wrapped: it is copied whole
    print(fit_lines(report.summary()))
    shown = report.issues[:20]
    for issue in shown:
        print(fit_lines(f"rejected: {issue}"), file=sys.stderr)
    if len(report.issues) > len(shown):
        print(f"... and {len(report.issues) - len(shown)} more", file=sys.stderr)
    if target is not None:
        report.write_issues(target)
        print(f"report of rejected rows written to {target}")
        return 0
    default = default_report_path(report.files)
    if not report.issues and not default.is_file():
        return 0
    from loaders.common import LoadError

    try:
        report.write_issues(default)
    except LoadError as exc:
        # The load itself is done; failing now would hide that it was written.
        print(f"warning: {exc}; give --report FILE to write it elsewhere", file=sys.stderr)
        return 0
    if report.issues:
        print(f"report of rejected rows written to {default} (--report FILE to choose where)", file=sys.stderr)
    else:
        print(f"no rows rejected: emptied the earlier report {default}", file=sys.stderr)
    return 0


def cmd_load_gias(args: argparse.Namespace, settings: Settings) -> int:
    from loaders.gias import load_gias

    target = _report_target(args)
    store = _store(settings, reading=False)
    try:
        report = load_gias(
            store,
            [Path(p) for p in args.establishments],
            links=Path(args.links) if args.links else None,
            groups=Path(args.groups) if args.groups else None,
            group_links=Path(args.group_links) if args.group_links else None,
            hubs=Path(args.hubs) if args.hubs else None,
            strict=args.strict,
            dry_run=args.dry_run,
            as_of=args.as_of,
        )
    finally:
        store.close()
    return _finish_load(report, target, settings)


def cmd_load_ofsted(args: argparse.Namespace, settings: Settings) -> int:
    from loaders.ofsted import load_ofsted

    target = _report_target(args)
    store = _store(settings, reading=False)
    try:
        report = load_ofsted(store, Path(args.file), strict=args.strict, dry_run=args.dry_run)
    finally:
        store.close()
    return _finish_load(report, target, settings)


def cmd_load_ties(args: argparse.Namespace, settings: Settings) -> int:
    from loaders.ties import load_ties

    target = _report_target(args)
    store = _store(settings, reading=False)
    try:
        report = load_ties(store, Path(args.file), strict=args.strict, dry_run=args.dry_run)
    finally:
        store.close()
    return _finish_load(report, target, settings)


def load_sample(store: GraphStore) -> LoadReport:
    """Load the bundled Birmingham sample: January 2025 (with Ofsted), July 2025 over it, then Ofsted's files."""
    load_sample_first(store)
    report = load_sample_newest(store)
    load_sample_ofsted(store)
    return report


def load_sample_ofsted(store: GraphStore) -> list[LoadReport]:
    """Birmingham's rows of Ofsted's files: outcomes as at 31 August 2025, then a report card."""
    from loaders.ofsted import load_ofsted

    return [load_ofsted(store, sample_path(SAMPLE_FILES[name])) for name in ("ofsted", "ofsted_report_cards")]


def load_sample_first(store: GraphStore) -> LoadReport:
    """The sample's January 2025 extract, the one with Ofsted ratings."""
    from loaders.gias import load_gias

    return load_gias(store, [sample_path(SAMPLE_FILES["establishments_january"])])


def load_sample_newest(store: GraphStore) -> LoadReport:
    """The sample's July 2025 extract with links, hubs and children's centres (over January's)."""
    from loaders.gias import load_gias

    return load_gias(
        store,
        [sample_path(SAMPLE_FILES["establishments"]), sample_path(SAMPLE_FILES["children_centres"])],
        links=sample_path(SAMPLE_FILES["links"]),
        hubs=sample_path(SAMPLE_FILES["hubs"]),
    )


def _workers(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"workers must be 1 to 64, not {number}")
    return number


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from graph_service.cli import demo

    print(f"store: {demo.where(settings)}", file=sys.stderr)

    from graph_service.api.app import create_app
    from graph_service.api.auth import server_options  # connection cap, header timeout, log floods

    if args.workers > 1:
        # Each worker process builds its own app and store from the environment, as this one read it,
        # and keeps its own graph in memory, rebuilt only after a write (the store's version check).
        uvicorn.run(
            "graph_service.api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            **server_options(settings),
        )
    else:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", **server_options(settings))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from graph_service.cli import demo

    settings = demo.demo_settings(settings)
    try:
        demo.check_port(args.host, args.port)
    except demo.PortBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"demo store: {demo.where(settings)} (GRAPH_SERVICE_DB to choose another)")
    store = _store(settings, reading=False)
    try:
        loaded = demo.load_demo(store)
    finally:
        store.close()
    print("\n".join(loaded.lines()))
    print(f"start here: {demo.start_url(args.host, args.port)}  (API pages: /docs, /redoc; Ctrl-C stops)")
    print(f"from the command line: {demo.command_line(settings)}")
    return cmd_serve(args, settings)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; of the verbs in ``commands.VERBS`` only the one ``argv`` names is imported."""
    parser = argparse.ArgumentParser(
        prog="graph-service",
        description="How schools in England work together: load, question, export and draw the graph.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    load = sub.add_parser("load", help="load files into the store").add_subparsers(dest="what", required=True)

    def load_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--strict", action="store_true", help="refuse the whole file at the first bad row")
        p.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
        p.add_argument(
            "--report",
            metavar="FILE",
            help="write rejected rows (file, line, column, reason) as CSV, header only if none"
            " (default: <input>-rejected.csv here, when rows are rejected)",
        )

    gias = load.add_parser("gias", help="GIAS establishments (and links, groups, hubs)")
    gias.add_argument("establishments", nargs="*", help="edubasealldata*.csv[.gz] (or a children's centres file)")
    gias.add_argument("--links", help="establishment links file (links_edubasealldata*.csv)")
    gias.add_argument("--groups", help="allgroupsdata.csv")
    gias.add_argument("--group-links", help="alllinksdata.csv")
    gias.add_argument("--hubs", help="teaching school hubs lead schools CSV")
    gias.add_argument(
        "--as-of", type=iso_date, help="extract date (default: the file name's, else its newest LastChangedDate)"
    )
    load_options(gias)
    gias.set_defaults(func=cmd_load_gias)

    ofsted = load.add_parser("ofsted", help="Ofsted inspection outcomes (statistics or management information)")
    ofsted.add_argument("file", help="an Ofsted CSV[.gz]: outcomes 'as at' a date, or monthly management information")
    load_options(ofsted)
    ofsted.set_defaults(func=cmd_load_ofsted)

    ties = load.add_parser("ties", help="collaboration ties (CSV or JSON)")
    ties.add_argument("file")
    load_options(ties)
    ties.set_defaults(func=cmd_load_ties)

    for name, helptext, func in (
        ("serve", "run the API", cmd_serve),
        ("demo", "load the bundled Birmingham sample and serve it", cmd_demo),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument(
            "--workers",
            type=_workers,
            default=1,
            help="server processes (default 1); each keeps its own copy of the graph in memory",
        )
        p.set_defaults(func=func)

    add_question_commands(sub, argv)
    return parser


def add_question_commands(sub: Any, argv: Sequence[str] | None = None) -> None:
    """Every verb of ``commands.VERBS`` listed; the one ``argv`` asks for (all when None) configured."""
    from graph_service.cli import commands

    words = sys.argv[1:] if argv is None else list(argv)
    chosen = next((word for word in words if not word.startswith("-")), None)
    for name, (_module, helptext) in commands.VERBS.items():
        p = sub.add_parser(name, help=helptext)
        if name == chosen:
            _helptext, configure, run = commands.load(name)
            configure(p)
            p.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from graph_service.settings import Settings
    from graph_service.store import StoreError
    from loaders.common import LoadError

    settings = Settings()
    try:
        return int(args.func(args, settings))
    except (LoadError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): end quietly, as other tools do; nothing more reaches stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # A file that cannot be written or read (a missing folder, no permission): one line, no traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was written by the unfinished step", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
