"""The questions the service answers, shared by the API and the CLI.

Each function takes a :class:`~graph_service.store.GraphStore` and the question's
parameters and returns a pydantic answer, computed by :mod:`graph_service.analytics`.
The store first narrows the question down where its database can: Neo4j finds the
schools that can be isolated, or the candidates around a school and the network between
them, in Cypher (``GraphStore.isolation_graph`` and ``support_graph``) and hands over that
small subgraph; the embedded store hands over its cached whole graph, which it holds in
memory anyway. The same analytics then score and explain the answer on either, so both
backends give identical answers. Area summaries (islands of collaboration) and network
health (centralities, communities) are whole-graph networkx analytics on ``store.graph()``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from graph_service import memory
from graph_service.analytics import backtest as takeovers
from graph_service.analytics.health import health_report, health_task, measure, network_health
from graph_service.analytics.isolation import _histories as isolation_histories
from graph_service.analytics.isolation import area_summary, isolated, nearest_possible_partner
from graph_service.analytics.network import (
    CollaborationTimeline,
    SchoolFilter,
    collaboration_graph,
    collaboration_timeline,
)
from graph_service.analytics.standing import standing_in
from graph_service.analytics.support import (
    PARTS,
    SupportIndex,
    SupportRules,
    SupportWeights,
    support_candidates,
    support_index,
)
from graph_service.derived import (
    patch_partner_table,
    patch_risk_history,
    patch_selections,
    patch_support_index,
    patch_timeline,
    weak_graph,
)
from graph_service.index import Patch, on_patch, retire
from graph_service.models import EdgeKind, GovernanceLevel, MemberRole, NodeKind, OfstedRating, Phase, Status
from graph_service.store import GraphStore

__all__ = [
    "AreaFilter",
    "AreaSummaryAnswer",
    "BadQuestion",
    "GroupBy",
    "HealthAnswer",
    "HealthSort",
    "HealthStatus",
    "IsolatedAnswer",
    "NotFound",
    "Pending",
    "QuestionError",
    "BacktestAnswer",
    "SupportAnswer",
    "SupportRules",
    "SupportWeights",
    "area_summaries",
    "health",
    "health_status",
    "isolated_schools",
    "support_backtest",
    "support_partners",
]


class QuestionError(Exception):
    """A question that cannot be answered as asked."""


class NotFound(QuestionError):
    """The question names an organisation the store does not hold."""


class BadQuestion(QuestionError):
    """The question's parameters do not make sense together."""


class Pending(QuestionError):
    """A heavy answer is being computed in the background (or too many are): ask again later."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        #: Seconds to wait before asking again.
        self.retry_after = retry_after


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AreaFilter(_Model):
    """Which schools a question covers; every given field must match."""

    la_code: int | None = Field(default=None, description="Local authority code, e.g. 330.")
    local_authority: str | None = Field(default=None, description="Local authority name (any case).")
    district: str | None = Field(default=None, description="Administrative district name (any case).")
    constituency: str | None = Field(default=None, description="Parliamentary constituency name (any case).")
    phases: list[Phase] = Field(default_factory=list, description="Only these phases.")
    types: list[str] = Field(
        default_factory=list,
        description="Only these school types: subtype (academy_converter) or GIAS type name (Academy converter).",
    )
    statuses: list[Status] = Field(
        default_factory=list,
        description="Only these statuses; empty means open (today, or on as_at by opening and closing dates).",
    )
    kinds: list[NodeKind] = Field(
        default_factory=lambda: [NodeKind.SCHOOL], description="Kinds of organisation covered (schools by default)."
    )

    def to_filter(self) -> SchoolFilter:
        return SchoolFilter(
            kinds=tuple(kind.value for kind in self.kinds),
            la_code=self.la_code,
            local_authority=self.local_authority,
            district=self.district,
            constituency=self.constituency,
            phases=tuple(phase.value for phase in self.phases),
            types=tuple(self.types),
            statuses=tuple(status.value for status in self.statuses),
        )


# -- isolated schools -----------------------------------------------------------------------


class Criterion(StrEnum):
    """Why a school is listed by the isolated-schools question."""

    ISOLATED = "isolated"
    WEAK = "weak"
    LOOSE = "loose"
    REMOTE = "remote"


class TieBrief(_Model):
    """One collaboration tie of a school, from the school's side."""

    id: str = Field(description="Tie id.")
    kind: EdgeKind = Field(description="What the tie is.")
    direction: str = Field(description="'out' when the school is the tie's source, 'in' when its target.")
    other_id: str = Field(description="Id of the organisation at the other end.")
    other_name: str = Field(description="Its name.")
    other_kind: NodeKind | None = Field(description="Its kind.")
    level: GovernanceLevel | None = Field(default=None, description="Governance level (federated_with).")
    role: MemberRole | None = Field(default=None, description="Role in the group (member_of).")
    focus: str | None = Field(default=None, description="What the collaboration is about.")
    since: date | None = Field(default=None, description="First day of the tie, if known.")
    until: date | None = Field(default=None, description="Last day of the tie, if it has ended.")


class Partner(_Model):
    """The nearest organisation a school works with (directly, or through a shared group); for an isolated
    school, the nearest open school of its phase that collaborates (``possible``)."""

    id: str = Field(description="Partner id.")
    name: str = Field(description="Partner name.")
    kind: NodeKind | None = Field(description="Partner kind.")
    distance_km: float = Field(description="Straight-line distance in km.")
    via_id: str | None = Field(default=None, description="The group they share (trust, sponsor...), if not direct.")
    via_name: str | None = Field(default=None, description="Its name.")
    possible: bool = Field(
        default=False,
        description="A possible partner: the school is isolated, and this is the nearest open school of its"
        " phase (any phase when none of it collaborates) that does collaborate.",
    )


class _Judged(_Model):
    """On which school the standing shown was judged (analytics.standing)."""

    judged_urn: str | None = Field(
        default=None,
        description="The URN the inspection in force judged: the school's own, or a predecessor's when the "
        "judgement was inherited (empty: no inspection, or a predecessor GIAS does not name).",
    )
    inherited: bool = Field(
        default=False,
        description="Judged on a predecessor before the school re-opened (standing_basis says on which, when, and "
        "in which trust it re-opened): a difficulty judgement so inherited is not counted (risk, in difficulty).",
    )


