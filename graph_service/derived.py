"""Carrying the questions' date-free structures over a write (see :mod:`graph_service.index`).

Each function takes the structure built from ``patch.old`` and returns the one
:func:`~graph_service.analytics.network.collaboration_timeline` or
:func:`~graph_service.analytics.support.support_index` would build from ``patch.new``, equal
field by field (``tests/graph_service/test_index.py`` compares them), recomputing only the rows
the write touched and sharing the rest with the previous version.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from dataclasses import fields, replace
from typing import Any

import numpy as np

from graph_service.analytics.geo import PointIndex, location
from graph_service.analytics.isolation import RISK_POINTS, UNRATED_RISK, RiskHistory
from graph_service.analytics.network import (
    _CURRENT,
    _NO_END,
    _NO_START,
    COLLABORATION_KINDS,
    PROVIDER_KINDS,
    CollaborationTimeline,
    End,
    SchoolFilter,
    node_ties,
    selections,
)
from graph_service.analytics.standing import rating_history
from graph_service.analytics.support import GROUP_KINDS, SupportIndex, _span, state_funded
from graph_service.index import Patch
from graph_service.models import EdgeKind, MemberRole, NodeKind, Status


def _node_values(attrs: dict[str, Any]) -> tuple[int, int, bool, bool]:
    opened, closed = attrs.get("opened"), attrs.get("closed")
    return (
        _NO_START if opened is None else opened.toordinal(),
        _NO_END if closed is None else closed.toordinal(),
        closed is not None,
        attrs.get("status", Status.OPEN.value) in _CURRENT,
    )


def _name_key(nodes: dict[str, dict[str, Any]], node: str) -> tuple[str, str]:
    return (str(nodes[node].get("name", node)).lower(), node)


def patch_timeline(old: CollaborationTimeline, patch: Patch) -> CollaborationTimeline:
    """``collaboration_timeline(patch.new)``, from the previous version's."""
    graph = patch.new
    old_ids: list[str] = old.ids.tolist()
    same_ids = not patch.created and not patch.deleted
    if same_ids:
        ids, position = old_ids, old.position
        nodes = dict(old.nodes)
        for node in patch.organisations:
            nodes[node] = graph._node[node]
        gather = None
    else:
        ids = sorted(graph._node)
        position = {node: i for i, node in enumerate(ids)}
        nodes = {node: graph._node[node] for node in ids}
        gather = np.fromiter((old.position.get(node, -1) for node in ids), dtype=np.int64, count=len(ids))
    # Node columns: carried over by position, the written organisations recomputed.
    columns = [old.opened, old.closed, old.closed_known, old.current]
    if gather is None:
        columns = [column.copy() for column in columns]
    else:
        columns = [column[np.maximum(gather, 0)] for column in columns]
    for node in patch.organisations - patch.deleted:
        for column, value in zip(columns, _node_values(nodes[node]), strict=True):
            column[position[node]] = value
    opened, closed, closed_known, current = columns
    # Kinds by code: carried over by position, a new kind given the next code (the codes of a fresh
    # build may come in another order; they name the same kinds).
    kinds = list(old.kinds)
    kind_codes = old.kind_codes if gather is None else old.kind_codes[np.maximum(gather, 0)]
    for node in patch.organisations - patch.deleted:
        kind = str(nodes[node].get("kind"))
        if kind not in kinds:
            kinds.append(kind)
        if kind_codes is old.kind_codes:
            kind_codes = kind_codes.copy()
        kind_codes[position[node]] = kinds.index(kind)
    # Names: the order by (name, id) patched where names changed or nodes came and went.
    renamed = {
        node
        for node in patch.organisations - patch.created - patch.deleted
        if _name_key(old.nodes, node) != _name_key(nodes, node)
    }
    ranks = _reranked(old, nodes, ids, position, gather, renamed, patch) if renamed or not same_ids else old.ranks
    # Collaboration ties: removed and added by (pair, tie id), the arrays kept in step.
    ties = list(old.ties)
    since, until = old.tie_since, old.tie_until
    sources = old.tie_sources if gather is None else _moved(old.tie_sources, old_ids, position)
    targets = old.tie_targets if gather is None else _moved(old.tie_targets, old_ids, position)
    gone_at = []
    for tie_id, (source, target, _key, attrs) in patch.removed.items():
        if attrs.get("kind") in COLLABORATION_KINDS:
            at = bisect_left(ties, (_pair(source, target), tie_id), key=_tie_key)
            gone_at.append(at)
    if gone_at:
        keep = np.ones(len(ties), dtype=bool)
        keep[gone_at] = False
        ties = [tie for tie, kept in zip(ties, keep.tolist(), strict=True) if kept]
        since, until, sources, targets = (array[keep] for array in (since, until, sources, targets))
    new_ties = sorted(
        (_pair(source, target), tie_id, source, target, attrs)
        for source, target, tie_id, attrs in patch.added.values()
        if attrs.get("kind") in COLLABORATION_KINDS
    )
    if new_ties:
        ats = []
        for offset, tie in enumerate(new_ties):
            at = bisect_left(ties, (tie[0], tie[1]), key=_tie_key)
            ties.insert(at, tie)
            ats.append(at - offset)  # np.insert counts places in the array before any insertion
        since = np.insert(since, ats, [_day(tie[4].get("since"), _NO_START) for tie in new_ties])
        until = np.insert(until, ats, [_day(tie[4].get("until"), _NO_END) for tie in new_ties])
        sources = np.insert(sources, ats, [position[tie[2]] for tie in new_ties])
        targets = np.insert(targets, ats, [position[tie[3]] for tie in new_ties])
    # Each touched node's ends and maintainers, from the new graph.
    ends = dict(old.ends)
    maintained = dict(old.maintained)
    again = set(patch.touched)
    for node in patch.organisations - patch.created - patch.deleted:
        if nodes[node].get("name") != old.nodes[node].get("name"):
            # A renamed local authority: the schools it maintains show its new name.
            again.update(source for source, keys in graph._pred[node].items() if _maintains(keys))
    for node in patch.deleted:
        ends.pop(node, None)
        maintained.pop(node, None)
    for node in again:
        found: list[End] = [
            (other, tie_id, "out", attrs)
            for other, keys in graph._succ[node].items()
            for tie_id, attrs in keys.items()
            if attrs.get("kind") in COLLABORATION_KINDS
        ]
        found += [
            (other, tie_id, "in", attrs)
            for other, keys in graph._pred[node].items()
            for tie_id, attrs in keys.items()
            if attrs.get("kind") in COLLABORATION_KINDS
        ]
        if found:
            ends[node] = sorted(found, key=lambda end: (end[0], end[1]))
        else:
            ends.pop(node, None)
        maintainers = [
            (str(graph._node[other].get("name", other)), attrs)
            for other, keys in graph._succ[node].items()
            for attrs in keys.values()
            if attrs.get("kind") == EdgeKind.MAINTAINED_BY.value
        ]
        if maintainers:
            maintained[node] = maintainers
        else:
            maintained.pop(node, None)
    return CollaborationTimeline(
        nodes=nodes,
        ids=np.array(ids, dtype=object),
        kinds=kinds,
        kind_codes=kind_codes,
        opened=opened,
        closed=closed,
        closed_known=closed_known,
        current=current,
        ties=ties,
        tie_since=since,
        tie_until=until,
        tie_sources=sources,
        tie_targets=targets,
        ends=ends,
        maintained=maintained,
        position=position,
        ranks=ranks,
    )


