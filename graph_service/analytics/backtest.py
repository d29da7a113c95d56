"""The support question measured against what brokers actually decided: real sponsor-led take-overs.

GIAS records each take-over of a local-authority-maintained school by a trust as a ``Successor``
link from the maintained school to an ``Academy sponsor led`` school that is in a trust. For each
such case the support question is asked about the maintained school as at the day before the
academy opened, and the rank of the real trust is read off the answer (the trust's line, or a
line for one of its schools open on that day). Two baselines are ranked the same way: the nearest
trust (by its nearest open school) and the trust with the most open schools in the local
authority.

What the data leaks, and what it does not: the successor school is never used (it opens the day
after the question, so it is not open on the date asked, and no tie is walked through it); but
GIAS memberships carry no start date unless the groups files are loaded (an academy's opening
date stands in: converters and sponsored academies get a new URN when they join, transfers
between trusts do not), and ratings are the latest known unless inspection history is loaded,
so they may be later than the case.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import networkx as nx
import numpy as np

from graph_service.analytics.choice import ChoiceFit, conditional_logit
from graph_service.analytics.geo import location
from graph_service.analytics.standing import rating_on
from graph_service.analytics.support import (
    PARTS,
    Line,
    SupportIndex,
    SupportRules,
    SupportWeights,
    assume_good,
    line_reaches,
    rank_lines,
    support_index,
)
from graph_service.models import EdgeKind, NodeKind
from graph_service.spreadsheet import safe_rows

#: Cases before this day tune the weights; the rest are held out.
HELD_OUT_FROM = date(2019, 9, 1)
#: The baselines rank the trusts with an open school within this many km (a trust further away
#: is a miss for them too).
BASELINE_KM = 100.0
HITS = (1, 3, 10)
METHODS = ("support", "nearest_trust", "most_in_la")


@dataclass(frozen=True)
class Case:
    """One real take-over: a maintained school, the academy that replaced it and its trust."""

    school: str
    successor: str
    trust: str
    taken_over: date

    @property
    def day(self) -> date:
        """The day the question is asked: the day before the academy opened."""
        return self.taken_over - timedelta(days=1)


def takeover_cases(graph: nx.MultiDiGraph) -> list[Case]:
    """Every sponsor-led take-over of a local-authority-maintained school that ``graph`` records.

    A ``predecessor_of`` tie from a school of the type group "Local authority maintained
    schools" to an "Academy sponsor led" school with a trust, dated by the academy's opening
    date (the tie's date when the academy has none). In URN order.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", type_group="Local authority maintained schools")
    >>> g.add_node("2", kind="school", type_name="Academy sponsor led", opened=date(2015, 9, 1))
    >>> g.add_node("group-9", kind="trust")
    >>> _ = g.add_edge("1", "2", kind="predecessor_of"); _ = g.add_edge("2", "group-9", kind="member_of")
    >>> takeover_cases(g)
    [Case(school='1', successor='2', trust='group-9', taken_over=datetime.date(2015, 9, 1))]
    """
    nodes = graph.nodes
    cases = []
    for school, successor, data in graph.edges(data=True):
        if data.get("kind") != EdgeKind.PREDECESSOR_OF.value:
            continue
        if nodes[school].get("type_group") != "Local authority maintained schools":
            continue
        if nodes[successor].get("type_name") != "Academy sponsor led":
            continue
        trusts = sorted(
            other
            for _s, other, tie in graph.out_edges(successor, data=True)
            if tie.get("kind") == EdgeKind.MEMBER_OF.value and nodes[other].get("kind") == NodeKind.TRUST.value
        )
        taken_over = nodes[successor].get("opened") or data.get("since")
        if trusts and taken_over is not None:
            cases.append(Case(school, successor, trusts[0], taken_over))
    cases.sort(key=lambda case: (int(case.school) if case.school.isdigit() else 0, case.school, case.successor))
    return cases


def _nearest_trusts(index: SupportIndex, case: Case, rules: SupportRules, radius_km: float) -> dict[str, float]:
    """Trusts with an open school within ``radius_km`` of the case's school, by their nearest one, nearest first."""
    nodes = index.attrs
    point = location(nodes[case.school])
    nearest: dict[str, float] = {}
    if point is None:
        return nearest
    day = case.day
    for node, km in index.member_points.within(point[0], point[1], radius_km):
        if node == case.school or not index.open_on(node, day):
            continue
        if rules.state_funded_only and node in index.not_state_funded:
            continue
        for group, since, until in index.groups_of[node]:
            if group in nearest or nodes[group].get("kind") != NodeKind.TRUST.value:
                continue
            if (since is None or since <= day) and (until is None or day <= until):
                nearest[group] = km
    return nearest


def _baselines(
    index: SupportIndex, case: Case, rules: SupportRules, by_la: dict[Any, list[str]], first_km: float
) -> tuple[int | None, int | None]:
    """Ranks of the real trust by the nearest-trust and most-schools-in-the-LA baselines."""
    nodes = index.attrs
    day = case.day
    # Most trusts are found within first_km; the wider search (every trust ranked before the
    # real one is nearer than it) only when it is not.
    nearest = _nearest_trusts(index, case, rules, first_km)
    if case.trust not in nearest:
        nearest = _nearest_trusts(index, case, rules, BASELINE_KM)
    order = list(nearest)
    near_rank = order.index(case.trust) + 1 if case.trust in nearest else None
    counts: dict[str, int] = defaultdict(int)
    for node in by_la.get(nodes[case.school].get("la_code"), ()):
        if node == case.school or not index.open_on(node, day):
            continue
        if rules.state_funded_only and node in index.not_state_funded:
            continue
        for group, since, until in index.groups_of[node]:
            if nodes[group].get("kind") == NodeKind.TRUST.value and (
                (since is None or since <= day) and (until is None or day <= until)
            ):
                counts[group] += 1
    ranked = sorted(
        set(counts) | set(nearest), key=lambda trust: (-counts.get(trust, 0), nearest.get(trust, 1e9), trust)
    )
    la_rank = ranked.index(case.trust) + 1 if case.trust in ranked else None
    return near_rank, la_rank


def run_backtest(
    graph: nx.MultiDiGraph,
    *,
    cases: Sequence[Case] | None = None,
    ignore_ratings: bool = False,
    weights: SupportWeights | None = None,
    rules: SupportRules | None = None,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    index: SupportIndex | None = None,
) -> list[dict[str, Any]]:
    """One row per case: the ranks of the real trust by the support question and both baselines.

    ``ignore_ratings`` treats every state-funded school as rated Good (see
    :func:`~graph_service.analytics.support.assume_good`), so that the network, geography and
    trust parts are judged alone. A case whose successor was open on the day asked (GIAS dates
    out of order) is skipped, said in its row's ``skipped``.
    """
    index = index if index is not None else support_index(graph)
    rules = rules or SupportRules()
    weights = weights or SupportWeights()
    nodes = graph.nodes
    by_la: dict[Any, list[str]] = defaultdict(list)
    for node, attrs in graph.nodes(data=True):
        if node in index.groups_of:
            by_la[attrs.get("la_code")].append(node)
    rows = []
    for case in cases if cases is not None else takeover_cases(graph):
        attrs = nodes[case.school]
        row: dict[str, Any] = {
            "urn": case.school,
            "name": attrs.get("name", case.school),
            "phase": attrs.get("phase"),
            "local_authority": attrs.get("local_authority"),
            "asked_as_at": case.day,
            "year": case.taken_over.year,
            "held_out": case.taken_over >= HELD_OUT_FROM,
            "successor": case.successor,
            "trust": case.trust,
            "trust_name": nodes[case.trust].get("name", case.trust),
            "support_rank": None,
            "nearest_trust_rank": None,
            "most_in_la_rank": None,
            "top": None,
            "skipped": None,
        }
        if index.open_on(case.successor, case.day):
            row["skipped"] = "the successor was open on the day asked (GIAS dates out of order)"
            rows.append(row)
            continue
        lines = _lines(graph, case, ignore_ratings, weights, rules, radius_km, trust_radius_km, index)
        row["support_rank"] = next(
            (rank for rank, line in enumerate(lines, 1) if line_reaches(graph, line, case.trust, case.day, index)),
            None,
        )
        row["top"] = lines[0].id if lines else None
        row["nearest_trust_rank"], row["most_in_la_rank"] = _baselines(index, case, rules, by_la, trust_radius_km)
        rows.append(row)
    return rows


def _lines(
    graph: nx.MultiDiGraph,
    case: Case,
    ignore_ratings: bool,
    weights: SupportWeights | None,
    rules: SupportRules,
    radius_km: float,
    trust_radius_km: float,
    index: SupportIndex,
) -> list[Line]:
    """Every line of the support answer about a case's school, asked the day before its take-over."""
    lines, *_ = rank_lines(
        graph,
        case.school,
        case.day,
        radius_km=radius_km,
        trust_radius_km=trust_radius_km,
        weights=weights,
        rules=rules,
        rating_of=assume_good if ignore_ratings else rating_on,
        areas=not ignore_ratings,
        index=index,
    )
    return lines


def summarise(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """hit@1, hit@3, hit@10 and MRR of each method over the rows not skipped (a rank of None scores 0).

    Examples
    --------
    >>> summarise([{"support_rank": 1, "nearest_trust_rank": 4, "most_in_la_rank": None, "skipped": None}])
    {'cases': 1, 'support': {'hit@1': 1.0, 'hit@3': 1.0, 'hit@10': 1.0, 'mrr': 1.0}, \
'nearest_trust': {'hit@1': 0.0, 'hit@3': 0.0, 'hit@10': 1.0, 'mrr': 0.25}, \
'most_in_la': {'hit@1': 0.0, 'hit@3': 0.0, 'hit@10': 0.0, 'mrr': 0.0}}
    """
    kept = [row for row in rows if not row.get("skipped")]
    summary: dict[str, Any] = {"cases": len(kept)}
    for method in METHODS:
        summary[method] = hits([row[f"{method}_rank"] for row in kept])
    return summary


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def report(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures a user reads: all cases, tuning (before 2019-09-01), held out, and by year and phase."""
    tables: dict[str, Any] = {
        "all": summarise(rows),
        "tuning": summarise(row for row in rows if not row["held_out"]),
        "held_out": summarise(row for row in rows if row["held_out"]),
        "skipped": sum(1 for row in rows if row.get("skipped")),
    }
    for by in ("year", "phase"):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[str(row[by])].append(row)
        tables[f"by_{by}"] = {key: summarise(groups[key]) for key in sorted(groups)}
    for name, held_out in (("tuning", False), ("held_out", True)):
        stages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if row["held_out"] is held_out:
                stages[stage(row["phase"])].append(row)
        tables[f"{name}_by_stage"] = {key: summarise(stages[key]) for key in STAGES if key in stages}
    return tables


#: The stages the figures are broken down by, tuning and held out apart.
STAGES = ("primary", "secondary", "other")


def stage(phase: str | None) -> str:
    """``primary`` (nursery, primary, middle deemed primary), ``secondary`` (secondary, middle deemed
    secondary, all-through) or ``other`` (special schools and PRUs without a phase, 16 plus).

    Examples
    --------
    >>> stage("middle_deemed_primary"), stage("all_through"), stage(None)
    ('primary', 'secondary', 'other')
    """
    if phase in ("nursery", "primary", "middle_deemed_primary"):
        return "primary"
    if phase in ("secondary", "middle_deemed_secondary", "all_through"):
        return "secondary"
    return "other"


CSV_COLUMNS = (
    "urn", "name", "phase", "local_authority", "asked_as_at", "year", "held_out", "successor", "trust",
    "trust_name", "support_rank", "nearest_trust_rank", "most_in_la_rank", "top", "skipped",
)  # fmt: skip


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """One CSV row per case (ranks empty when the trust was not ranked at all)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_rows({key: row.get(key) for key in CSV_COLUMNS} for row in rows))
    return out.getvalue()


__all__ = [
    "BASELINE_KM",
    "HELD_OUT_FROM",
    "Case",
    "report",
    "run_backtest",
    "summarise",
    "takeover_cases",
    "to_csv",
]


# -- fitting the weights on the tuning cases ---------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One case as a choice among the support answer's lines: each line's parts, and which was the real trust."""

    case: Case
    stage: str
    #: One row per line, one column per part (:data:`~graph_service.analytics.support.PARTS`).
    parts: np.ndarray
    #: Row of the first line that reaches the real trust (-1: not among the lines).
    chosen: int
    #: Per line, the keys the answer orders by before the score: put after by phase, put first by faith.
    demoted: np.ndarray
    first: np.ndarray

    @property
    def held_out(self) -> bool:
        return self.case.taken_over >= HELD_OUT_FROM


def choices(
    graph: nx.MultiDiGraph,
    cases: Sequence[Case],
    *,
    ignore_ratings: bool = False,
    rules: SupportRules | None = None,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    index: SupportIndex | None = None,
) -> list[Choice]:
    """Every case's lines as a :class:`Choice` (cases whose successor was open on the day are left out)."""
    index = index if index is not None else support_index(graph)
    rules = rules or SupportRules()
    found = []
    for case in cases:
        if index.open_on(case.successor, case.day):
            continue
        lines = _lines(graph, case, ignore_ratings, None, rules, radius_km, trust_radius_km, index)
        chosen = next(
            (at for at, line in enumerate(lines) if line_reaches(graph, line, case.trust, case.day, index)), -1
        )
        found.append(
            Choice(
                case,
                stage(graph.nodes[case.school].get("phase")),
                np.array([[line.values[part][0] for part in PARTS] for line in lines], dtype=float).reshape(
                    len(lines), len(PARTS)
                ),
                chosen,
                np.array([line.demoted is not None for line in lines], dtype=bool),
                np.array([line.first and rules.faith_first for line in lines], dtype=bool),
            )
        )
    return found


def choice_ranks(found: Sequence[Choice], coefficients: np.ndarray) -> list[int | None]:
    """Rank of the real trust's line in each case with the parts weighted by ``coefficients``.

    Lines are ordered as the answer orders them: put after by phase, then put first by faith, then
    by score (a tie counts against the real trust).

    Examples
    --------
    >>> case = Case("1", "2", "t", date(2020, 9, 1))
    >>> parts = np.zeros((3, len(PARTS))); parts[:, 0] = [0.2, 0.9, 0.5]
    >>> found = [Choice(case, "primary", parts, 2, np.zeros(3, bool), np.zeros(3, bool))]
    >>> coefficients = np.zeros(len(PARTS)); coefficients[0] = 1.0
    >>> choice_ranks(found, coefficients)
    [2]
    """
    ranks: list[int | None] = []
    for choice in found:
        if choice.chosen < 0:
            ranks.append(None)
            continue
        score = choice.parts @ coefficients
        at = choice.chosen
        ahead = (choice.demoted < choice.demoted[at]) | (
            (choice.demoted == choice.demoted[at])
            & ((choice.first > choice.first[at]) | ((choice.first == choice.first[at]) & (score >= score[at])))
        )
        ranks.append(int(ahead.sum()))
    return ranks


def hits(ranks: Sequence[int | None]) -> dict[str, float]:
    """hit@1, hit@3, hit@10 and MRR of ranks (None scores 0).

    Examples
    --------
    >>> hits([1, 4, None, 12])
    {'hit@1': 0.25, 'hit@3': 0.25, 'hit@10': 0.5, 'mrr': 0.3333}
    """
    figures = {f"hit@{k}": _share(sum(1 for r in ranks if r is not None and r <= k), len(ranks)) for k in HITS}
    figures["mrr"] = round(sum(1 / r for r in ranks if r) / len(ranks), 4) if ranks else 0.0
    return figures


def fit_weights(found: Sequence[Choice], folds: int = 5) -> dict[str, Any]:
    """Fit the parts' weights by conditional logit on the tuning cases, cross-validated within them.

    The tuning cases (before :data:`HELD_OUT_FROM`) are cut into ``folds`` blocks of consecutive
    take-overs; each block is ranked with weights fitted on the others (hit@k and MRR of those
    out-of-block ranks), then the weights are fitted on all tuning cases and the held-out cases
    ranked with them. Coefficients are on the parts' 0-1 scale: ranking by them is ranking by the
    score with them as weights.
    """
    tuning = sorted((c for c in found if not c.held_out), key=lambda c: (c.case.taken_over, c.case.school))
    held = [c for c in found if c.held_out]
    fitted, free = nonnegative_fit(tuning)
    cross: list[int | None] = []
    for fold in range(folds):
        test = tuning[len(tuning) * fold // folds : len(tuning) * (fold + 1) // folds]
        train = [c for c in tuning if c not in test]
        cross.extend(choice_ranks(test, nonnegative_fit(train)[0]))
    tuning_ranks = choice_ranks(tuning, fitted)
    held_ranks = choice_ranks(held, fitted)
    by_stage = {
        f"{name}, {key}": hits([r for c, r in zip(group, ranks, strict=True) if c.stage == key])
        for name, group, ranks in (("tuning", tuning, tuning_ranks), ("held out", held, held_ranks))
        for key in STAGES
        if any(c.stage == key for c in group)
    }
    return {
        "coefficients": {
            part: (round(float(b), 4), round(float(se), 4), round(float(weight), 2))
            for part, b, se, weight in zip(PARTS, free.coefficients, free.standard_errors, fitted, strict=True)
        },
        "cases": free.cases,
        "log_likelihood": round(free.log_likelihood, 2),
        "pseudo_r2": round(free.pseudo_r2, 4),
        "cross_validated": hits(cross),
        "tuning": hits(tuning_ranks),
        "held_out": hits(held_ranks),
        "by_stage": by_stage,
    }


def nonnegative_fit(found: Sequence[Choice]) -> tuple[np.ndarray, ChoiceFit]:
    """Conditional logit with every coefficient at least 0: the weights a broker can read as reasons for a line.

    A part whose coefficient comes out negative (a part that, beside the others, counts against
    a line: collinear with them) is fixed at 0 and the fit repeated without it, the most
    negative first, until none is negative. Returns those coefficients and the first fit, of every
    part free (its coefficients and standard errors are the ones to print).

    Examples
    --------
    >>> case = Case("1", "2", "t", date(2020, 9, 1))
    >>> parts = np.zeros((2, len(PARTS))); parts[:, 0] = [1.0, 0.0]; parts[:, 1] = [0.0, 1.0]
    >>> chosen = [Choice(case, "primary", parts, 0, np.zeros(2, bool), np.zeros(2, bool))] * 3
    >>> chosen += [Choice(case, "primary", parts, 1, np.zeros(2, bool), np.zeros(2, bool))]
    >>> weights, free = nonnegative_fit(chosen)
    >>> round(float(weights[0]), 2), float(weights[1]), bool(free.coefficients[1] < 0)
    (1.1, 0.0, True)
    """
    kept = np.ones(len(PARTS), dtype=bool)
    free: ChoiceFit | None = None
    while True:
        fit = conditional_logit([c.parts[:, kept] for c in found], [c.chosen for c in found], ridge=RIDGE)
        free = free or fit
        coefficients = np.zeros(len(PARTS))
        coefficients[kept] = fit.coefficients
        if (coefficients >= 0).all():
            return coefficients, free
        kept[int(np.argmin(coefficients))] = False


#: The ridge of the fit: keeps parts that never vary within a case (with ratings ignored: capacity,
#: strength, areas) at 0 instead of unidentified.
RIDGE = 1e-3