class IsolatedSchool(_Judged):
    """A school listed by the isolated-schools question, with why."""

    id: str = Field(description="Organisation id (the URN for schools).")
    urn: int | None = Field(default=None, description="GIAS URN.")
    name: str = Field(description="School name.")
    kind: NodeKind = Field(description="Kind (school, or fe_college when asked for).")
    phase: Phase | None = Field(default=None, description="Phase of education.")
    subtype: str | None = Field(default=None, description="School type.")
    type_name: str | None = Field(default=None, description="GIAS TypeOfEstablishment.")
    status: Status = Field(description="Status today (GIAS keeps no history of it).")
    la_code: int | None = Field(default=None, description="Local authority code.")
    local_authority: str | None = Field(default=None, description="Local authority.")
    district: str | None = Field(default=None, description="Administrative district.")
    constituency: str | None = Field(default=None, description="Parliamentary constituency.")
    latitude: float | None = Field(default=None, description="WGS84 latitude.")
    longitude: float | None = Field(default=None, description="WGS84 longitude.")
    ofsted_rating: OfstedRating | None = Field(default=None, description="Ofsted standing on the date.")
    ofsted_date: date | None = Field(default=None, description="Date of the inspection it comes from.")
    standing_basis: str | None = Field(
        default=None,
        description="Where the standing comes from, in words: the inspection in force and the rule"
        " (docs/questions.md, 'Inspections and standing').",
    )
    judgements: str | None = Field(default=None, description="What that inspection says, in words.")
    risk: int = Field(description="Risk from the rating: 5 special measures ... 0 good/outstanding; unrated 1.")
    tie_count: int = Field(description="Number of collaboration ties holding on the date.")
    ties: list[TieBrief] = Field(description="Those ties.")
    nearest_partner: Partner | None = Field(
        description="Nearest located partner, if any; for an isolated school the nearest possible one."
    )
    criteria: list[Criterion] = Field(description="Which rules list it: isolated, weak, loose, remote.")
    reasons: list[str] = Field(description="Why it is listed, in words.")


class IsolatedAnswer(_Model):
    """Schools with no (or little, or only distant) collaboration, riskiest first."""

    as_at: date = Field(description="The day the network is taken as it stood.")
    filters: AreaFilter = Field(description="The schools covered.")
    max_ties: int = Field(description="Also listed: schools with at most this many ties (0: isolated only).")
    loose: bool = Field(description="Also listed: schools whose ties are all loose collaboration.")
    remote_km: float | None = Field(description="Also listed: schools with no partner within this many km.")
    total: int = Field(description="Number of schools listed in all.")
    offset: int = Field(description="Index of the first item of this page.")
    limit: int | None = Field(description="Page size (empty: all).")
    items: list[IsolatedSchool] = Field(description="Schools, by risk (worst rating first), then name.")


class GroupBy(StrEnum):
    """What an area summary groups schools by."""

    LOCAL_AUTHORITY = "local_authority"
    DISTRICT = "district"
    CONSTITUENCY = "constituency"
    PHASE = "phase"
    NONE = "none"


class AreaRow(_Model):
    """Collaboration in one area."""

    area: str = Field(description="Local authority, district, constituency or phase ('all' when not grouped).")
    schools: int = Field(description="Schools covered in the area.")
    in_group: int = Field(description="Of those, in a trust, federation or partnership (or federated).")
    in_group_share: float = Field(description="in_group / schools.")
    isolated: int = Field(description="Schools with no collaboration tie.")
    isolated_share: float = Field(description="isolated / schools.")
    islands: int = Field(description="Islands of collaboration: sets of two or more of the area's schools joined.")
    largest_island: int = Field(description="Schools in the largest island (1 when none is joined).")
    island_sizes: list[int] = Field(description="Schools per island of two or more, largest first.")
    single_school_islands: int = Field(description="Schools joined to no other school of the area.")


class AreaSummaryAnswer(_Model):
    """Per-area share in groups, isolation and islands of collaboration."""

    as_at: date = Field(description="The day the network is taken as it stood.")
    group_by: GroupBy = Field(description="What the rows are.")
    filters: AreaFilter = Field(description="The schools covered.")
    rows: list[AreaRow] = Field(description="One row per area, by name.")


# -- support partners ----------------------------------------------------------------------


class SchoolBrief(_Judged):
    """The school a support question is about."""

    id: str = Field(description="Organisation id.")
    urn: int | None = Field(default=None, description="GIAS URN.")
    name: str = Field(description="Name.")
    kind: NodeKind = Field(description="Kind.")
    phase: Phase | None = Field(default=None, description="Phase of education.")
    subtype: str | None = Field(default=None, description="School type.")
    status: Status = Field(description="Status.")
    local_authority: str | None = Field(default=None, description="Local authority.")
    ofsted_rating: OfstedRating | None = Field(default=None, description="Its Ofsted standing on the date.")
    ofsted_date: date | None = Field(default=None, description="Date of the inspection it comes from.")
    standing_basis: str | None = Field(
        default=None, description="Where the standing comes from, in words: the inspection in force and the rule."
    )
    judgements: str | None = Field(default=None, description="What that inspection says, in words.")
    latitude: float | None = Field(default=None, description="WGS84 latitude.")
    longitude: float | None = Field(default=None, description="WGS84 longitude.")


class ScorePart(_Model):
    """One part of a candidate's score."""

    name: str = Field(description="The part: one of SupportWeights' fields (takes_in, footprint, local, ...).")
    value: float = Field(description="The part's value, 0 to 1.")
    weight: float = Field(description="Its weight.")
    points: float = Field(description="Points it adds to the score: 100 * weight * value / sum of weights.")
    reason: str = Field(description="The value in words.")