def patch_risk_history(
    old: RiskHistory, before: CollaborationTimeline, after: CollaborationTimeline, patch: Patch
) -> RiskHistory:
    """``risk_history(after)``, from ``before``'s (the timeline ``after`` was patched from)."""
    same_ids = not patch.created and not patch.deleted
    if same_ids:
        steady, owners = old.steady.copy(), old.owners
    else:
        gather = np.fromiter((before.position.get(node, -1) for node in after.ids.tolist()), dtype=np.int64)
        steady = old.steady[np.maximum(gather, 0)]
        owners = _moved(old.owners, before.ids.tolist(), after.position)
    changed = sorted(after.position[node] for node in patch.organisations - patch.deleted)
    # The segments of the changed (or deleted, now at -1) organisations go; theirs are made again.
    lengths = np.diff(np.append(old.starts, len(old.days)))
    keep = (owners >= 0) & ~np.isin(owners, changed)
    days = old.days[np.repeat(keep, lengths)]
    points = old.points[np.repeat(keep, lengths)]
    owners, lengths = owners[keep], lengths[keep]
    for position in changed:
        attrs = after.nodes[after.ids[position]]
        history = rating_history(attrs)
        if history is None:
            steady[position] = RISK_POINTS.get(attrs.get("ofsted_rating") or "", UNRATED_RISK)
            continue
        steady[position] = UNRATED_RISK
        if history:
            at = int(np.searchsorted(owners, position))
            start = int(lengths[:at].sum())
            days = np.insert(days, start, [day.toordinal() for day, _rating in history])
            points = np.insert(points, start, [RISK_POINTS.get(rating or "", UNRATED_RISK) for _day, rating in history])
            owners = np.insert(owners, at, position)
            lengths = np.insert(lengths, at, len(history))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else np.zeros(0, dtype=np.int64)
    return RiskHistory(steady=steady, owners=owners, starts=starts.astype(np.int64), days=days, points=points)


