"""One RD New point per object from its GML geometry.

A verblijfsobject normally has a `gml:Point`; a few have only a polygon (`Objecten:vlak`), and
ligplaatsen and standplaatsen always do. For polygons the point is the area centroid of the
exterior ring(s), weighted by ring area when there are several (holes ignored): unlike the mean
of the vertices it does not drift towards a densely digitised side, and the repeated closing
vertex does not count twice. A ring without area falls back to the mean of its vertices.
"""

from __future__ import annotations

import itertools

from lxml import etree

Point = tuple[float, float]


def representative_point(geometrie: etree._Element | None) -> Point | None:
    """The object's point: its gml:Point if it has one, else the centroid of its polygon(s)."""
    if geometrie is None:
        return None
    for point in geometrie.iter("{*}Point"):
        pos = point.findtext("{*}pos")
        if pos:
            x, y = pos.split()[:2]
            return float(x), float(y)
    rings = [
        ring
        for exterior in geometrie.iter("{*}exterior")
        for pos_list in exterior.iter("{*}posList")
        if (ring := _vertices(pos_list))
    ]
    return _centroid(rings) if rings else None


def _vertices(pos_list: etree._Element) -> list[Point]:
    """(x, y) pairs of a gml:posList, dropping z when the list is 3-D."""
    values = [float(value) for value in (pos_list.text or "").split()]
    dimension = _dimension(pos_list, len(values))
    return [(values[i], values[i + 1]) for i in range(0, len(values) - dimension + 1, dimension)]


def _dimension(pos_list: etree._Element, n_values: int) -> int:
    """Coordinates per vertex: from `count` when given, else the nearest `srsDimension`, else 2."""
    count = pos_list.get("count")
    if count and int(count) > 0 and n_values % int(count) == 0:
        return n_values // int(count)
    for element in (pos_list, *pos_list.iterancestors()):
        if element.get("srsDimension"):
            return int(element.get("srsDimension"))
    return 2


def _centroid(rings: list[list[Point]]) -> Point:
    """Area-weighted centroid of closed rings; the vertex mean when they enclose no area."""
    total_area = weighted_x = weighted_y = 0.0
    for ring in rings:
        area, (cx, cy) = _ring_area_centroid(ring)
        total_area += abs(area)
        weighted_x += abs(area) * cx
        weighted_y += abs(area) * cy
    if total_area > 0:
        return weighted_x / total_area, weighted_y / total_area
    vertices = [vertex for ring in rings for vertex in _open_ring(ring)]
    return sum(x for x, _ in vertices) / len(vertices), sum(y for _, y in vertices) / len(vertices)


def _ring_area_centroid(ring: list[Point]) -> tuple[float, Point]:
    """Signed area and centroid by the shoelace formula, computed relative to the first vertex
    so that RD coordinates of some 10^5 m do not swamp the areas of small objects."""
    ox, oy = ring[0]
    shifted = [(x - ox, y - oy) for x, y in ring]
    if shifted[0] != shifted[-1]:
        shifted.append(shifted[0])
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(shifted):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2
    if area == 0:
        return 0.0, (ox, oy)
    return area, (ox + cx / (6 * area), oy + cy / (6 * area))


def _open_ring(ring: list[Point]) -> list[Point]:
    """The ring without its repeated closing vertex."""
    return ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
