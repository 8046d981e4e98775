"""A picture of the posture for a reviewer's browser: secrets, workloads by namespace, flows.

Self-contained SVG (inline styles, system fonts, no scripts, nothing fetched): secrets and
Vault paths on the left with a line to each workload that reads them (coloured by how; dashed
when the pod lacks the credential the grant needs), workloads grouped in their namespaces in
the middle with the connections between them, and what they reach outside on the right. The
HTML page is the SVG, a legend and the tables of `access`, in one file.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from secureai.posture import Posture
from secureai.posture.report import as_text

HOW_COLOURS = {
    "env": "#1f77b4",
    "volume": "#9467bd",
    "file": "#17becf",
    "pull": "#8c564b",
    "rbac": "#d62728",
    "vault": "#2ca02c",
}
FLOW = "#555555"
OUTSIDE = "#ff7f0e"
ROW = 34
BOX_H = 24
LEFT_X, LEFT_W = 20, 340
MID_X, MID_W = 500, 260
RIGHT_X, RIGHT_W = 990, 390
CHAR_W = 6.8  # average width of a 12px system-ui character, for cutting labels to their box
TOP = 50


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text(
    x: float, y: float, text: str, size: int = 12, anchor: str = "start", weight: str = "normal"
) -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}">{_esc(text)}</text>'
    )


def _box(x: float, y: float, w: float, label: str, fill: str, title: str, stroke: str = "#333") -> str:
    fits = int((w - 16) / CHAR_W)
    short = label if len(label) <= fits else label[: fits - 3] + "..."
    return (
        f"<g><title>{_esc(title)}</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{BOX_H}" rx="5" '
        f'fill="{fill}" stroke="{stroke}"/>' + _text(x + 8, y + 16, short) + "</g>"
    )


def _curve(x1: float, y1: float, x2: float, y2: float, colour: str, title: str, dashed: bool = False) -> str:
    mid = (x1 + x2) / 2
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return (
        f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" '
        f'fill="none" stroke="{colour}" stroke-width="1.6"{dash} marker-end="url(#arrow-{colour[1:]})">'
        f"<title>{_esc(title)}</title></path>"
    )


def _markers(colours: Iterable[str]) -> str:
    return "".join(
        f'<marker id="arrow-{c[1:]}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
        for c in colours
    )


def as_svg(p: Posture) -> str:
    parts: list[str] = []
    # Middle column: namespaces and their workloads.
    centre: dict[str, float] = {}
    y = TOP
    namespaces: dict[str, list[str]] = {}
    for wid in p.workloads:
        namespaces.setdefault(wid.split("/", 1)[0], []).append(wid)
    privileges = {x.workload: x for x in p.privileges}
    for ns, members in namespaces.items():
        height = 28 + len(members) * ROW
        parts.append(
            f'<rect x="{MID_X - 15}" y="{y}" width="{MID_W + 30}" height="{height}" rx="8" '
            f'fill="#f4f6fa" stroke="#9aa5b8"/>'
        )
        parts.append(_text(MID_X - 5, y + 17, f"namespace {ns}", 12, weight="bold"))
        y += 28
        for wid in members:
            pv = privileges[wid]
            flags = []
            if pv.api_token:
                flags.append("API token")
            if pv.privileged or pv.escalation:
                flags.append("privileged")
            if pv.host:
                flags.append("host")
            label = wid.split("/", 1)[1] + (f"  [{', '.join(flags)}]" if flags else "")
            fill = (
                "#fde2e1"
                if (pv.privileged or pv.escalation or pv.host)
                else "#fff6d6"
                if pv.api_token
                else "#ffffff"
            )
            title = f"{wid}\naccount {pv.account}\nuser {pv.user}\nvolumes: {', '.join(pv.volumes) or '-'}"
            parts.append(_box(MID_X, y, MID_W, label, fill, title))
            centre[wid] = y + BOX_H / 2
            y += ROW
        y += 14
    bottom = y
    # Left column: secrets, with their readers.
    y = TOP + 28
    for item in p.secrets:
        kind = "Vault " if item.kind == "vault" else ""
        parts.append(_box(LEFT_X, y, LEFT_W, kind + item.id, "#eef7ee" if kind else "#eef3fb", item.id))
        drawn: dict[str, int] = {}
        for r in item.readers:
            if r.workload is None or r.workload not in centre:
                continue
            # Several ways of reading one secret fan out a little, so each line stays visible.
            shift = 4 * drawn.setdefault(r.workload, 0)
            drawn[r.workload] += 1
            title = f"{r.workload} reads {item.id} by {r.how}: {r.detail}; granted by {r.grant}"
            parts.append(
                _curve(
                    LEFT_X + LEFT_W,
                    y + BOX_H / 2 + shift,
                    MID_X,
                    centre[r.workload] + shift,
                    HOW_COLOURS[r.how],
                    title,
                    dashed=not r.credential,
                )
            )
        y += ROW
    bottom = max(bottom, y)
    # Flows between workloads: arcs on the right edge of the middle column.
    for f in p.network.flows:
        if f.source not in centre or f.target not in centre:
            continue
        x = MID_X + MID_W
        y1, y2 = centre[f.source], centre[f.target]
        bend = x + 40 + min(abs(y2 - y1) / 4, 120)
        title = f"{f.source} -> {f.target} on {f.ports.text()}; allowed by {', '.join(f.via)}"
        parts.append(
            f'<path d="M{x},{y1:.0f} C{bend:.0f},{y1:.0f} {bend:.0f},{y2:.0f} {x},{y2:.0f}" fill="none" '
            f'stroke="{FLOW}" stroke-width="1.6" marker-end="url(#arrow-{FLOW[1:]})">'
            f"<title>{_esc(title)}</title></path>"
        )
        parts.append(_text(bend - 8, (y1 + y2) / 2 + 4, f.ports.text(), 10))
    # Right column: outside peers.
    peers: dict[str, float] = {}
    y = TOP + 28
    for o in p.network.outside:
        if o.peer not in peers:
            parts.append(_box(RIGHT_X, y, RIGHT_W, o.peer, "#fff1e5", o.peer, OUTSIDE))
            peers[o.peer] = y + BOX_H / 2
            y += ROW
    bottom = max(bottom, y)
    for o in p.network.outside:
        if o.workload not in centre:
            continue
        way = "from" if o.direction == "ingress" else "to"
        title = f"{o.workload} {way} {o.peer} on {o.ports}; {', '.join(o.via)}"
        start, end = (MID_X + MID_W, RIGHT_X) if o.direction == "egress" else (RIGHT_X, MID_X + MID_W)
        ys = (
            (centre[o.workload], peers[o.peer])
            if o.direction == "egress"
            else (peers[o.peer], centre[o.workload])
        )
        parts.append(_curve(start, ys[0], end, ys[1], OUTSIDE, title, dashed=o.peer == "anywhere"))
    width = RIGHT_X + RIGHT_W + 20
    height = bottom + 20
    header = [
        _text(LEFT_X, 30, "Secrets and who reads them", 14, weight="bold"),
        _text(MID_X - 15, 30, "Workloads and connections", 14, weight="bold"),
        _text(RIGHT_X, 30, "Outside the workloads", 14, weight="bold"),
    ]
    colours = [*HOW_COLOURS.values(), FLOW, OUTSIDE]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">'
        f"<title>secureai posture: {_esc(p.project)}</title>"
        f"<defs>{_markers(colours)}</defs>"
        f'<rect width="100%" height="100%" fill="white"/>' + "".join(header) + "".join(parts) + "</svg>"
    )


def _legend() -> str:
    items = [f'<span style="color:{c}">&#9644;</span> {how}' for how, c in HOW_COLOURS.items()]
    items += [
        f'<span style="color:{FLOW}">&#9644;</span> connection between workloads',
        f'<span style="color:{OUTSIDE}">&#9644;</span> connection outside (dashed: anywhere)',
        "dashed reader: credential not mounted",
        "yellow: API token mounted; red: privileged or host access",
    ]
    return " &nbsp; ".join(items)


def as_html(p: Posture) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>secureai posture: {_esc(p.project)}</title>"
        "<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em}"
        "pre{font-size:12px;background:#f7f7f7;padding:1em;overflow:auto}</style></head><body>"
        f"<h1>Posture of {_esc(p.project)}</h1>"
        "<p>Computed from the compiled manifests and Vault policies. Hover a line or a box for details.</p>"
        f"<p>{_legend()}</p>"
        f"{as_svg(p)}"
        f"<h2>Tables</h2><pre>{_esc(as_text(p))}</pre>"
        "</body></html>\n"
    )
