"""CLI verbs: isolated, support, health."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from graph_service import areas, questions
from graph_service.cli.commands import Command, iso_date
from graph_service.models import NodeKind, Phase, Status
from graph_service.settings import Settings
from graph_service.store import GraphStore

FORMATS = ("table", "json", "csv")


def _choice(enum: Any) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return enum(text.lower().replace(" ", "_").replace("-", "_"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not one of {', '.join(member.value for member in enum)}"
            ) from None

    return parse


def _weight(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if name not in questions.SupportWeights.model_fields:
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a part of the score; expected one of {', '.join(questions.SupportWeights.model_fields)}"
        )
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"weight {text!r} needs a number, e.g. {name}=2") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-at", type=iso_date, help="as the network stood on this date (YYYY-MM-DD; default today)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or csv")


def _area(parser: argparse.ArgumentParser) -> None:
    # --la everywhere (isolated, health, render, export); --la-code, the old spelling of render and export, too.
    parser.add_argument("--la", "--la-code", dest="la", help="local authority: code (330) or name (Birmingham)")
    parser.add_argument("--district", help="administrative district name")
    parser.add_argument("--constituency", help="parliamentary constituency name")
    parser.add_argument("--phase", action="append", type=_choice(Phase), help="phase (repeatable)")
    parser.add_argument("--type", action="append", help="school type, e.g. academy_converter (repeatable)")
    parser.add_argument("--status", action="append", type=_choice(Status), help="status (default: open; repeatable)")
    parser.add_argument(
        "--kind", action="append", type=_choice(NodeKind), help="kind covered (default: school; repeatable)"
    )


def _filters(args: argparse.Namespace, types: list[str] | None = None) -> questions.AreaFilter:
    la_code, local_authority = areas.parse_la(args.la)
    return questions.AreaFilter(
        la_code=la_code,
        local_authority=local_authority,
        district=args.district,
        constituency=args.constituency,
        phases=args.phase or [],
        types=args.type or [] if types is None else types,
        statuses=args.status or [],
        kinds=args.kind or [NodeKind.SCHOOL],
    )


def _isolated_types(args: argparse.Namespace) -> list[str]:
    """Types an isolated list covers: those asked for, else state-funded schools; less --exclude-type."""
    excluded = {text.lower().replace(" ", "_").replace("-", "_") for text in args.exclude_type or ()}
    if args.type:
        return [kind for kind in args.type if kind.lower().replace(" ", "_") not in excluded]
    if args.kind and set(args.kind) != {NodeKind.SCHOOL}:
        return []  # colleges and other kinds have their own subtypes: no default exclusion
    return areas.default_types(excluded, everything=args.all_types)


def _checked(
    filters: questions.AreaFilter, ask: Callable[[GraphStore], BaseModel]
) -> Callable[[GraphStore], BaseModel]:
    """``ask``, after checking that the area named holds something (else an error naming the nearest areas)."""

    def run(store: GraphStore) -> BaseModel:
        areas.check_area(store, filters.la_code, filters.local_authority, filters.district, filters.constituency)
        return ask(store)

    return run


def _open(settings: Settings) -> GraphStore:
    from graph_service.cli.main import _store

    return _store(settings)


def _print(rows: list[dict[str, Any]], answer: BaseModel, fmt: str) -> None:
    from graph_service.cli.main import print_rows

    if fmt == "json":
        json.dump(answer.model_dump(mode="json"), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_rows(rows, fmt)


def _ask(settings: Settings, question: Callable[[GraphStore], BaseModel]) -> BaseModel | None:
    store = _open(settings)
    try:
        return question(store)
    except (questions.QuestionError, areas.UnknownArea) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    finally:
        store.close()


# -- isolated ------------------------------------------------------------------------------


def configure_isolated(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Open schools with no current collaboration tie (a local authority maintaining a school does not "
        "count), riskiest first, each with why. --max-ties, --loose and --remote-km also list weakly "
        "connected and remote schools; --summary gives one row per area instead."
    )
    _area(parser)
    parser.add_argument("--max-ties", type=int, default=0, help="also list schools with at most K ties")
    parser.add_argument("--loose", action="store_true", help="also list schools with only loose collaboration")
    parser.add_argument("--remote-km", type=float, help="also list schools with no partner within D km")
    parser.add_argument("--limit", type=int, help="show at most N schools")
    parser.add_argument(
        "--exclude-type",
        action="append",
        metavar="TYPE",
        help="leave out a school type, e.g. nursery_school (repeatable)",
    )
    parser.add_argument(
        "--all-types",
        action="store_true",
        help="also independent schools and GIAS's other types (overseas, online...); default: state-funded only",
    )
    parser.add_argument(
        "--summary",
        nargs="?",
        const=questions.GroupBy.LOCAL_AUTHORITY,
        type=_choice(questions.GroupBy),
        metavar="BY",
        help="area summary by local_authority (default), district, constituency, phase or none",
    )
    _common(parser)


def _sizes(sizes: list[int], fmt: str) -> str:
    """Island sizes; a table shows the largest eight and how many more.

    >>> _sizes([5, 3, 2, 2, 2, 2, 2, 2, 2, 2], "table"), _sizes([5, 3], "csv")
    ('5 3 2 2 2 2 2 2 +2 more', '5 3')
    """
    shown = sizes[:8] if fmt == "table" else sizes
    more = f" +{len(sizes) - len(shown)} more" if len(sizes) > len(shown) else ""
    return " ".join(map(str, shown)) + more


def run_isolated(args: argparse.Namespace, settings: Settings) -> int:
    filters = _filters(args, _isolated_types(args))
    if args.summary is not None:
        summary = _ask(
            settings,
            _checked(
                filters,
                lambda store: questions.area_summaries(store, as_at=args.as_at, filters=filters, group_by=args.summary),
            ),
        )
        if not isinstance(summary, questions.AreaSummaryAnswer):
            return 1
        areas_rows = [
            row.model_dump() | {"island_sizes": _sizes(row.island_sizes, args.format)} for row in summary.rows
        ]
        _print(areas_rows, summary, args.format)
        return 0
    answer = _ask(
        settings,
        _checked(
            filters,
            lambda store: questions.isolated_schools(
                store,
                as_at=args.as_at,
                filters=filters,
                max_ties=args.max_ties,
                loose=args.loose,
                remote_km=args.remote_km,
                limit=args.limit,
            ),
        ),
    )
    if not isinstance(answer, questions.IsolatedAnswer):
        return 1
    rows: list[dict[str, Any]]
    if args.format == "table":
        # Fits a terminal: the facts a strategist scans, then the reasons on their own wrapped lines.
        rows = [
            {
                "URN": item.urn,
                "school": item.name,
                "type": item.type_name or item.subtype,
                "phase": item.phase,
                # A predecessor's judgement is said so: it is not counted in the school's risk.
                "Ofsted": f"{item.ofsted_rating} (predecessor's)" if item.inherited else item.ofsted_rating,
                "ties": item.tie_count,
                "nearest partner": (
                    f"{item.nearest_partner.name} ({item.nearest_partner.distance_km:.1f} km)"
                    if item.nearest_partner
                    else None
                ),
                "reasons": item.reasons,
            }
            for item in answer.items
        ]
    else:
        rows = [
            {
                "urn": item.urn,
                "name": item.name,
                "phase": item.phase,
                "local_authority": item.local_authority,
                "rating": item.ofsted_rating,
                "risk": item.risk,
                "ties": item.tie_count,
                "nearest_partner": item.nearest_partner.name if item.nearest_partner else None,
                "km": item.nearest_partner.distance_km if item.nearest_partner else None,
                "criteria": ",".join(item.criteria),
                "reasons": "; ".join(item.reasons),
                # Last, so that the earlier columns keep their places for existing readers.
                "type": item.type_name,
                "subtype": item.subtype,
                "judged_urn": item.judged_urn,
                "standing_basis": item.standing_basis,
            }
            for item in answer.items
        ]
    _print(rows, answer, args.format)
    if args.format == "table":
        print(f"{answer.total} school(s) listed as at {answer.as_at}", file=sys.stderr)
    return 0


# -- support -------------------------------------------------------------------------------


def configure_support(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Rank the trusts (one line each, with their schools near by), federations, teaching school hubs and "
        "single schools that could support a school in difficulty, with every part of the score, the reasons "
        "in words and every rule applied (see docs/questions.md)."
    )
    parser.add_argument("urn", help="URN of the school to support")
    _support_options(parser)
    parser.add_argument("--limit", type=int, default=10, help="candidates shown (default 10)")
    _common(parser)


def _support_options(parser: argparse.ArgumentParser) -> None:
    """Radius, rules and weights: shared by support and backtest."""
    parser.add_argument(
        "--radius-km", type=float, default=15.0, help="single schools, federations, hub leads within D km (default 15)"
    )
    parser.add_argument("--trust-radius-km", type=float, default=40.0, help="trusts within D km (default 40)")
    parser.add_argument("--any-phase", action="store_true", help="rule off: single schools of any phase")
    parser.add_argument("--any-provision", action="store_true", help="rule off: single schools of any provision")
    parser.add_argument("--include-independent", action="store_true", help="rule off: independent schools too")
    parser.add_argument("--no-faith-first", action="store_true", help="rule off: no religious character first")
    parser.add_argument("--undated", action="store_true", help="rule off: hubs and groups whatever their dates")
    parser.add_argument(
        "--any-trust-phase", action="store_true", help="rule off: secondaries offered trusts without secondaries alike"
    )
    parser.add_argument(
        "--count-inherited",
        action="store_true",
        help="rule off: count a predecessor's difficulty judgement as the re-opened school's own",
    )
    parser.add_argument(
        "--weight", action="append", type=_weight, metavar="PART=W", help="weight of a score part (repeatable)"
    )


def _support_rules(args: argparse.Namespace) -> questions.SupportRules:
    return questions.SupportRules(
        state_funded_only=not args.include_independent,
        require_phase=not args.any_phase,
        same_provision=not args.any_provision,
        faith_first=not args.no_faith_first,
        dated=not args.undated,
        secondary_trusts=not args.any_trust_phase,
        count_inherited=args.count_inherited,
    )


def _support_weights(args: argparse.Namespace) -> questions.SupportWeights | None:
    try:
        return questions.SupportWeights(**dict(args.weight or []))
    except ValidationError as exc:
        print(f"error: {'; '.join(error['msg'] for error in exc.errors())}", file=sys.stderr)
        return None


def run_support(args: argparse.Namespace, settings: Settings) -> int:
    weights = _support_weights(args)
    if weights is None:
        return 2
    answer = _ask(
        settings,
        lambda store: questions.support_partners(
            store,
            args.urn,
            as_at=args.as_at,
            radius_km=args.radius_km,
            trust_radius_km=args.trust_radius_km,
            limit=args.limit,
            weights=weights,
            rules=_support_rules(args),
        ),
    )
    if not isinstance(answer, questions.SupportAnswer):
        return 1
    if args.format == "table":
        _print_support(answer)
        return 0
    rows = []
    for candidate in answer.candidates:
        row: dict[str, Any] = {
            "rank": candidate.rank,
            "id": candidate.id,
            "kind": candidate.kind,
            "name": candidate.name,
            "ofsted_rating": candidate.ofsted_rating,
            "km": candidate.distance_km,
            "score": candidate.score,
            "schools_near": candidate.schools_near,
            "schools": "; ".join(f"{s.name} ({s.distance_km} km)" for s in candidate.schools),
        }
        # Points per part; the columns are the part names.
        row.update({part.name: part.points for part in candidate.parts})
        row["reasons"] = "; ".join(candidate.reasons)
        rows.append(row)
    _print(rows, answer, args.format)
    return 0


def _wrapped(text: str = "") -> None:
    """Print within the terminal (at most 100 columns), continuation lines indented under their start."""
    from graph_service.tables import fit_lines

    print(fit_lines(text))


def _print_support(answer: questions.SupportAnswer) -> None:
    """Each line, its schools near by under it, every part with value, weight and reason."""
    print = _wrapped  # every line within 100 columns
    school = answer.school
    print(f"support for {school.name} ({school.id}) as at {answer.as_at}, rated {school.ofsted_rating or 'unknown'}")
    if school.standing_basis:
        print(f"standing: {school.standing_basis}")
    for note in answer.notes:
        print(f"note: {note}")
    own = answer.current_trust
    if own is not None:
        print(f"its own {own.kind} (context, never ranked): {own.name} [{own.id}]")
        print(
            f"   {own.open_schools} open school(s), {own.schools_near} near by, {own.in_difficulty} in difficulty, "
            f"{own.sponsor_led_good} sponsor-led rated Good or better"
        )
        for supporter in own.supporters:
            where = "" if supporter.distance_km is None else f", {supporter.distance_km:.1f} km"
            print(
                f"   - could support from within: {supporter.name} ({supporter.id}), {supporter.ofsted_rating}{where}"
            )
    for rule in answer.rules_applied:
        print(f"rule: {rule}")
    print(f"{answer.total} line(s) scored; {answer.considered} single school(s) considered")
    for candidate in answer.candidates:
        km = "" if candidate.distance_km is None else f", {candidate.distance_km:.1f} km"
        first = ", first by religious character" if candidate.first else ""
        print(
            f"\n{candidate.rank}. {candidate.name} [{candidate.kind} {candidate.id}] score {candidate.score}{km}{first}"
        )
        if candidate.via_name:
            print(f"   through {candidate.via_name} ({candidate.via_id}), rated {candidate.ofsted_rating or 'unknown'}")
        if candidate.schools:
            more = candidate.schools_near - len(candidate.schools)
            print(f"   {candidate.schools_near} school(s) near by" + (f" ({more} more not listed)" if more > 0 else ""))
        for near in candidate.schools:
            where = "" if near.distance_km is None else f"{near.distance_km:.1f} km"
            la = ", same LA" if near.in_local_authority else ""
            print(f"   - {near.name} ({near.id}), {near.phase or 'phase unknown'}, {where}{la}, fit {near.fit:g}")
        for part in candidate.parts:
            figures = f"{part.points:>6.2f} pts  value {part.value:.2f} x weight {part.weight:g}"
            print(f"   {part.name:<13}{figures}: {part.reason}")


# -- backtest -------------------------------------------------------------------------------


def configure_backtest(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Measure the support question against real take-overs: every local-authority-maintained school "
        "that GIAS links to a sponsor-led academy in a trust, asked about as at the day before; the rank of "
        "the real trust beside the nearest-trust and most-schools-in-the-LA baselines (hit@1, hit@3, hit@10, "
        "MRR; tuning cases before 2019-09-01, held out from then; by year and phase). See docs/questions.md."
    )
    _support_options(parser)
    parser.add_argument("--ignore-ratings", action="store_true", help="treat every state-funded school as rated Good")
    parser.add_argument("--la", help="only cases in this local authority: code (330) or name (Birmingham)")
    parser.add_argument("--since", type=iso_date, help="only take-overs on or after this date")
    parser.add_argument("--until", type=iso_date, help="only take-overs on or before this date")
    parser.add_argument("--csv", type=Path, help="write one row per case to this CSV file")
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or csv")
    parser.add_argument(
        "--fit",
        action="store_true",
        help="refit the weights by conditional logit on the cases before 2019-09-01 and print each coefficient "
        "with its standard error, the cross-validated figures and the held-out figures",
    )


def _print_fit(answer: questions.FitAnswer) -> None:
    condition = "ratings ignored" if answer.ignore_ratings else "ratings as loaded"
    print(f"conditional logit on {answer.cases} tuning cases ({condition}): log-likelihood {answer.log_likelihood}, ")
    print(f"McFadden pseudo R2 {answer.pseudo_r2}")
    print(f"{'part':<14}{'coefficient':>12}{'std error':>11}{'weight >= 0':>12}{'default':>9}")
    for row in answer.coefficients:
        print(f"{row.part:<14}{row.coefficient:>12.3f}{row.standard_error:>11.3f}{row.weight:>12.2f}{row.default:>9g}")
    print(f"\n{'ranked with':<40}{'hit@1':>7}{'hit@3':>7}{'hit@10':>8}{'MRR':>7}")
    tables = [
        ("fitted >= 0, cross-validated (tuning)", answer.cross_validated),
        ("fitted, tuning", answer.tuning),
        ("fitted, held out", answer.held_out),
        ("defaults, tuning", answer.defaults_tuning),
        ("defaults, held out", answer.defaults_held_out),
        *((f"fitted, {name}", hits) for name, hits in answer.by_stage.items()),
    ]
    for name, hits in tables:
        print(f"{name:<40}{hits.hit_1:>7.1%}{hits.hit_3:>7.1%}{hits.hit_10:>8.1%}{hits.mrr:>7.3f}")


def run_backtest(args: argparse.Namespace, settings: Settings) -> int:
    weights = _support_weights(args)
    if weights is None:
        return 2
    if args.fit:
        fitted = _ask(
            settings,
            lambda store: questions.support_fit(
                store,
                ignore_ratings=args.ignore_ratings,
                radius_km=args.radius_km,
                trust_radius_km=args.trust_radius_km,
                rules=_support_rules(args),
            ),
        )
        if not isinstance(fitted, questions.FitAnswer):
            return 1
        if args.format == "json":
            print(fitted.model_dump_json(indent=2, by_alias=True))
        else:
            _print_fit(fitted)
        return 0
    answer = _ask(
        settings,
        lambda store: questions.support_backtest(
            store,
            ignore_ratings=args.ignore_ratings,
            la_code=None if args.la is None else areas.la_code_of(store, args.la),
            since=args.since,
            until=args.until,
            radius_km=args.radius_km,
            trust_radius_km=args.trust_radius_km,
            weights=weights,
            rules=_support_rules(args),
        ),
    )
    if not isinstance(answer, questions.BacktestAnswer):
        return 1
    if args.csv is not None:
        args.csv.write_text(answer.to_csv(), encoding="utf-8")
    rows = [
        {"cases": group, "n": figures.cases, "method": method, **getattr(figures, method).model_dump()}
        for group, figures in answer.tables()
        for method in ("support", "nearest_trust", "most_in_la")
    ]
    if args.format == "json":
        _print(rows, answer, "json")
        return 0
    if args.format == "table":
        for note in answer.notes:
            print(f"note: {note}")
    _print(rows, answer, args.format)
    return 0


# -- health --------------------------------------------------------------------------------

TABLES = ("summary", "nodes", "communities", "brokers")


def configure_health(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Network health of an area (any of the area options) or of the whole graph, on the school-school projection "
        "of the schools open on the day: degree, betweenness, eigenvector centrality, clustering, Leiden "
        "communities and brokers between them (docs/questions.md)."
    )
    _area(parser)
    parser.add_argument("--table", choices=TABLES, default="nodes", help="which table to print (default nodes)")
    parser.add_argument("--sort", type=_choice(questions.HealthSort), default=questions.HealthSort.BETWEENNESS)
    parser.add_argument("--top", type=int, default=50, help="rows of each table (default 50)")
    parser.add_argument("--sample", type=int, help="sources sampled for betweenness (default: exact when small)")
    parser.add_argument("--seed", type=int, default=42, help="seed of sampling and Leiden (default 42)")
    _common(parser)


def run_health(args: argparse.Namespace, settings: Settings) -> int:
    filters = _filters(args)
    area = filters if filters != questions.AreaFilter() else None
    answer = _ask(
        settings,
        _checked(
            filters,
            lambda store: questions.health(
                store, as_at=args.as_at, filters=area, sort=args.sort, top=args.top, sample=args.sample, seed=args.seed
            ),
        ),
    )
    if not isinstance(answer, questions.HealthAnswer):
        return 1
    rows: list[dict[str, Any]]
    if args.table == "summary":
        rows = [{"measure": key, "value": value} for key, value in answer.summary.model_dump().items()]
    elif args.table == "nodes":
        rows = [row.model_dump() for row in answer.nodes]
    elif args.table == "communities":
        rows = [
            row.model_dump(exclude={"members"})
            | {"kinds": ", ".join(f"{k} {n}" for k, n in row.kinds.items()), "central": "; ".join(row.central)}
            for row in answer.communities
        ]
    else:
        rows = [
            row.model_dump() | {"bridged_communities": " ".join(map(str, row.bridged_communities))}
            for row in answer.brokers
        ]
    _print(rows, answer, args.format)
    return 0


COMMANDS: dict[str, Command] = {
    "isolated": (
        "schools with no (or weak, or distant) collaboration, riskiest first",
        configure_isolated,
        run_isolated,
    ),
    "support": ("who could support a school in difficulty, with reasons", configure_support, run_support),
    "backtest": ("the support question measured against real take-overs", configure_backtest, run_backtest),
    "health": ("network health: centrality, communities, brokers", configure_health, run_health),
}