class NearSchool(_Model):
    """One of a trust's or federation's schools near the school to support, open on the date."""

    id: str = Field(description="Organisation id (the URN).")
    name: str = Field(description="Name.")
    phase: Phase | None = Field(default=None, description="Phase of education.")
    type_name: str | None = Field(default=None, description="GIAS type of establishment.")
    distance_km: float | None = Field(description="Distance in km from the school to support.")
    fit: float = Field(description="Stage fit with the school: 1 same phase and provision, 0.5 compatible, 0 not.")
    in_local_authority: bool = Field(description="In the same local authority as the school to support.")
    ofsted_rating: OfstedRating | None = Field(default=None, description="Its standing on the date.")
    opened: date | None = Field(default=None, description="Opening date (for an academy: when it joined).")


class Candidate(_Model):
    """An organisation that could support the school (one line), with its score and reasons."""

    rank: int = Field(description="1 for the best candidate.")
    id: str = Field(description="Organisation id.")
    kind: NodeKind = Field(description="trust, federation, teaching_school_hub, school or fe_college.")
    name: str = Field(description="Name.")
    phase: Phase | None = Field(default=None, description="Phase of education (single schools).")
    ofsted_rating: OfstedRating | None = Field(
        default=None, description="A single school's standing; a hub's, that of its lead school; empty for groups."
    )
    distance_km: float | None = Field(
        description="Distance in km (a trust or federation: of its nearest school; a hub: of its lead school)."
    )
    via_id: str | None = Field(default=None, description="For a hub, its lead school.")
    via_name: str | None = Field(default=None, description="Its name.")
    score: float = Field(description="0 to 100: the sum of the parts' points.")
    first: bool = Field(description="Put first by the religious-character rule (before any higher score).")
    phase_fit: bool = Field(
        default=True,
        description="False for a trust that does not fit the school's stage: offered to a secondary school with no "
        "open secondary or all-through school within the trust radius (rule secondary_trusts), or to a mainstream "
        "school with only special or alternative provision near by (rule same_provision); listed after those that do.",
    )
    schools_near: int = Field(description="A trust's or federation's open schools within its radius (all of them).")
    schools: list[NearSchool] = Field(description="Those schools, nearest first (up to 10).")
    parts: list[ScorePart] = Field(description="Every part of the score.")
    reasons: list[str] = Field(description="Why it is suggested, in words, strongest first.")


class OwnSupporter(NearSchool):
    """One of the school's own trust's schools that could support it (open, Good or better, a fitting phase)."""


class CurrentTrust(_Model):
    """The trust (else federation) the school is in on the date: context, never a ranked line."""

    id: str = Field(description="Its id.")
    kind: NodeKind = Field(description="trust or federation.")
    name: str = Field(description="Its name.")
    open_schools: int = Field(description="Its open schools on the date, anywhere.")
    schools_near: int = Field(description="Those within the trust radius (a federation: the radius).")
    in_difficulty: int = Field(description="Its open schools in difficulty on the date.")
    sponsor_led_good: int = Field(description="Its sponsor-led academies rated Good or better (its record).")
    secondary_near: bool = Field(description="It runs a secondary or all-through school within the radius.")
    supporters: list[OwnSupporter] = Field(
        description="Its schools near by that could support the school (its own school-improvement route), nearest "
        "first (up to 10)."
    )


class SupportAnswer(_Model):
    """Ranked candidates to support a school: trusts first-class, each one line with its schools near by."""

    school: SchoolBrief = Field(description="The school to support.")
    in_difficulty: bool = Field(
        description="Its standing on the date is special measures, serious weaknesses, inadequate or requires "
        "improvement, judged on itself (an inherited judgement counts only with the rule count_inherited)."
    )
    current_trust: CurrentTrust | None = Field(
        default=None,
        description="The trust or federation it is in on the date: shown as context, never ranked among candidates.",
    )
    notes: list[str] = Field(description="Anything a broker should know about this answer.")
    rules_applied: list[str] = Field(description="Every rule applied to this answer, in words.")
    as_at: date = Field(description="The day the network is taken as it stood.")
    radius_km: float = Field(description="Single schools, federations and hub lead schools within this many km.")
    trust_radius_km: float = Field(description="Trusts with an open school within this many km.")
    rules: SupportRules = Field(description="The rules' switches.")
    weights: SupportWeights = Field(description="Weights of the score's parts.")
    considered: int = Field(description="Schools within the radius, open and rated Good or Outstanding.")
    total: int = Field(description="Candidate lines scored (trusts, federations, hubs and single schools).")
    candidates: list[Candidate] = Field(description="Best first.")


class Hits(_Model):
    """How often one method put the real trust near the top."""

    hit_1: float = Field(alias="hit@1", description="Share of cases with the real trust first.")
    hit_3: float = Field(alias="hit@3", description="Share with it in the top 3.")
    hit_10: float = Field(alias="hit@10", description="Share with it in the top 10.")
    mrr: float = Field(description="Mean reciprocal rank (0 for a case where it is not ranked at all).")

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class Figures(_Model):
    """The support question and both baselines on one set of cases."""

    cases: int = Field(description="Cases measured (not skipped).")
    support: Hits = Field(description="The support question (the real trust's line, or a line for one of its schools).")
    nearest_trust: Hits = Field(description="Baseline: trusts by their nearest open school.")
    most_in_la: Hits = Field(description="Baseline: trusts by their open schools in the local authority, then nearest.")


class BacktestCase(_Model):
    """One real take-over and where each method ranked the real trust."""

    urn: str = Field(description="The maintained school taken over.")
    name: str = Field(description="Its name.")
    phase: Phase | None = Field(default=None, description="Its phase.")
    local_authority: str | None = Field(default=None, description="Its local authority.")
    asked_as_at: date = Field(description="The day asked: the day before the academy opened.")
    year: int = Field(description="Year of the take-over.")
    held_out: bool = Field(description="On or after 2019-09-01 (not used to choose the weights).")
    successor: str = Field(description="The sponsor-led academy that replaced it (never used in the question).")
    trust: str = Field(description="The real trust.")
    trust_name: str = Field(description="Its name.")
    support_rank: int | None = Field(description="Rank of its first line in the support answer (empty: not listed).")
    nearest_trust_rank: int | None = Field(description="Its rank by the nearest-trust baseline.")
    most_in_la_rank: int | None = Field(description="Its rank by the most-schools-in-the-LA baseline.")
    top: str | None = Field(description="Id of the support answer's first line.")
    skipped: str | None = Field(description="Why the case was not measured, if it was not.")


