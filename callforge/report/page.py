"""index.html: the template (assets/page.html) with its CSS, JS, sections and settings inlined.

The page's Content-Security-Policy allows exactly the inlined script (by its sha256) and script files
beside it: a <script> or an onerror= that got into the data could not run even if it reached the DOM
as markup (the page's own code never puts data there as markup in the first place).
"""
from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from importlib import resources

ASSETS = resources.files("callforge.report") / "assets"


def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def json_for_html(obj) -> str:
    """JSON safe inside a <script type="application/json"> block: no `<`, `>` or `&` can close it."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def csp_for(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}' file: 'self'; style-src 'unsafe-inline'; "
            f"img-src data:")


def fill(template: str, parts: dict[str, str]) -> str:
    """Replace each <!--CF:name--> marker once per occurrence; the parts are already escaped HTML."""
    for name, html in parts.items():
        template = template.replace(f"<!--CF:{name}-->", html)
    return template


def render(title: str, sections: dict[str, str], settings: dict) -> str:
    js = asset("browser.js")
    return fill(asset("page.html"), {**sections, "csp": csp_for(js), "title": escape(title), "css": asset("style.css"),
                       "settings": json_for_html(settings), "js": js})