def patch_selections(before: CollaborationTimeline, after: CollaborationTimeline, patch: Patch) -> None:
    """Carry the areas :func:`~graph_service.analytics.network.selected` kept over to ``after``."""
    kept = selections(before)
    if not kept:
        return
    written = patch.organisations
    carried = selections(after)
    for (flt, as_at), ids in list(kept.items()):
        found = [node for node in ids if node not in written]
        for node in sorted(written - patch.deleted):
            if flt.matches(after.nodes[node], as_at):
                found.insert(bisect_left(found, node), node)
        carried[(flt, as_at)] = tuple(found)


def _reranked(
    old: CollaborationTimeline,
    nodes: dict[str, dict[str, Any]],
    ids: list[str],
    position: dict[str, int],
    gather: np.ndarray | None,
    renamed: set[str],
    patch: Patch,
) -> np.ndarray:
    """Each organisation's place in the order by (name, id), shifted for those renamed, made or deleted."""
    ranks = old.ranks.copy() if gather is None else old.ranks[np.maximum(gather, 0)]
    if gather is not None:
        ranks[gather < 0] = -1  # made now: placed below
    for node in renamed:
        ranks[position[node]] = -1
    # Those leaving their place close the gap, highest place first.
    for rank in sorted((int(old.ranks[old.position[node]]) for node in renamed | patch.deleted), reverse=True):
        ranks[ranks > rank] -= 1
    placed = ranks >= 0
    order = np.empty(int(placed.sum()), dtype=np.int64)
    order[ranks[placed]] = np.flatnonzero(placed)
    for node in sorted(renamed | patch.created, key=lambda node: _name_key(nodes, node)):
        at = bisect_left(range(len(order)), _name_key(nodes, node), key=lambda i: _name_key(nodes, ids[order[i]]))
        ranks[ranks >= at] += 1
        ranks[position[node]] = at
        order = np.insert(order, at, position[node])
    return ranks


def patch_partner_table(
    old: dict[str | None, tuple[list[str], np.ndarray]], collab: Any, patch: Patch
) -> dict[str | None, tuple[list[str], np.ndarray]]:
    """The isolated question's table of possible partners (``analytics.isolation._partner_table``) of
    ``collab``, the new graph's collaboration graph on the same day, from the old one's."""
    touched = patch.touched | patch.deleted
    table: dict[str | None, tuple[list[str], np.ndarray]] = {}
    for phase, (ids, points) in old.items():
        keep = [i for i, node in enumerate(ids) if node not in touched]
        table[phase] = (ids, points) if len(keep) == len(ids) else ([ids[i] for i in keep], points[keep])
    nodes, as_at, every = collab.nodes, collab.graph.get("as_at"), SchoolFilter()
    for node in sorted(patch.touched):
        attrs = nodes[node]
        here = location(attrs)
        if here is None or not every.matches(attrs, as_at) or not node_ties(collab, node):
            continue
        for phase in (attrs.get("phase"), None):  # a school without a phase is listed twice under None, as built
            ids, points = table.get(phase, ([], np.empty((0, 2))))
            at = bisect_left(ids, node)
            table[phase] = (ids[:at] + [node] + ids[at:], np.insert(points, at, np.radians(np.array(here)), axis=0))
    return {phase: value for phase, value in table.items() if value[0]}


def _maintains(keys: dict[str, dict[str, Any]]) -> bool:
    return any(attrs.get("kind") == EdgeKind.MAINTAINED_BY.value for attrs in keys.values())


def _pair(source: str, target: str) -> tuple[str, str]:
    return (source, target) if source <= target else (target, source)


def _tie_key(tie: tuple[Any, ...]) -> tuple[tuple[str, str], str]:
    return tie[0], tie[1]


def _day(value: Any, default: int) -> int:
    return default if value is None else int(value.toordinal())


