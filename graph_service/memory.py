"""Keeping the cyclic garbage collector away from the big graphs that live until the next write.

A store's whole graph of England, and the collaboration graph the questions prepare from it, are a
few million Python objects kept for as long as the data do not change. CPython's collector walks
every tracked object on each full collection, and answering questions creates enough objects to
set one off every few answers: 250 to 300 ms each on whole England, which was the tail of the
answer times. :func:`keep` moves every object alive into the permanent generation
(:func:`gc.freeze`), which collections skip; :func:`release` (:func:`gc.unfreeze`) is called before
a kept graph is replaced, so that its reference cycles (networkx graphs hold some) are freed.
Objects that are not in cycles are freed by reference counting either way.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

G = TypeVar("G")
_lock = threading.Lock()
_released = False


_LONG_LIVED = "long_lived"


def mark_long_lived(graph: Any) -> None:
    """Mark a store's cached whole graph: what the questions prepare from it lives as long."""
    graph.graph[_LONG_LIVED] = id(graph)  # a copy keeps the attribute, not the identity


def rebuild_long_lived(build: Callable[[], G]) -> G:
    """A store's new cached whole graph: the old one released to the collector, the new one kept and marked.

    The caller drops its reference to the old graph first, so that it can be freed.
    """
    release()
    graph = build()
    mark_long_lived(graph)
    keep()
    return graph


def is_long_lived(graph: Any) -> bool:
    """Whether ``graph`` itself (not a copy of it) was marked by :func:`mark_long_lived`.

    >>> import networkx as nx
    >>> g = nx.Graph(); mark_long_lived(g)
    >>> is_long_lived(g), is_long_lived(g.copy()), is_long_lived(nx.Graph())
    (True, False, False)
    """
    return bool(graph.graph.get(_LONG_LIVED) == id(graph))


def keep() -> None:
    """Take everything alive now out of the collector's full passes (after building a big cache).

    Garbage is collected first so that it is not kept with the cache: all of it after a
    :func:`release` (the dropped cache sits in the oldest generation), else the young only.
    """
    global _released
    with _lock:
        gc.collect(2 if _released else 1)
        _released = False
        gc.freeze()


def release() -> None:
    """Let the collector see every kept object again (before dropping a big cache)."""
    global _released
    with _lock:
        if gc.get_freeze_count():
            gc.unfreeze()
            _released = True


def kept() -> int:
    """How many objects are kept out of the collector's passes now.

    >>> release(); kept()
    0
    """
    return gc.get_freeze_count()


_pauses = 0
_resume = False
#: A pause that outlasts this many allocations (other threads keep it going) still runs a young
#: collection at its end, so the garbage of many overlapping answers cannot pile up.
_YOUNG_LIMIT = 1_000_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while an answer is built (its objects are the answer or die with it).

    Pauses nest and overlap across threads: the collector resumes when the last one ends,
    unless it was off before the first began.

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0:
                if _resume:
                    gc.enable()
            elif gc.get_count()[0] > _YOUNG_LIMIT:
                gc.collect(1)


P = ParamSpec("P")
R = TypeVar("R")


def answers_without_collector(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a question so that it runs in :func:`collector_paused`."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return function(*args, **kwargs)

    return paused
