"""Areas people name on the command line and in the front end: checked against the store, with the
nearest names suggested when nothing matches, and which schools a strategist's list covers by default.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from graph_service.models import NodeKind, SchoolType
from graph_service.store import GraphStore, OrganisationFilter

#: School types left out of isolated-school lists unless asked for: independent schools, and GIAS's
#: "other" types (British schools overseas, online providers, secure units, Welsh establishments...).
NOT_STATE_FUNDED = (SchoolType.INDEPENDENT.value, SchoolType.OTHER.value)


class UnknownArea(ValueError):
    """No organisation is in the area named; the message suggests the nearest names."""


def parse_la(text: str | None) -> tuple[int | None, str | None]:
    """A ``--la`` value: a code (``330``) or a name (``Birmingham``).

    >>> parse_la("330"), parse_la(" Birmingham "), parse_la(None)
    ((330, None), (None, 'Birmingham'), (None, None))
    """
    value = (text or "").strip()
    if not value:
        return None, None
    return (int(value), None) if value.isascii() and value.isdigit() else (None, value)


def nearest(name: str, choices: Iterable[str], count: int = 3) -> list[str]:
    """The ``count`` names most like ``name`` (any case), best first.

    >>> nearest("brimingham", ["Birmingham", "Bristol", "Bury"])
    ['Birmingham']
    """
    by_lower = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=count, cutoff=0.6)
    if not found:
        found = [key for key in by_lower if name.lower() in key][:count]
    return [by_lower[key] for key in found]


def _authorities(store: GraphStore) -> dict[str, int | None]:
    flt = OrganisationFilter(kinds=(NodeKind.LOCAL_AUTHORITY,))
    _first, total = store.list_organisations(flt, limit=1)
    orgs, _total = store.list_organisations(flt, limit=max(total, 1))
    return {org.name: org.la_code for org in orgs}


def la_code_of(store: GraphStore, la: str) -> int:
    """The code of a local authority given by code (``330``) or name (``Birmingham``, any case).

    :class:`UnknownArea` when the store holds no such authority, naming the nearest.
    """
    code, name = parse_la(la)
    if code is not None:
        check_area(store, la_code=code)
        return code
    authorities = {known.lower(): found for known, found in _authorities(store).items()}
    found = authorities.get((name or "").lower())
    if found is None:
        check_area(store, local_authority=name)  # raises, with the nearest names, if it is not there at all
        raise UnknownArea(f"local authority {name!r} has no code in the store")
    return found


def _place_names(store: GraphStore, field: str) -> set[str]:
    """Every district or constituency name in the store (read only to suggest names after a miss)."""
    return {str(data[field]) for _, data in store.graph().nodes(data=True) if data.get(field)}


def check_area(
    store: GraphStore,
    la_code: int | None = None,
    local_authority: str | None = None,
    district: str | None = None,
    constituency: str | None = None,
) -> None:
    """:class:`UnknownArea` when a named area holds no organisation in the store, with the nearest names."""
    if la_code is not None or local_authority:
        authorities = _authorities(store)
        if la_code is not None and la_code not in authorities.values():
            known = ", ".join(f"{name} ({code})" for name, code in sorted(authorities.items())[:5])
            raise UnknownArea(
                f"no local authority with code {la_code} in the store"
                + (f"; it holds {len(authorities)}, e.g. {known}" if authorities else "; the store is empty")
            )
        if local_authority and local_authority.lower() not in {name.lower() for name in authorities}:
            raise UnknownArea(_missing("local authority", local_authority, authorities, authorities))
    for field, value in (("district", district), ("constituency", constituency)):
        if not value:
            continue
        flt = OrganisationFilter(district=value) if field == "district" else OrganisationFilter(constituency=value)
        _items, total = store.list_organisations(flt, limit=1)
        if total == 0:
            raise UnknownArea(_missing(field, value, _place_names(store, field)))


def _missing(what: str, name: str, choices: Iterable[str], codes: dict[str, int | None] | None = None) -> str:
    """The message for an area not found, e.g. ``no local authority 'Brum'; did you mean Birmingham (330)?``."""
    choices = list(choices)
    found = nearest(name, choices)
    if not choices:
        return f"no {what} named {name!r} in the store: it is empty (graph-service load ..., or bash scripts/demo)"
    if not found:
        return f"no {what} named {name!r} in the store"
    shown = [f"{choice} ({codes[choice]})" if codes and codes.get(choice) is not None else choice for choice in found]
    return f"no {what} named {name!r} in the store; did you mean {' or '.join(shown)}?"


def default_types(exclude: Iterable[str] = (), everything: bool = False) -> list[str]:
    """School types an isolated list covers: state-funded schools in England unless ``everything``.

    ``""`` stands for a school with no recorded type (one made by hand), which is kept: both
    backends compare a missing subtype as ``""``. An empty list (no filter) when ``everything``
    and nothing is excluded.

    >>> "independent" in default_types(), "" in default_types(), default_types(everything=True)
    (False, True, [])
    >>> "nursery_school" in default_types(exclude=["nursery_school"])
    False
    """
    left_out = set(exclude) | (set() if everything else set(NOT_STATE_FUNDED))
    if not left_out:
        return []
    return [kind.value for kind in SchoolType if kind.value not in left_out] + [""]
