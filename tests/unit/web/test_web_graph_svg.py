"""The relationship graph picture: what it draws, where, and that it is deterministic and escaped."""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET

from mamori.intel.model import Edge, Graph, ObjectSummary
from mamori.web.graph_svg import layout, legend_svg, render_graph_svg

SVG = "{http://www.w3.org/2000/svg}"
C = "indicator--00000000-0000-4000-8000-000000000001"
M = "malware--00000000-0000-4000-8000-000000000002"
A = "threat-actor--00000000-0000-4000-8000-000000000003"
R = "relationship--00000000-0000-4000-8000-000000000004"
R2 = "relationship--00000000-0000-4000-8000-000000000005"
L = "location--00000000-0000-4000-8000-000000000006"


def node(stix_id: str, name: str | None, tlp: int = 1, revoked: bool = False) -> ObjectSummary:
    return ObjectSummary(stix_id=stix_id, type=stix_id.split("--")[0], version="2026-10-01T00:00:00.000000Z",
                         name=name, tlp=tlp, revoked=revoked, date_added="2026-11-01T03:00:00.000000Z")


def small_graph() -> Graph:
    return Graph(
        center=C,
        nodes=(node(C, "C2 address"), node(M, "LanternLoader", tlp=2), node(A, "Mirror Lantern"),
               node(R, "indicates"), node(R2, "uses"), node(L, "Somewhere", revoked=True)),
        edges=(Edge(C, M, "indicates", R), Edge(A, M, "uses", R2), Edge(A, L, "located-at", A)),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the SVG this module just produced, not outside input


def test_draws_a_node_per_object_and_an_arrow_per_link() -> None:
    root = parse(render_graph_svg(small_graph()))
    nodes = {a.get("data-id"): a for a in root.iter(f"{SVG}a")}
    assert set(nodes) == {C, M, A, L}  # relationship objects become arrows, not nodes
    edges = {(g.get("data-source"), g.get("data-target"), g.get("data-type"))
             for g in root.iter(f"{SVG}g") if g.get("class") == "edge"}
    assert edges == {(C, M, "indicates"), (A, M, "uses"), (A, L, "located-at")}
    assert root.get("data-nodes") == "4" and root.get("data-edges") == "3"


def test_nodes_link_to_object_pages_and_show_tlp_badges() -> None:
    root = parse(render_graph_svg(small_graph()))
    malware = next(a for a in root.iter(f"{SVG}a") if a.get("data-id") == M)
    assert malware.get("href") == f"/intel/objects/{M}"
    badge = next(g for g in malware.iter(f"{SVG}g") if g.get("class") == "tlp-badge")
    assert badge.get("data-tlp") == "TLP:AMBER"
    assert "".join(badge.itertext()) == "TLP:AMBER"
    assert malware.find(f"{SVG}polygon") is not None  # malware is a hexagon


def test_revoked_objects_are_drawn_dashed() -> None:
    root = parse(render_graph_svg(small_graph()))
    location = next(a for a in root.iter(f"{SVG}a") if a.get("data-id") == L)
    assert "revoked" in (location.get("class") or "")
    assert location.find(f"{SVG}circle").get("stroke-dasharray") == "4 3"  # type: ignore[union-attr]


def test_rings_follow_hop_distance_from_the_centre() -> None:
    lay = layout(small_graph())
    rings = {sid: p.ring for sid, p in lay.placements.items()}
    assert rings == {C: 0, M: 1, A: 2, L: 3}
    assert (lay.placements[C].x, lay.placements[C].y) == (0.0, 0.0)
    radii = [math.hypot(lay.placements[s].x, lay.placements[s].y) for s in (M, A, L)]
    assert radii == sorted(radii) and radii[0] > 0


def test_same_graph_gives_the_same_picture_whatever_the_input_order() -> None:
    g = small_graph()
    shuffled_nodes = list(g.nodes)
    shuffled_edges = list(g.edges)
    random.Random(7).shuffle(shuffled_nodes)
    random.Random(8).shuffle(shuffled_edges)
    other = Graph(center=g.center, nodes=tuple(shuffled_nodes), edges=tuple(shuffled_edges))
    assert render_graph_svg(g) == render_graph_svg(other)


def test_links_between_the_same_objects_share_one_arrow() -> None:
    g = Graph(center=C, nodes=(node(C, "c"), node(M, "m")),
              edges=(Edge(C, M, "indicates", R), Edge(M, C, "related-to", R2)))
    root = parse(render_graph_svg(g))
    (edge,) = [e for e in root.iter(f"{SVG}g") if e.get("class") == "edge"]
    assert edge.get("data-type") == "indicates, related-to"
    line = edge.find(f"{SVG}line")
    assert line is not None and line.get("marker-start") and line.get("marker-end")


def test_links_to_objects_not_in_the_graph_are_left_out() -> None:
    g = Graph(center=C, nodes=(node(C, "c"),), edges=(Edge(C, M, "indicates", R),))
    root = parse(render_graph_svg(g, empty_text="nothing else"))
    assert root.get("data-edges") == "0"
    assert "nothing else" in "".join(root.itertext())


def test_text_is_escaped() -> None:
    g = Graph(center=C, nodes=(node(C, '<script>alert("x")</script> & co'),), edges=())
    svg = render_graph_svg(g, title="<b>title</b>")
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)  # still well-formed XML
    assert "&" in "".join(root.itertext())


def test_long_names_are_shortened_on_the_picture_but_whole_in_the_tooltip() -> None:
    long_name = "An unusually long indicator name that would overlap its neighbours"
    root = parse(render_graph_svg(Graph(center=C, nodes=(node(C, long_name),), edges=())))
    a = next(root.iter(f"{SVG}a"))
    texts = [t.text for t in a.iter(f"{SVG}text")]
    assert any(t and t.endswith("…") and len(t) == 22 for t in texts)
    title = a.find(f"{SVG}title")
    assert title is not None and long_name in (title.text or "")


def test_an_unknown_centre_gives_an_empty_picture() -> None:
    root = parse(render_graph_svg(Graph(center=C, nodes=(), edges=())))
    assert root.get("data-nodes") == "0"


def test_legend_swatch_uses_the_type_shape() -> None:
    assert "<polygon" in legend_svg("indicator")
    assert "<circle" in legend_svg("threat-actor")
    assert "<rect" in legend_svg("ipv4-addr")