def _moved(positions: np.ndarray, old_ids: list[str], position: dict[str, int]) -> np.ndarray:
    """Positions in the old id order, as positions in the new (-1 for a node gone: its ties go too)."""
    mapping = np.fromiter((position.get(node, -1) for node in old_ids), dtype=np.int64, count=len(old_ids))
    return mapping[positions]


def patch_support_index(old: SupportIndex, patch: Patch) -> SupportIndex:
    """``support_index(patch.new)``, from the previous version's."""
    graph = patch.new
    nodes = graph._node
    attrs = dict(old.attrs)
    for node in patch.deleted:
        del attrs[node]
    for node in patch.organisations - patch.deleted:
        attrs[node] = nodes[node]
    lists = {name: dict(getattr(old, name)) for name in ("groups_of", "members", "hubs_led", "supports")}
    for node in patch.deleted:
        for listed in lists.values():
            listed.pop(node, None)
    for node in patch.touched:
        _ends_of(graph, node, lists)
    spans = dict(old.spans)
    # Every other mapping by organisation (the caches filled as questions ask: stages, ratings...):
    # copied, the written organisations' entries dropped.
    handled = {"attrs", "spans", "groups_of", "members", "hubs_led", "supports"}
    caches = {
        item.name: dict(getattr(old, item.name))
        for item in fields(old)
        if item.name not in handled and isinstance(getattr(old, item.name), dict)
    }
    not_state_funded = set(old.not_state_funded)
    moved = False
    for node in patch.organisations:
        for cache in caches.values():
            cache.pop(node, None)
        spans.pop(node, None)
        not_state_funded.discard(node)
        before = old.attrs.get(node)
        after = attrs.get(node)
        was = before is not None and before.get("kind") in PROVIDER_KINDS
        now = after is not None and after.get("kind") in PROVIDER_KINDS
        if was or now:
            moved |= (was != now) or location(before or {}) != location(after or {})
        if now and after is not None:
            spans[node] = _span(after)
            if not state_funded(after):
                not_state_funded.add(node)
    points = old.points
    if moved:
        points = PointIndex(
            (node, point[0], point[1])
            for node, node_attrs in attrs.items()
            if node_attrs.get("kind") in PROVIDER_KINDS and (point := location(node_attrs)) is not None
        )
    member_points = old.member_points
    if moved or lists["groups_of"].keys() != old.groups_of.keys():
        keys = points._keys.tolist()
        member_points = PointIndex(
            (key, lat, lon)
            for key, lat, lon in zip(keys, points._lats.tolist(), points._lons.tolist(), strict=True)
            if key in lists["groups_of"]
        )
    return replace(
        old,
        graph=graph,
        points=points,
        member_points=member_points,
        not_state_funded=frozenset(not_state_funded),
        attrs=attrs,
        spans=spans,
        **caches,
        **lists,
    )


def _ends_of(graph: Any, node: str, lists: dict[str, dict[str, list[Any]]]) -> None:
    """A touched node's memberships, members, hubs led and support, as support_index finds them."""
    nodes = graph._node
    found: dict[str, list[Any]] = {name: [] for name in lists}
    for target, keys in graph._succ[node].items():
        for data in keys.values():
            kind = data.get("kind")
            dated = (data.get("since"), data.get("until"))
            if kind == EdgeKind.MEMBER_OF.value:
                group_kind = nodes[target].get("kind")
                if group_kind in GROUP_KINDS:
                    found["groups_of"].append((target, *dated))
                elif group_kind == NodeKind.TEACHING_SCHOOL_HUB.value and data.get("role") == MemberRole.LEAD.value:
                    found["hubs_led"].append((target, *dated))
            elif kind == EdgeKind.SUPPORTS.value:
                found["supports"].append((target, *dated))
    if nodes[node].get("kind") in GROUP_KINDS:
        for source, keys in graph._pred[node].items():
            for data in keys.values():
                if data.get("kind") == EdgeKind.MEMBER_OF.value:
                    found["members"].append((source, data.get("since"), data.get("until")))
    for name, listed in found.items():
        listed.sort(key=lambda end: end[0])
        if listed:
            lists[name][node] = listed
        else:
            lists[name].pop(node, None)


def weak_graph(graph: Any) -> Any:
    """A proxy for ``graph`` that does not keep it alive (for structures cached per graph)."""
    return graph if isinstance(graph, weakref.ProxyType) else weakref.proxy(graph)
