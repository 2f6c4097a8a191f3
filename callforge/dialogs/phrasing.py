"""Turning API definitions and values into plain English (offline agents' shared vocabulary)."""
from __future__ import annotations

import json
import re

from callforge.calling.offline.names import singular, tokens

# Base-form verbs that API descriptions commonly start with.
VERBS = frozenset("""get retrieve fetch find search list create add update delete remove calculate compute convert
check book cancel send generate return report look show provide estimate set open close schedule translate
analyze analyse predict recommend track validate verify register submit post upload download subscribe monitor
compare summarize summarise determine identify detect assemble build produce tell move pay freeze reserve rent
suggest plan measure query count filter sort rank apply start stop enable disable play record assign approve
reject notify simulate evaluate assess extract parse format resolve locate obtain perform process transfer issue
renew request scan share sync tag test visualize visualise forecast give make compose draft write read review rate
fill log mark order buy sell purchase lookup access manage modify edit change invite join leave follow unfollow
publish archive restore reset lock unlock block unblock export import merge split encrypt decrypt encode decode
ping authenticate authorize authorise confirm reschedule refund quote price split sum average round solve draw
plot fit train classify cluster detect tokenize embed match map route navigate arrange cook brew order deliver
ship dispatch inspect audit calibrate charge connect disconnect install uninstall launch deploy provision scale
score turn integrate differentiate run claim explain queue propose pause resume roll place break shuffle pull push
choose project balance multiply divide add subtract screen alert enrol enroll snapshot switch save watch reformat arm
disarm donate activate deactivate grant revoke accept decline print call text dial mute unmute rotate raise lower
invert transpose normalize normalise simplify factor expand solve integrate derive mint stake swap bridge withdraw
deposit top convert recommend rebalance backup back migrate clone fork commit revert rollback tail stream capture
translate transcribe detect moderate flag report redact anonymize anonymise mask hash sign verify attest notarize""".split())

# Everyday stand-ins for description words: used when a request should be worded away from the API text.
SYNONYMS = {
    "find": "track down", "search": "hunt for", "get": "pull up", "retrieve": "dig up", "fetch": "grab",
    "list": "run through", "calculate": "work out", "compute": "figure out", "convert": "turn", "check": "double-check",
    "book": "lock in", "reserve": "hold", "cancel": "call off", "create": "set up", "update": "change",
    "delete": "get rid of", "remove": "take off", "send": "fire off", "generate": "come up with", "return": "give me",
    "report": "let me know", "show": "walk me through", "estimate": "ballpark", "set": "put", "open": "start",
    "schedule": "line up", "recommend": "point me to", "track": "keep tabs on", "pay": "settle", "transfer": "shift",
    "predict": "forecast", "analyze": "dig into", "analyse": "dig into", "translate": "put", "summarize": "sum up",
    "summarise": "sum up", "compare": "weigh up", "look": "see", "provide": "hand over", "tell": "let me know",
    "determine": "pin down", "identify": "spot", "verify": "confirm", "validate": "sanity-check", "submit": "file",
    "register": "sign up", "assemble": "put together", "build": "put together", "produce": "make", "move": "shift",
    "freeze": "put a hold on", "rent": "hire", "suggest": "pitch", "plan": "map out", "measure": "gauge",
    "monitor": "watch", "download": "pull down", "upload": "push up", "buy": "pick up", "purchase": "pick up",
    "order": "get", "add": "put in", "modify": "tweak", "edit": "tweak", "manage": "handle", "approve": "sign off on",
    "obtain": "get hold of", "perform": "run", "process": "handle", "review": "go over", "draft": "sketch out",
    "write": "put together", "compose": "put together", "play": "put on", "issue": "hand out", "refund": "pay back",
    "reschedule": "move", "notify": "give a heads-up to", "forecast": "project", "assess": "size up",
    "evaluate": "size up", "extract": "pull out", "locate": "find", "lookup": "see", "place": "put in",
    "run": "kick off", "explain": "spell out", "choose": "pick", "score": "rate", "start": "kick off",
    "save": "keep", "watch": "keep an eye on", "switch": "flip", "activate": "turn on", "deactivate": "turn off",
}

_THIRD = (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("sses", "ss"), ("xes", "x"), ("zes", "z"),
          ("oes", "o"), ("s", ""))
_SENT = re.compile(r"(?<=[a-z0-9)])\.\s")
_LEAD = re.compile(r"^(this|the|a|an)\s+(tool|function|api|endpoint|method|service|operation)\s+"
                   r"(that\s+|which\s+|will\s+|can\s+|is used to\s+|allows you to\s+|lets you\s+|helps\s+(you\s+)?(to\s+)?)*",
                   re.I)