class BacktestAnswer(_Model):
    """The support question measured against real sponsor-led take-overs."""

    ignore_ratings: bool = Field(description="Every state-funded school treated as rated Good.")
    radius_km: float = Field(description="Radius for single schools, federations and hubs.")
    trust_radius_km: float = Field(description="Radius for trusts.")
    rules: SupportRules = Field(description="The rules' switches.")
    weights: SupportWeights = Field(description="The weights.")
    notes: list[str] = Field(description="What the data leaks and what the figures cannot tell.")
    skipped: int = Field(description="Cases not measured.")
    all: Figures = Field(description="Every case.")
    tuning: Figures = Field(description="Cases before 2019-09-01 (the weights were chosen on these).")
    held_out: Figures = Field(description="Cases from 2019-09-01 on.")
    by_year: dict[str, Figures] = Field(description="By year of the take-over.")
    by_phase: dict[str, Figures] = Field(description="By phase of the school.")
    tuning_by_stage: dict[str, Figures] = Field(
        default_factory=dict, description="Tuning cases by stage: primary, secondary (with all-through), other."
    )
    held_out_by_stage: dict[str, Figures] = Field(default_factory=dict, description="Held-out cases by stage.")
    cases: list[BacktestCase] = Field(description="One row per case.")

    def tables(self) -> list[tuple[str, Figures]]:
        """(name, figures) of the summary tables, in reading order."""
        return [
            ("all", self.all),
            ("tuning (before 2019-09-01)", self.tuning),
            ("held out (2019-09-01 on)", self.held_out),
            *((f"tuning, {stage}", figures) for stage, figures in self.tuning_by_stage.items()),
            *((f"held out, {stage}", figures) for stage, figures in self.held_out_by_stage.items()),
            *((f"year {year}", figures) for year, figures in self.by_year.items()),
            *((f"phase {phase}", figures) for phase, figures in self.by_phase.items()),
        ]

    def to_csv(self) -> str:
        """One CSV row per case."""
        return takeovers.to_csv(case.model_dump() for case in self.cases)


# -- network health ------------------------------------------------------------------------


class HealthSort(StrEnum):
    """Which measure orders the nodes table."""

    DEGREE = "degree"
    BETWEENNESS = "betweenness"
    EIGENVECTOR = "eigenvector"
    CLUSTERING = "clustering"


class HealthSummary(_Model):
    """The shape of the area's collaboration network."""

    as_at: date = Field(description="The day the network is taken as it stood.")
    organisations: int = Field(
        description="Open schools covered (all, or those the filters select); closed ones never count."
    )
    lone_organisations: int = Field(description="Of those, how many have no partner school in the projection.")
    connected_organisations: int = Field(
        description="Schools in the measured school-school projection (with a partner school)."
    )
    edges: int = Field(description="Pairs of schools tied in the projection.")
    ties: int = Field(description="Groups and direct ties joining those pairs (a pair can share several).")
    density: float = Field(description="Share of possible pairs that are tied.")
    components: int = Field(description="Connected components.")
    largest_component: int = Field(description="Organisations in the largest component.")
    average_clustering: float = Field(description="Mean local clustering coefficient.")
    communities: int = Field(description="Leiden communities (modularity).")
    modularity: float = Field(description="Modularity of those communities.")
    betweenness_sample: int | None = Field(description="Sources sampled for betweenness (empty: exact).")
    seed: int = Field(description="Random seed of the sampling and of Leiden.")
    notes: list[str] = Field(description="Anything that limits the figures.")


class NodeHealth(_Model):
    """One organisation's place in the network."""

    id: str = Field(description="Organisation id.")
    name: str = Field(description="Name.")
    kind: NodeKind | None = Field(description="Kind.")
    degree: int = Field(description="Partner schools in the projection.")
    betweenness: float = Field(description="Normalised betweenness centrality (sampled on big networks).")
    eigenvector: float | None = Field(description="Eigenvector centrality (empty if it did not converge).")
    clustering: float = Field(description="Local clustering coefficient.")
    community: int = Field(description="Number of its Leiden community.")


class Broker(NodeHealth):
    """An organisation tied into communities other than its own."""

    bridges: int = Field(description="Other communities it is tied to.")
    bridged_communities: list[int] = Field(description="Their numbers.")


class Community(_Model):
    """A Leiden community (igraph, optimising modularity)."""

    community: int = Field(description="Number, 1 for the largest.")
    size: int = Field(description="Organisations in it.")
    schools: int = Field(description="Of which schools and colleges.")
    kinds: dict[str, int] = Field(description="Organisations per kind.")
    central: list[str] = Field(description="Names of its best-connected members (up to 3).")
    local_authorities: list[str] = Field(description="Its commonest local authorities (up to 3).")
    members: list[str] = Field(description="Ids of its members.")


class HealthJob(_Model):
    """One network-health report computed in the background by this server process."""

    area: str = Field(description="The filters, as JSON ('whole graph' for none), with as_at, sample and seed.")
    state: str = Field(description="'queued', 'running', 'ready' or 'failed'.")
    started_at: datetime = Field(description="When it was asked for (UTC).")
    seconds: float | None = Field(description="How long it took (empty until ready or failed).")
    error: str | None = Field(default=None, description="Why it failed.")


class HealthStatus(_Model):
    """Network-health reports this server process is computing or has computed lately."""

    process: int = Field(description="Id of the server process that answered (each worker has its own reports).")
    limit: int = Field(description="Most reports computing or queued at once in one process.")
    jobs: list[HealthJob] = Field(description="Newest first.")


class HealthAnswer(_Model):
    """Centrality, clustering, communities and brokers of an area or the whole graph."""

    filters: AreaFilter | None = Field(description="The area (empty: the whole graph).")
    summary: HealthSummary = Field(description="The network's shape.")
    sort: HealthSort = Field(description="Measure ordering the nodes table.")
    nodes: list[NodeHealth] = Field(description="The top organisations by the sort measure.")
    communities: list[Community] = Field(description="The largest communities.")
    brokers: list[Broker] = Field(description="The top brokers between communities.")


