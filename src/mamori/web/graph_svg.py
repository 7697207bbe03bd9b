"""A server-side SVG picture of a STIX 2.1 relationship graph (what ``IntelService.graph`` returns).

Layout is deterministic and needs no JavaScript: the centre object sits in the middle and every other object
on a ring by its hop distance from the centre (breadth-first over the drawn links); within the first ring
objects are ordered by (type, name, id), and on outer rings by the angle of the inner neighbour they hang
from, so related objects stay near each other. The same graph always gives the same picture, byte for byte.

Objects are drawn with a shape and colour per STIX type, a TLP 2.0 badge (FIRST TLP 2.0 colours on black),
and a link to their own page. Relationship objects (STIX 2.1 §5.1) are drawn as the labelled arrows they
state rather than as nodes; links between the same two objects share one arrow whose label lists every type.
Presentation attributes only (no ``style``), so the picture obeys a CSP without ``unsafe-inline``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from mamori.intel.model import Graph, ObjectSummary
from mamori.intel.tlp import Tlp


@dataclass(frozen=True)
class NodeStyle:
    shape: str  # circle | diamond | hexagon | square | triangle | pill
    fill: str
    stroke: str


TYPE_STYLES: dict[str, NodeStyle] = {
    "indicator": NodeStyle("diamond", "#fde68a", "#b45309"),
    "malware": NodeStyle("hexagon", "#fecaca", "#b91c1c"),
    "tool": NodeStyle("hexagon", "#e9d5ff", "#7e22ce"),
    "attack-pattern": NodeStyle("hexagon", "#c7d2fe", "#4338ca"),
    "threat-actor": NodeStyle("circle", "#fbcfe8", "#be185d"),
    "intrusion-set": NodeStyle("circle", "#fed7aa", "#c2410c"),
    "campaign": NodeStyle("circle", "#ddd6fe", "#6d28d9"),
    "identity": NodeStyle("circle", "#bfdbfe", "#1d4ed8"),
    "location": NodeStyle("circle", "#bbf7d0", "#15803d"),
    "vulnerability": NodeStyle("triangle", "#fecdd3", "#be123c"),
    "infrastructure": NodeStyle("square", "#d9f99d", "#4d7c0f"),
    "course-of-action": NodeStyle("square", "#a7f3d0", "#047857"),
    "incident": NodeStyle("triangle", "#fca5a5", "#991b1b"),
    "report": NodeStyle("square", "#e5e7eb", "#374151"),
    "grouping": NodeStyle("square", "#e5e7eb", "#4b5563"),
    "note": NodeStyle("square", "#fef9c3", "#854d0e"),
    "opinion": NodeStyle("square", "#fef9c3", "#854d0e"),
    "observed-data": NodeStyle("square", "#cffafe", "#0e7490"),
    "malware-analysis": NodeStyle("square", "#fecaca", "#7f1d1d"),
    "sighting": NodeStyle("circle", "#fef08a", "#a16207"),
    "relationship": NodeStyle("circle", "#f1f5f9", "#475569"),
}
OBSERVABLE_STYLE = NodeStyle("pill", "#e0f2fe", "#0369a1")
OTHER_STYLE = NodeStyle("circle", "#f3f4f6", "#4b5563")
OBSERVABLE_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})

TLP_BADGE_TEXT: dict[Tlp, str] = {  # FIRST TLP 2.0: coloured text on a black background
    Tlp.CLEAR: "#ffffff",
    Tlp.GREEN: "#33ff00",
    Tlp.AMBER: "#ffc000",
    Tlp.AMBER_STRICT: "#ffc000",
    Tlp.RED: "#ff2b2b",
}

NODE_RADIUS = 22.0
CENTER_RADIUS = 30.0
RING_GAP = 200.0
NODE_SPACING = 130.0  # arc length kept between neighbours on a ring
MARGIN = 120.0
LABEL_CHARS = 22
WIDE = 1.6
EDGE_COLOUR = "#64748b"


def style_of(stix_type: str) -> NodeStyle:
    if stix_type in TYPE_STYLES:
        return TYPE_STYLES[stix_type]
    return OBSERVABLE_STYLE if stix_type in OBSERVABLE_TYPES else OTHER_STYLE


def object_href(stix_id: str) -> str:
    return "/intel/objects/" + quote(stix_id, safe="")


@dataclass(frozen=True)
class Link:
    """One arrow of the picture: every link between the same two drawn objects, merged."""

    source: str
    target: str
    types: tuple[str, ...]
    both_ways: bool


@dataclass(frozen=True)
class Placement:
    node: ObjectSummary
    x: float
    y: float
    ring: int
    radius: float


@dataclass(frozen=True)
class Layout:
    placements: dict[str, Placement]
    links: tuple[Link, ...]
    extent: float


def _links(graph: Graph, drawn: set[str]) -> tuple[Link, ...]:
    by_pair: dict[tuple[str, str], tuple[str, set[str], set[tuple[str, str]]]] = {}
    for e in graph.edges:
        if e.source not in drawn or e.target not in drawn or e.source == e.target:
            continue
        pair = (min(e.source, e.target), max(e.source, e.target))
        first, types, directions = by_pair.setdefault(pair, (e.source, set(), set()))
        types.add(e.type)
        directions.add((e.source, e.target))
    out = []
    for (a, b), (first, types, directions) in sorted(by_pair.items()):
        source, target = (first, b if first == a else a)
        out.append(Link(source=source, target=target, types=tuple(sorted(types)), both_ways=len(directions) > 1))
    return tuple(out)


def _neighbours(links: Iterable[Link]) -> dict[str, set[str]]:
    adj: dict[str, set[str]] = {}
    for link in links:
        adj.setdefault(link.source, set()).add(link.target)
        adj.setdefault(link.target, set()).add(link.source)
    return adj


def layout(graph: Graph) -> Layout:
    """Where each drawn object goes: rings by hop distance around the centre."""
    nodes = {n.stix_id: n for n in graph.nodes if n.type != "relationship" or n.stix_id == graph.center}
    if graph.center not in nodes:
        return Layout(placements={}, links=(), extent=0.0)
    links = _links(graph, set(nodes))
    adj = _neighbours(links)
    hops = {graph.center: 0}
    queue = deque([graph.center])
    while queue:
        current = queue.popleft()
        for nxt in sorted(adj.get(current, ())):
            if nxt not in hops:
                hops[nxt] = hops[current] + 1
                queue.append(nxt)
    outer = max(hops.values()) + 1
    for sid in sorted(nodes):
        hops.setdefault(sid, outer)  # not linked to the centre through drawn links: outermost ring
    rings: dict[int, list[str]] = {}
    for sid, ring in hops.items():
        rings.setdefault(ring, []).append(sid)

    def identity_key(sid: str) -> tuple[str, str, str]:
        n = nodes[sid]
        return (n.type, (n.name or "").lower(), sid)

    placements: dict[str, Placement] = {
        graph.center: Placement(nodes[graph.center], 0.0, 0.0, 0, CENTER_RADIUS),
    }
    angles: dict[str, float] = {graph.center: -math.pi / 2}
    radius = 0.0
    for ring in sorted(r for r in rings if r > 0):
        members = rings[ring]
        if ring == 1:
            members.sort(key=identity_key)
        else:
            def parent_angle(sid: str, ring: int = ring) -> float:
                inner = [angles[p] for p in adj.get(sid, ()) if p in angles and hops[p] == ring - 1]
                return min(inner) if inner else math.pi * 2
            members.sort(key=lambda sid: (parent_angle(sid), *identity_key(sid)))
        count = len(members)
        radius = max(radius + RING_GAP, count * NODE_SPACING / (2 * math.pi))
        offset = math.pi / count if ring % 2 == 0 and count > 1 else 0.0
        for i, sid in enumerate(members):
            angle = -math.pi / 2 + offset + 2 * math.pi * i / count
            angles[sid] = angle
            placements[sid] = Placement(
                nodes[sid], round(radius * math.cos(angle), 1), round(radius * math.sin(angle), 1), ring,
                NODE_RADIUS,
            )
    return Layout(placements=placements, links=links, extent=radius)


def _truncate(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(v: float) -> str:
    text = f"{v:.1f}"
    return "0.0" if text == "-0.0" else text


def shape_svg(shape: str, x: float, y: float, r: float, fill: str, stroke: str, extra: str = "") -> str:
    """One node outline centred on (x, y) with half-size ``r``."""
    common = f'fill="{fill}" stroke="{stroke}"{extra}'
    if shape == "circle":
        return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" {common}/>'
    if shape == "square":
        s = r * 0.9
        return (f'<rect x="{_fmt(x - s)}" y="{_fmt(y - s)}" width="{_fmt(2 * s)}" height="{_fmt(2 * s)}" '
                f'rx="4" {common}/>')
    if shape == "pill":
        return (f'<rect x="{_fmt(x - r * 1.3)}" y="{_fmt(y - r * 0.7)}" width="{_fmt(2.6 * r)}" '
                f'height="{_fmt(1.4 * r)}" rx="{_fmt(r * 0.7)}" {common}/>')
    if shape == "diamond":
        pts = [(x, y - r * 1.1), (x + r * 1.1, y), (x, y + r * 1.1), (x - r * 1.1, y)]
    elif shape == "triangle":
        pts = [(x, y - r * 1.1), (x + r * 1.05, y + r * 0.8), (x - r * 1.05, y + r * 0.8)]
    else:  # hexagon
        pts = [(x + r * math.cos(math.pi / 3 * k), y + r * math.sin(math.pi / 3 * k)) for k in range(6)]
    points = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in pts)
    return f'<polygon points="{points}" {common}/>'


def legend_svg(stix_type: str, size: int = 18) -> str:
    """A small swatch of one type's shape and colour, for a legend beside the picture."""
    st = style_of(stix_type)
    half = size / 2
    inner = shape_svg(st.shape, half, half, half * (0.62 if st.shape == "pill" else 0.8), st.fill, st.stroke,
                      ' stroke-width="1.5"')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="legend-swatch" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}" aria-hidden="true">{inner}</svg>')