def base_verb(word: str) -> str | None:
    """'Retrieves' -> 'retrieve', 'fetches' -> 'fetch'; None when it is not a known verb."""
    w = word.lower()
    if w in VERBS:
        return w
    for suf, rep in _THIRD:
        if w.endswith(suf) and w[: -len(suf)] + rep in VERBS:
            return w[: -len(suf)] + rep
    return None


def humanise(name: str) -> str:
    return " ".join(tokens(name)) or name


def verb_phrase(description: str, name: str) -> str:
    """An imperative phrase for what the API does ('find hotels in a city ...')."""
    d = (description or "").strip()
    first = _SENT.split(d, 1)[0].rstrip(". ") if d else ""
    first = _LEAD.sub("", first)
    words = first.split()
    if words:
        v = base_verb(words[0].strip(",;:"))
        if v:
            rest = " ".join(words[1:])
            phrase = f"{v} {rest}".strip()
            return phrase[0].lower() + phrase[1:] if len(phrase) > 1 else phrase
    toks = list(tokens(name))
    verb = next((t for t in toks if t in VERBS), None)
    if verb:
        toks.remove(verb)
        return f"{verb} the {' '.join(toks)}".strip() if toks else verb
    return f"use {humanise(name)}"


def abilities(apis, n: int, last: str = "and") -> str:
    """What the first n distinct jobs among these APIs are, as one phrase ("find hotels and book a room")."""
    phrases = list(dict.fromkeys(verb_phrase(a.tool.get("description", ""), a.name) for a in apis))
    return join(phrases[:n], last)


def reword(phrase: str) -> str:
    """The same phrase with its verb (and a few description words) in everyday words."""
    words = phrase.split()
    if words and words[0] in SYNONYMS:
        syn = SYNONYMS[words[0]].split()
        if len(words) > 1 and words[1] == syn[-1]:
            syn = syn[:-1]  # "search for" -> "hunt for", not "hunt for for"
        words[0:1] = syn
    return " ".join(words)


def render_value(v) -> str:
    """How a user would type a value: strings and numbers verbatim, nested values in words
    ("length 5.5 cm and width 3 cm", "12 kg"), never as a dumped object."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return repr(v) if v != int(v) else str(int(v)) if abs(v) < 1e15 else repr(v)
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, list):
        parts = [_nested(x) for x in v]
        return join(parts) if parts else "none"
    if isinstance(v, dict):
        return _object_text(v)
    if v is None:
        return "none"
    return json.dumps(v, ensure_ascii=False)


# Unit words a name may end in ("length_cm"): said after the number, as people write it.
_UNIT_SUFFIXES = frozenset({"kg", "km", "cm", "mm", "m", "m2", "m3", "ml", "kw", "kwh", "gb", "mb", "px", "usd"})


def pair_text(key: str, v) -> str:
    """One named value in words: "length 5.5 cm" for length_cm, "weight 12 kg", "city Oslo"."""
    toks = tokens(key)
    if len(toks) > 1 and toks[-1] in _UNIT_SUFFIXES and isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{' '.join(toks[:-1])} {render_value(v)} {toks[-1]}"
    return f"{key if key.isupper() else humanise(key)} {_nested(v)}"   # a map's keys (IBM, LOG_LEVEL) as given


def _object_text(d: dict) -> str:
    """An object in words. A quantity reads as its amount and unit, a weighted choice as the choice;
    anything else as its named parts."""
    keys = set(d)
    if "value" in keys and keys <= {"value", "unit", "label"}:
        label = f" ({render_value(d['label'])})" if "label" in d else ""
        return " ".join(render_value(d[k]) for k in ("value", "unit") if k in d) + label
    if "choice" in keys and keys <= {"choice", "weight"}:
        return render_value(d["choice"]) + (f" (weight {render_value(d['weight'])})" if "weight" in d else "")
    return join([pair_text(k, x) for k, x in d.items()]) or "nothing"


def _nested(v) -> str:
    """A value inside another: an object of several parts in parentheses, so its "and"s stay its own."""
    text = render_value(v)
    return f"({text})" if isinstance(v, dict) and len(v) > 1 and " and " in text else text


def count_of(n: int, noun: str) -> str:
    """A count and its noun in agreement: "1 result", "3 results"."""
    words = humanise(noun).split()
    if n == 1 and words:
        words[-1] = singular(words[-1])
    return f"{n} {' '.join(words)}".rstrip()


def join(parts: list[str], last: str = "and") -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {last} " + parts[-1]
