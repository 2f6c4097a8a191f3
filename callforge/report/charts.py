"""Inline SVG charts made here (no chart library, nothing fetched). Every label is escaped: domain and
API names come from models or imported files."""
from __future__ import annotations

from html import escape

BAR_W, LABEL_W, ROW_H = 260, 190, 18


def num(v) -> str:
    """A count as written in the metrics files; a float with at most 4 significant decimals."""
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v).lower()
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        return str(int(v))
    return f"{v:.4g}"


def bars(title: str, items: list[tuple[str, float]], note: str = "") -> str:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    if not items:
        return ""
    top = max((v for _, v in items), default=0) or 1
    h = ROW_H * len(items) + 4
    parts = [f'<svg class="cf-chart" role="img" width="{LABEL_W + BAR_W + 70}" height="{h}" '
             f'viewBox="0 0 {LABEL_W + BAR_W + 70} {h}">']
    for i, (label, v) in enumerate(items):
        y = i * ROW_H + 2
        w = max(0.0, BAR_W * v / top)
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(str(label)[:32])}</text>'
                     f'<rect x="{LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{ROW_H - 5}" class="cf-bar"/>'
                     f'<text x="{LABEL_W + w + 4:.1f}" y="{y + 13}">{escape(num(v))}</text>')
    parts.append("</svg>")
    return figure(title, "".join(parts), note)


def figure(title: str, body: str, note: str = "") -> str:
    cap = f'<p class="cf-note">{escape(note)}</p>' if note else ""
    return f'<figure class="cf-figure"><figcaption>{escape(title)}</figcaption>{body}{cap}</figure>'


def histogram(title: str, bins: list[dict], markers: list[tuple[float, str]], note: str = "") -> str:
    """Vertical bars over the loss axis (bins: {loss: bin centre, samples}); markers: vertical lines."""
    if not bins:
        return ""
    W, H, pad = 520, 180, 30
    xs = [b["loss"] for b in bins]
    step = (xs[1] - xs[0]) if len(xs) > 1 else 1.0
    lo, hi = xs[0] - step / 2, xs[-1] + step / 2
    for x, _ in markers:
        lo, hi = min(lo, x), max(hi, x)
    top = max(b["samples"] for b in bins) or 1

    def sx(x: float) -> float:
        return pad + (W - 2 * pad) * (x - lo) / ((hi - lo) or 1)

    parts = [f'<svg class="cf-chart" role="img" width="{W}" height="{H + 40}" viewBox="0 0 {W} {H + 40}">',
             f'<line x1="{pad}" y1="{H}" x2="{W - pad}" y2="{H}" class="cf-axis"/>']
    for b in bins:
        x0, x1 = sx(b["loss"] - step / 2), sx(b["loss"] + step / 2)
        h = (H - 20) * b["samples"] / top
        parts.append(f'<rect x="{x0:.1f}" y="{H - h:.1f}" width="{max(0.5, x1 - x0 - 1):.1f}" height="{h:.1f}" '
                     f'class="cf-bar"><title>{escape(num(b["loss"]))}: {b["samples"]}</title></rect>')
    for i, (x, label) in enumerate(markers):
        parts.append(f'<line x1="{sx(x):.1f}" y1="10" x2="{sx(x):.1f}" y2="{H}" class="cf-marker"/>'
                     f'<text x="{sx(x) + 3:.1f}" y="{20 + 12 * i}" class="cf-marker-label">'
                     f'{escape(label)} {escape(num(x))}</text>')
    parts.append(f'<text x="{pad}" y="{H + 16}">{escape(num(lo))}</text>'
                 f'<text x="{W - pad}" y="{H + 16}" text-anchor="end">{escape(num(hi))}</text>'
                 f'<text x="{W / 2}" y="{H + 32}" text-anchor="middle">loss (nats per response token)</text></svg>')
    return figure(title, "".join(parts), note)


def interval(lo: float, hi: float, mid: float, lo_axis: float, hi_axis: float, W: int = 160) -> str:
    """One interval as a small SVG: a line from lo to hi, a dot at mid, a tick at 0 when 0 is on the axis."""
    span = (hi_axis - lo_axis) or 1

    def sx(x: float) -> float:
        return 4 + (W - 8) * (x - lo_axis) / span

    zero = f'<line x1="{sx(0):.1f}" y1="1" x2="{sx(0):.1f}" y2="13" class="cf-axis"/>' \
        if lo_axis <= 0 <= hi_axis else ""
    return (f'<svg class="cf-ci" width="{W}" height="14" viewBox="0 0 {W} 14">{zero}'
            f'<line x1="{sx(lo):.1f}" y1="7" x2="{sx(hi):.1f}" y2="7" class="cf-ci-line"/>'
            f'<circle cx="{sx(mid):.1f}" cy="7" r="3" class="cf-ci-dot"/></svg>')