# -- the store seam ------------------------------------------------------------------------


V = TypeVar("V")


class _Kept(Generic[V]):
    """A few values by key, the least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], V] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> V | None:
        with _lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: V) -> None:
        with _lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with _lock:
            self._items.clear()


@dataclass
class _Prepared:
    """What every question on one graph and day reuses (never the graph itself: it is the cache key)."""

    collab: nx.Graph
    #: Prepared from a store's whole graph, which lives until the next write (see graph_service.memory).
    whole: bool = False
    health: _Kept[dict[str, Any]] = field(default_factory=lambda: _Kept(_KEPT_HEALTH))
    #: Finished answers by question: the graph is immutable until the next write replaces it.
    answers: _Kept[BaseModel] = field(default_factory=lambda: _Kept(_KEPT_ANSWERS))
    #: Health reports being computed in the background, by the key of ``health``.
    jobs: dict[tuple[Any, ...], _Job] = field(default_factory=dict)


_KEPT_DAYS = 4
_KEPT_HEALTH = 8
#: Answers kept per graph and day: the schools in difficulty of a large area, and pages of isolated
#: schools. Few enough that the kept models do not lengthen the garbage collector's full passes.
_KEPT_ANSWERS = 256
_lock = threading.Lock()
#: Per store graph (rebuilt by the store after a write, so stale entries simply drop out).
_cache: weakref.WeakKeyDictionary[nx.MultiDiGraph, OrderedDict[tuple[date | None, date], _Prepared]] = (
    weakref.WeakKeyDictionary()
)


def forget_answers() -> None:
    """Drop every remembered answer (benchmarks time the work, not the memory)."""
    with _lock:
        every = [prepared.answers for days in _cache.values() for prepared in days.values()]
        every += [support.answers for support in _support.values()]
    for answers in every:
        answers.clear()


#: Per graph, what its collaboration graphs on every date share: a new date then costs one pass over
#: the ties rather than a new graph (the graphs are never changed; a write replaces them).
_timelines: weakref.WeakKeyDictionary[nx.MultiDiGraph, CollaborationTimeline] = weakref.WeakKeyDictionary()


@on_patch
def _carry_over(patch: Patch) -> None:
    """After a write by this process, the date-free structures of the new graph from the old one's."""
    with _lock:
        timeline = _timelines.get(patch.old)
        support = _support.get(patch.old)
    if timeline is not None:
        patched = patch_timeline(timeline, patch)
        history = isolation_histories.get(timeline)
        if history is not None:
            isolation_histories[patched] = patch_risk_history(history, timeline, patched, patch)
        patch_selections(timeline, patched, patch)
        with _lock:
            _timelines[patch.new] = patched
            old_days = list(_cache.get(patch.old, {}).items())
        # Each prepared day carried over: its collaboration graph is a few array operations, and the
        # isolated question's table of possible partners (every collaborating school) is patched.
        days: OrderedDict[tuple[date | None, date], _Prepared] = OrderedDict()
        for (as_at, day), prepared in old_days:
            if day != (as_at or date.today()):
                continue
            collab = collaboration_graph(patch.new, as_at, timeline=patched)
            table = prepared.collab.graph.get("possible_partners")
            if table is not None:
                collab.graph["possible_partners"] = patch_partner_table(table, collab, patch)
            days[(as_at, day)] = _Prepared(collab)
        with _lock:
            _cache[patch.new] = days
        for _key, prepared in old_days:
            retire(prepared.collab)
    if support is not None:
        index = patch_support_index(support.index, patch)
        index.graph = weak_graph(patch.new)
        with _lock:
            _support[patch.new] = _Support(index)


def _timeline_of(graph: nx.MultiDiGraph) -> CollaborationTimeline:
    known = _timelines.get(graph)  # the caller holds _lock
    if known is None:
        known = _timelines[graph] = collaboration_timeline(graph)
    return known


def _prepared(
    store: GraphStore, as_at: date | None, graph: nx.MultiDiGraph | None = None
) -> tuple[nx.MultiDiGraph, _Prepared, date]:
    """The collaboration graph on ``as_at`` of ``graph`` (the store's whole graph by default), cached."""
    graph = store.graph() if graph is None else graph
    whole = memory.is_long_lived(graph)
    day = as_at or date.today()
    key = (as_at, day)
    with _lock:
        days = _cache.setdefault(graph, OrderedDict())
        if key not in days:
            days[key] = _Prepared(collaboration_graph(graph, as_at, timeline=_timeline_of(graph)), whole=whole)
            while len(days) > _KEPT_DAYS:
                days.popitem(last=False)
            if whole:
                memory.keep()
        days.move_to_end(key)
        return graph, days[key], day


def _school(prepared: _Prepared, urn: str) -> dict[str, Any]:
    if urn not in prepared.collab:
        raise NotFound(f"no school with URN {urn!r}")
    return dict(prepared.collab.nodes[urn])


# -- the questions -------------------------------------------------------------------------