def _tlp_badge(x: float, y: float, rank: int) -> str:
    level = Tlp(rank) if 0 <= rank <= int(Tlp.RED) else Tlp.RED
    text = level.label
    width = 6.0 * len(text) + 8
    return (
        f'<g class="tlp-badge" data-tlp="{escape(text)}">'
        f'<rect x="{_fmt(x - width / 2)}" y="{_fmt(y - 7)}" width="{_fmt(width)}" height="14" rx="3" '
        f'fill="#000000"/>'
        f'<text x="{_fmt(x)}" y="{_fmt(y + 3.5)}" text-anchor="middle" font-size="9" font-weight="700" '
        f'fill="{TLP_BADGE_TEXT[level]}">{escape(text)}</text></g>'
    )


def render_graph_svg(
    graph: Graph,
    *,
    title: str = "Relationship graph",
    href: Callable[[str], str] = object_href,
    empty_text: str = "No related objects you may see.",
) -> str:
    """The whole picture as an ``<svg>`` element (text already escaped) to place inline in a page."""
    lay = layout(graph)
    extent = lay.extent + MARGIN
    if not lay.placements:
        extent = 160.0
    height = max(2 * extent, 320.0)
    width = max(2 * extent, height * WIDE, 520.0)  # wider than tall, to fill a page-wide frame
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" aria-labelledby="graph-title" '
        f'viewBox="{_fmt(-width / 2)} {_fmt(-height / 2)} {_fmt(width)} {_fmt(height)}" '
        f'font-family="system-ui, -apple-system, \'Segoe UI\', \'Noto Sans JP\', sans-serif" '
        f'data-nodes="{len(lay.placements)}" data-edges="{len(lay.links)}">',
        f'<title id="graph-title">{escape(title)}</title>',
        '<defs><marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOUR}"/></marker></defs>',
    ]
    rings = sorted({p.ring for p in lay.placements.values() if p.ring > 0})
    radii = sorted({round(math.hypot(p.x, p.y), 1) for p in lay.placements.values() if p.ring > 0})
    if rings:
        parts.append('<g class="rings" fill="none" stroke="#e2e8f0" stroke-dasharray="3 5">')
        parts.extend(f'<circle cx="0" cy="0" r="{_fmt(r)}"/>' for r in radii)
        parts.append("</g>")

    parts.append('<g class="edges">')
    for link in lay.links:
        a, b = lay.placements[link.source], lay.placements[link.target]
        dx, dy = b.x - a.x, b.y - a.y
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        x1, y1 = a.x + ux * (a.radius + 4), a.y + uy * (a.radius + 4)
        x2, y2 = b.x - ux * (b.radius + 6), b.y - uy * (b.radius + 6)
        label = ", ".join(link.types)
        markers = ' marker-end="url(#graph-arrow)"'
        if link.both_ways:
            markers += ' marker-start="url(#graph-arrow)"'
        # Labels of links from the centre sit nearer the outer end, clear of the centre's own caption.
        t = 0.6 if link.source == graph.center else 0.4 if link.target == graph.center else 0.5
        mx, my = a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t
        label_w = 6.2 * len(label) + 10
        parts.append(
            f'<g class="edge" data-source="{escape(link.source)}" data-target="{escape(link.target)}" '
            f'data-type="{escape(label)}">'
            f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" stroke="{EDGE_COLOUR}" '
            f'stroke-width="1.6"{markers}/>'
            f'<rect x="{_fmt(mx - label_w / 2)}" y="{_fmt(my - 8)}" width="{_fmt(label_w)}" height="16" rx="8" '
            f'fill="#ffffff" stroke="#cbd5e1" stroke-width="0.8"/>'
            f'<text x="{_fmt(mx)}" y="{_fmt(my + 4)}" text-anchor="middle" font-size="11" fill="#334155">'
            f"{escape(label)}</text></g>"
        )
    parts.append("</g>")

    parts.append('<g class="nodes">')
    for sid in sorted(lay.placements, key=lambda s: (lay.placements[s].ring, s)):
        p = lay.placements[sid]
        n = p.node
        st = style_of(n.type)
        is_center = sid == graph.center
        name = n.name or n.type
        tlp_text = Tlp(n.tlp).label if 0 <= n.tlp <= int(Tlp.RED) else Tlp.RED.label
        classes = "node center" if is_center else "node"
        if n.revoked:
            classes += " revoked"
        extra = f' stroke-width="{"3" if is_center else "2"}"'
        if n.revoked:
            extra += ' stroke-dasharray="4 3" opacity="0.6"'
        # Captions go on the side facing away from the centre, where no link arrives.
        if is_center:
            badge_y, name_y, type_y = p.y - p.radius - 14, p.y + p.radius + 16, p.y + p.radius + 29
        elif p.y < -1.0:
            badge_y, type_y, name_y = p.y - p.radius - 14, p.y - p.radius - 29, p.y - p.radius - 42
        else:
            name_y, type_y, badge_y = p.y + p.radius + 16, p.y + p.radius + 29, p.y + p.radius + 44
        parts.append(
            f'<a href="{escape(href(sid))}" class="{classes}" data-id="{escape(sid)}" data-type="{escape(n.type)}">'
            f"<title>{escape(name)} ({escape(n.type)}, {escape(tlp_text)})</title>"
            + shape_svg(st.shape, p.x, p.y, p.radius, st.fill, st.stroke, extra)
            + _tlp_badge(p.x, badge_y, n.tlp)
            + f'<text x="{_fmt(p.x)}" y="{_fmt(name_y)}" text-anchor="middle" font-size="12" '
            f'font-weight="{"700" if is_center else "500"}" fill="#0f172a">{escape(_truncate(name))}</text>'
            f'<text x="{_fmt(p.x)}" y="{_fmt(type_y)}" text-anchor="middle" font-size="10" '
            f'fill="#64748b">{escape(n.type)}</text></a>'
        )
    parts.append("</g>")
    if len(lay.placements) <= 1:
        parts.append(f'<text x="0" y="{_fmt(height / 2 - 24)}" text-anchor="middle" font-size="13" '
                     f'fill="#64748b">{escape(empty_text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def drawn_types(graph: Graph) -> list[str]:
    """The STIX types the picture shows, sorted, for its legend."""
    return sorted({p.node.type for p in layout(graph).placements.values()})


__all__ = ["Layout", "Link", "NodeStyle", "Placement", "drawn_types", "layout", "legend_svg", "object_href",
           "render_graph_svg", "shape_svg", "style_of"]
