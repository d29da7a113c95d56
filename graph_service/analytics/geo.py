"""Distances between organisations, and an index of points for "who is within D km"."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres.

    Examples
    --------
    >>> round(haversine_km(52.48, -1.89, 52.48, -1.89), 3)
    0.0
    >>> round(haversine_km(51.5074, -0.1278, 52.4862, -1.8904), 1)  # London to Birmingham
    162.5
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def location(attrs: Mapping[str, Any]) -> tuple[float, float] | None:
    """``(latitude, longitude)`` of a node's attributes, or ``None`` when unknown.

    Examples
    --------
    >>> location({"latitude": 52.5, "longitude": -1.9})
    (52.5, -1.9)
    >>> location({"latitude": 52.5}) is None
    True
    """
    lat, lon = attrs.get("latitude"), attrs.get("longitude")
    if lat is None or lon is None:
        return None
    return float(lat), float(lon)


def distance_between(a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
    """Distance in km between two nodes' attributes, ``None`` when either has no location.

    Examples
    --------
    >>> distance_between({"latitude": 52.0, "longitude": -1.0}, {}) is None
    True
    """
    pa, pb = location(a), location(b)
    if pa is None or pb is None:
        return None
    return haversine_km(pa[0], pa[1], pb[0], pb[1])


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """``(south, north, west, east)`` of a box holding every point within ``radius_km`` of a point.

    Examples
    --------
    >>> south, north, west, east = bounding_box(52.48, -1.89, 10)
    >>> south < 52.48 - 0.09 < 52.48 + 0.09 < north, west < -1.89 - 0.14 < -1.89 + 0.14 < east
    (True, True)
    """
    # A degree of latitude is at least 110.5 km; longitude degrees shrink with cos(latitude).
    lat_span = radius_km / 110.5
    lon_span = radius_km / max(0.01, 111.4 * math.cos(math.radians(min(89.0, abs(lat) + lat_span))))
    return lat - lat_span, lat + lat_span, lon - lon_span, lon + lon_span


class PointIndex:
    """Points sorted by latitude, to find those within a radius fast.

    A question reads the band of latitudes its radius spans (a binary search), keeps the points
    within the band's longitudes too, and measures those at once with arrays, by the same
    formula as :func:`haversine_km`.

    Examples
    --------
    >>> index = PointIndex([("a", 52.48, -1.89), ("b", 52.49, -1.88), ("c", 51.5, -0.12)])
    >>> [(key, round(km, 2)) for key, km in index.within(52.48, -1.89, 5)]
    [('a', 0.0), ('b', 1.3)]
    """

    def __init__(self, points: Iterable[tuple[str, float, float]]) -> None:
        ordered = sorted(points, key=lambda point: (point[1], point[2], point[0]))
        self._keys = np.array([key for key, _lat, _lon in ordered], dtype=object)
        self._lats = np.array([lat for _key, lat, _lon in ordered], dtype=np.float64)
        self._lons = np.array([lon for _key, _lat, lon in ordered], dtype=np.float64)
        self._cos_lats = np.cos(np.radians(self._lats))

    def within(self, lat: float, lon: float, radius_km: float) -> list[tuple[str, float]]:
        """``(key, km)`` of the points within ``radius_km``, nearest first, then by key."""
        south, north, west, east = bounding_box(lat, lon, radius_km)
        first = int(np.searchsorted(self._lats, south, side="left"))
        last = int(np.searchsorted(self._lats, north, side="right"))
        lons = self._lons[first:last]
        picked = np.flatnonzero((lons >= west) & (lons <= east)) + first
        p1 = math.radians(lat)
        dp = np.radians(self._lats[picked]) - p1
        dl = np.radians(self._lons[picked] - lon)
        a = np.sin(dp / 2) ** 2 + math.cos(p1) * self._cos_lats[picked] * np.sin(dl / 2) ** 2
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        close = km <= radius_km
        found = list(zip(self._keys[picked[close]].tolist(), km[close].tolist(), strict=True))
        found.sort(key=lambda item: (item[1], item[0]))
        return found