@memory.answers_without_collector
def isolated_schools(
    store: GraphStore,
    *,
    as_at: date | None = None,
    filters: AreaFilter | None = None,
    max_ties: int = 0,
    loose: bool = False,
    remote_km: float | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> IsolatedAnswer:
    """Schools with no current collaboration tie (and, if asked, weakly connected or remote)."""
    if max_ties < 0:
        raise BadQuestion("max_ties cannot be negative")
    if remote_km is not None and remote_km <= 0:
        raise BadQuestion("remote_km must be above 0")
    if offset < 0 or (limit is not None and limit < 1):
        raise BadQuestion("offset cannot be negative and limit must be at least 1")
    filters = filters or AreaFilter()
    flt = filters.to_filter()
    scope = store.isolation_graph(
        flt, as_at, max_ties=max_ties, every=loose or remote_km is not None, offset=offset, limit=limit
    )
    graph, prepared, day = _prepared(store, as_at, scope.graph)
    key = ("isolated", filters.model_dump_json(), max_ties, loose, remote_km, offset, limit)
    known = prepared.answers.get(key)
    if isinstance(known, IsolatedAnswer):
        return known
    paged = scope.total is not None  # the store has counted, sorted and paged already
    found = isolated(
        graph,
        as_at,
        only=scope.only,
        flt=flt,
        max_ties=max_ties,
        loose=loose,
        remote_km=remote_km,
        offset=0 if paged else offset,
        limit=None if paged else limit,
        collab=prepared.collab,
    )
    if scope.total is not None:
        found["total"] = scope.total
    if scope.only is not None and any(not row["ties"] for row in found["rows"]):
        # A narrowed graph lacks the schools an isolated one could turn to: the whole graph has them.
        everything = _prepared(store, as_at)[1].collab
        for row in found["rows"]:
            if not row["ties"] and row["id"] in everything:
                row["nearest_partner"] = nearest_possible_partner(everything, row["id"])
    # One validation of the whole answer: much faster than a model per row on all of England.
    answer = IsolatedAnswer.model_validate(
        {
            "as_at": day,
            "filters": filters,
            "max_ties": max_ties,
            "loose": loose,
            "remote_km": remote_km,
            "total": found["total"],
            "offset": offset,
            "limit": limit,
            "items": found["rows"],
        }
    )
    prepared.answers.put(key, answer)
    return answer


@memory.answers_without_collector
def area_summaries(
    store: GraphStore,
    *,
    as_at: date | None = None,
    filters: AreaFilter | None = None,
    group_by: GroupBy = GroupBy.LOCAL_AUTHORITY,
) -> AreaSummaryAnswer:
    """Per area: share of schools in groups, isolated schools and islands of collaboration."""
    filters = filters or AreaFilter()
    graph, prepared, day = _prepared(store, as_at)
    rows = area_summary(
        graph,
        as_at,
        group_by=None if group_by is GroupBy.NONE else group_by.value,
        flt=filters.to_filter(),
        collab=prepared.collab,
    )
    return AreaSummaryAnswer(
        as_at=day, group_by=group_by, filters=filters, rows=[AreaRow.model_validate(row) for row in rows]
    )


@dataclass
class _Support:
    """What support questions on one graph reuse, whatever the date (see support_index)."""

    index: SupportIndex
    answers: _Kept[BaseModel] = field(default_factory=lambda: _Kept(_KEPT_ANSWERS))


#: Per store graph: one support index for every date, so a new date costs no rebuild.
_support: weakref.WeakKeyDictionary[nx.MultiDiGraph, _Support] = weakref.WeakKeyDictionary()


def _support_of(graph: nx.MultiDiGraph) -> _Support:
    with _lock:
        known = _support.get(graph)
    if known is None:
        index = support_index(graph)
        # The index must not keep its graph alive: it is the value of a weak dictionary keyed by the graph.
        index.graph = weak_graph(graph)
        known = _Support(index)
        with _lock:
            known = _support.setdefault(graph, known)
        if memory.is_long_lived(graph):
            memory.keep()
    return known


def _standing_fields(graph: nx.MultiDiGraph, urn: str, day: date) -> dict[str, Any]:
    """The school's standing on ``day`` (analytics.standing), for its brief in a support answer."""
    standing = standing_in(graph, urn, day)
    attrs = graph.nodes[urn]
    if standing is None:
        return {"ofsted_rating": None, "ofsted_date": None}
    inspection = standing.inspection or {}
    return {
        "ofsted_rating": standing.rating,
        "ofsted_date": inspection.get("date", attrs.get("ofsted_date") if not inspection else None),
        "standing_basis": standing.basis,
        "judgements": standing.judgements or None,
        "judged_urn": standing.judged_urn,
        "inherited": standing.inherited,
    }


@memory.answers_without_collector
def support_partners(
    store: GraphStore,
    urn: str,
    *,
    as_at: date | None = None,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    limit: int = 10,
    weights: SupportWeights | None = None,
    rules: SupportRules | None = None,
) -> SupportAnswer:
    """Ranked organisations that could support a school, each with its score's parts and reasons.

    Answered on the store's whole graph on both backends (Neo4j's cached copy, checked against the
    database's version counter), through one date-free index per graph: any date is as fast.
    """
    if radius_km <= 0 or trust_radius_km <= 0:
        raise BadQuestion("radius_km and trust_radius_km must be above 0")
    if limit < 1:
        raise BadQuestion("limit must be at least 1")
    weights = weights or SupportWeights()
    rules = rules or SupportRules()
    graph = store.support_graph(urn, as_at, max(radius_km, trust_radius_km))
    day = as_at or date.today()
    if urn not in graph:
        raise NotFound(f"no school with URN {urn!r}")
    support = _support_of(graph)
    key = ("support", urn, day, radius_km, trust_radius_km, limit, rules.model_dump_json(), weights.model_dump_json())
    known = support.answers.get(key)
    if isinstance(known, SupportAnswer):
        return known
    attrs = graph.nodes[urn]
    try:
        found = support_candidates(
            graph,
            urn,
            day,
            radius_km=radius_km,
            trust_radius_km=trust_radius_km,
            weights=weights,
            rules=rules,
            limit=limit,
            index=support.index,
        )
    except ValueError as exc:
        raise BadQuestion(str(exc)) from None
    answer = SupportAnswer.model_validate(
        {
            "school": SchoolBrief.model_validate(
                {
                    "id": urn,
                    **{name: value for name, value in attrs.items() if name in SchoolBrief.model_fields},
                    **_standing_fields(graph, urn, day),
                }
            ),
            "in_difficulty": found["in_difficulty"],
            "current_trust": found["current_trust"],
            "notes": found["notes"],
            "rules_applied": found["rules"],
            "as_at": day,
            "radius_km": radius_km,
            "trust_radius_km": trust_radius_km,
            "rules": rules,
            "weights": weights,
            "considered": found["considered"],
            "total": found["total"],
            "candidates": found["candidates"],
        }
    )
    support.answers.put(key, answer)
    return answer


@memory.answers_without_collector
def support_backtest(
    store: GraphStore,
    *,
    ignore_ratings: bool = False,
    la_code: int | None = None,
    since: date | None = None,
    until: date | None = None,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    weights: SupportWeights | None = None,
    rules: SupportRules | None = None,
) -> BacktestAnswer:
    """The support question asked about every real sponsor-led take-over the store records."""
    if radius_km <= 0 or trust_radius_km <= 0:
        raise BadQuestion("radius_km and trust_radius_km must be above 0")
    weights = weights or SupportWeights()
    rules = rules or SupportRules()
    graph = store.graph()
    support = _support_of(graph)
    cases = [
        case
        for case in takeovers.takeover_cases(graph)
        if (la_code is None or graph.nodes[case.school].get("la_code") == la_code)
        and (since is None or case.taken_over >= since)
        and (until is None or case.taken_over <= until)
    ]
    if not cases:
        raise BadQuestion(
            "no take-overs to measure: none of the store's maintained schools is linked (GIAS links file) to a "
            "sponsor-led academy in a trust" + (" with the filters given" if la_code or since or until else "")
        )
    rows = takeovers.run_backtest(
        graph,
        cases=cases,
        ignore_ratings=ignore_ratings,
        weights=weights,
        rules=rules,
        radius_km=radius_km,
        trust_radius_km=trust_radius_km,
        index=support.index,
    )
    tables = takeovers.report(rows)
    notes = [
        "the successor academy is never used: it opens the day after the day asked, so it is not open then",
        "GIAS memberships carry no start date unless the groups files are loaded: an academy's opening date "
        "stands in (converters and sponsored academies get a new URN when they join; transfers between "
        "trusts do not, so a school that moved trust later counts for its later trust)",
        "every state-funded school is treated as rated Good: ratings decide nothing"
        if ignore_ratings
        else "ratings are the standing the store holds for each date (the latest known unless inspection "
        "history is loaded): they may be later than the case",
        f"baselines rank trusts with an open school within {takeovers.BASELINE_KM:g} km; further is not ranked",
    ]
    return BacktestAnswer.model_validate(
        {
            "ignore_ratings": ignore_ratings,
            "radius_km": radius_km,
            "trust_radius_km": trust_radius_km,
            "rules": rules,
            "weights": weights,
            "notes": notes,
            "skipped": tables["skipped"],
            "all": tables["all"],
            "tuning": tables["tuning"],
            "held_out": tables["held_out"],
            "by_year": tables["by_year"],
            "by_phase": tables["by_phase"],
            "tuning_by_stage": tables["tuning_by_stage"],
            "held_out_by_stage": tables["held_out_by_stage"],
            "cases": rows,
        }
    )


class Coefficient(_Model):
    """One part's fitted weight."""

    part: str = Field(description="The part (a SupportWeights field).")
    coefficient: float = Field(description="Fitted coefficient on the part's 0-1 scale, all parts free.")
    standard_error: float = Field(description="Its standard error (inverse of the observed information).")
    weight: float = Field(
        description="The weight fitted with every coefficient at least 0 (a part that comes out negative beside "
        "the others is left at 0): the weights the defaults are made of."
    )
    default: float = Field(description="The weight the service uses by default.")


class FitAnswer(_Model):
    """The support weights fitted by conditional logit on the tuning cases, and how well they rank."""

    ignore_ratings: bool = Field(description="Every state-funded school treated as rated Good.")
    cases: int = Field(description="Tuning cases with the real trust among the lines (the fit's cases).")
    log_likelihood: float = Field(description="Log-likelihood of the fit.")
    pseudo_r2: float = Field(description="McFadden's pseudo R-squared against a uniform choice among the lines.")
    coefficients: list[Coefficient] = Field(description="One per part.")
    cross_validated: Hits = Field(description="Tuning cases, each ranked with weights fitted without its block.")
    tuning: Hits = Field(description="Tuning cases ranked with the weights fitted on all of them.")
    held_out: Hits = Field(description="Held-out cases ranked with the fitted weights.")
    defaults_tuning: Hits = Field(description="Tuning cases ranked with the default weights.")
    defaults_held_out: Hits = Field(description="Held-out cases ranked with the default weights.")
    by_stage: dict[str, Hits] = Field(description="Fitted weights by tuning/held out and stage.")


@memory.answers_without_collector
def support_fit(
    store: GraphStore,
    *,
    ignore_ratings: bool = False,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    rules: SupportRules | None = None,
    folds: int = 5,
) -> FitAnswer:
    """Refit the support weights on the store's take-overs before 2019-09-01 (``graph-service backtest --fit``)."""
    graph = store.graph()
    cases = takeovers.takeover_cases(graph)
    if not cases:
        raise BadQuestion("no take-overs to fit on: load GIAS with its links file")
    found = takeovers.choices(
        graph,
        cases,
        ignore_ratings=ignore_ratings,
        rules=rules,
        radius_km=radius_km,
        trust_radius_km=trust_radius_km,
        index=_support_of(graph).index,
    )
    if not any(not choice.held_out and choice.chosen >= 0 for choice in found):
        raise BadQuestion("no take-over before 2019-09-01 has its real trust among the lines: nothing to fit on")
    fitted = takeovers.fit_weights(found, folds=folds)
    defaults = SupportWeights().model_dump()
    as_array = np.array([defaults[part] for part in PARTS])
    tuning = [choice for choice in found if not choice.held_out]
    held = [choice for choice in found if choice.held_out]
    return FitAnswer.model_validate(
        {
            "ignore_ratings": ignore_ratings,
            "cases": fitted["cases"],
            "log_likelihood": fitted["log_likelihood"],
            "pseudo_r2": fitted["pseudo_r2"],
            "coefficients": [
                {"part": part, "coefficient": b, "standard_error": se, "weight": weight, "default": defaults[part]}
                for part, (b, se, weight) in fitted["coefficients"].items()
            ],
            "cross_validated": fitted["cross_validated"],
            "tuning": fitted["tuning"],
            "held_out": fitted["held_out"],
            "defaults_tuning": takeovers.hits(takeovers.choice_ranks(tuning, as_array)),
            "defaults_held_out": takeovers.hits(takeovers.choice_ranks(held, as_array)),
            "by_stage": fitted["by_stage"],
        }
    )


@memory.answers_without_collector
def health(
    store: GraphStore,
    *,
    as_at: date | None = None,
    filters: AreaFilter | None = None,
    sort: HealthSort = HealthSort.BETWEENNESS,
    top: int = 50,
    sample: int | None = None,
    seed: int = 42,
    wait: float | None = None,
) -> HealthAnswer:
    """Network health of an area (``filters``) or of the whole graph (no filters).

    ``wait`` None computes the report here and now (the CLI). With ``wait`` seconds (the API),
    it is computed in the background, igraph's part in another process, and :class:`Pending`
    is raised if it is not ready in time; it is kept for the next ask until the next write.
    """
    if top < 1:
        raise BadQuestion("top must be at least 1")
    if sample is not None and sample < 2:
        # networkx estimates betweenness as NaN from a single source.
        raise BadQuestion("sample must be at least 2 (betweenness cannot be estimated from one source)")
    graph, prepared, day = _prepared(store, as_at)
    key = (filters.model_dump_json() if filters else None, sample, seed)
    report = prepared.health.get(key)
    if report is None:
        flt = filters.to_filter() if filters else None
        if wait is None:
            report = network_health(graph, as_at, flt=flt, sample=sample, seed=seed, collab=prepared.collab)
            prepared.health.put(key, report)
        else:
            area = filters.model_dump_json() if filters else "the whole graph"
            label = f"{area} as at {day} (sample {sample}, seed {seed})"
            report = _background_report(prepared, key, label, flt, as_at, sample, seed, wait)
    nodes = sorted(report["nodes"], key=lambda row: (-(row[sort.value] or 0.0), row["id"]))
    return HealthAnswer(
        filters=filters,
        summary=HealthSummary.model_validate(report["summary"]),
        sort=sort,
        nodes=[NodeHealth.model_validate(row) for row in nodes[:top]],
        communities=[Community.model_validate(row) for row in report["communities"][:top]],
        brokers=[Broker.model_validate(row) for row in report["brokers"][:top]],
    )


# -- heavy questions off the request path --------------------------------------------------

#: Most health reports computing or queued at once in one process; more are refused (Pending).
HEAVY_LIMIT = 2
#: Networks up to this many nodes plus edges (a local authority's) are measured in this process:
#: milliseconds, less than sending them to the child process.
IN_PROCESS_UP_TO = 20_000
_JOBS_SHOWN = 16


@dataclass
class _Job:
    label: str
    started: float
    started_at: datetime
    future: Future[dict[str, Any]] = field(default_factory=Future)
    state: str = "queued"
    seconds: float | None = None
    error: str | None = None


#: One report at a time per process: the thread prepares and assembles (Python); igraph's part runs
#: in a child process, since igraph keeps the interpreter lock while it works.
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
_processes: ProcessPoolExecutor | None = None
#: This process's recent jobs, for the status (they hold no graph, so old graphs can be freed).
_jobs: OrderedDict[int, _Job] = OrderedDict()
_job_count = 0


def _measure_elsewhere(task: Any) -> Any:
    """:func:`~graph_service.analytics.health.measure` in the child process (restarted once if it died)."""
    global _processes
    for attempt in (1, 2):
        with _lock:
            if _processes is None:
                # spawn, not fork: this process has threads, and a forked child could inherit a held lock.
                _processes = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            pool = _processes
        try:
            return pool.submit(measure, task).result()
        except BrokenProcessPool:
            with _lock:
                if _processes is pool:
                    _processes = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _background_report(
    prepared: _Prepared,
    key: tuple[Any, ...],
    label: str,
    flt: SchoolFilter | None,
    as_at: date | None,
    sample: int | None,
    seed: int,
    wait: float,
) -> dict[str, Any]:
    """The report for ``key``, computed in the background; :class:`Pending` if not ready in ``wait`` s."""
    global _job_count
    with _lock:
        job = prepared.jobs.get(key)
        if job is None or job.state == "failed":
            busy = sum(1 for other in _jobs.values() if other.state in ("queued", "running"))
            if busy >= HEAVY_LIMIT:
                raise Pending(
                    f"{busy} network-health reports are being computed by this server process already;"
                    " ask again shortly (GET /questions/health/status shows them)",
                    retry_after=5,
                )
            job = _Job(label, time.monotonic(), datetime.now(UTC))

            def run(job: _Job = job) -> dict[str, Any]:
                job.state = "running"
                try:
                    area, task = health_task(prepared.collab, flt, as_at, sample=sample, seed=seed)
                    small = task.nodes + len(task.edges) <= IN_PROCESS_UP_TO
                    found = measure(task) if small else _measure_elsewhere(task)
                    report = health_report(prepared.collab, area, task, found, flt, as_at)
                except BaseException as exc:
                    job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
                    raise
                finally:
                    job.seconds = round(time.monotonic() - job.started, 3)
                prepared.health.put(key, report)
                job.state = "ready"
                return report

            job.future = _background.submit(run)
            prepared.jobs[key] = job
            _job_count += 1
            _jobs[_job_count] = job
            for number in [number for number, old in _jobs.items() if old.state in ("ready", "failed")]:
                if len(_jobs) <= _JOBS_SHOWN:
                    break
                del _jobs[number]
    try:
        return job.future.result(timeout=wait)
    except FutureTimeout:
        waited = time.monotonic() - job.started
        raise Pending(
            f"the network health of {label} is being computed in the background ({waited:.0f} s so far);"
            " ask again shortly (GET /questions/health/status shows its progress)",
            retry_after=2,
        ) from None
    except Exception as exc:
        raise Pending(f"computing the network health of {label} failed ({exc}); ask again to retry", 5) from None


def health_status() -> HealthStatus:
    """The network-health reports this process computes or computed lately, newest first."""
    with _lock:
        jobs = [
            HealthJob(area=job.label, state=job.state, started_at=job.started_at, seconds=job.seconds, error=job.error)
            for job in reversed(_jobs.values())
        ]
    return HealthStatus(process=os.getpid(), limit=HEAVY_LIMIT, jobs=jobs)
