"""Non-tool intents: what a user asks that the assistant answers without calling a tool.

Families (the `dialogs.non_tool_kinds` weights; out_of_scope, a request no offered tool serves, is
built in builders.py): arithmetic, unit conversion, date arithmetic, questions about what the assistant
can do, and small talk. Each draws concrete facts (numbers, dates, the tool asked about), so no two
samples share one fixed sentence: offline the facts give the question and its correct answer; on the
model path they give the user agent an instruction of its own.
"""
from __future__ import annotations

import datetime as dt

from .phrasing import abilities, humanise, join, render_value, verb_phrase
from .pool import Api

INTENT_KINDS = ("arithmetic", "conversion", "dates", "capability", "chitchat")
NON_TOOL_KINDS = ("out_of_scope",) + INTENT_KINDS

# unit conversions: (form, from unit, to unit, factor or None for a formula, values to draw from)
_CONVERSIONS = {
    "km_miles": ("km", "miles", 0.621371, range(3, 121)),
    "kg_lb": ("kg", "pounds", 2.20462, range(2, 96)),
    "l_gal": ("litres", "US gallons", 0.264172, range(4, 81)),
    "cm_in": ("cm", "inches", 0.393701, range(5, 201)),
    "hours_minutes": ("hours", "minutes", 60, (1.5, 2, 2.5, 3, 3.5, 4, 6, 7.5, 9, 12)),
    "c_f": ("degrees Celsius", "degrees Fahrenheit", None, range(-15, 41)),
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _num(x: float) -> float:
    return round(x, 2)


def _date(rng, lo=dt.date(2025, 1, 1), span: int = 600) -> dt.date:
    return lo + dt.timedelta(days=rng.randrange(span))


def _spoken(d: dt.date, rng) -> str:
    """A date as people type it: ISO, or month name and day."""
    return d.isoformat() if rng.random() < 0.5 else f"{d.strftime('%B')} {d.day}, {d.year}"


def draw(kind: str, rng, home: Api) -> dict:
    """The facts of one intent of this family; `home` is the first offered tool."""
    if kind == "arithmetic":
        form = rng.choice(("percent", "tip_split", "average", "change"))
        if form == "percent":
            pct, base = rng.choice((5, 10, 12.5, 15, 18, 20, 25, 40)), rng.randint(2, 90) * 10
            return {"kind": kind, "form": form, "pct": pct, "base": base, "answer": _num(pct * base / 100)}
        if form == "tip_split":
            bill, pct, people = rng.randint(2000, 30000) / 100, rng.choice((10, 12, 15, 18, 20)), rng.randint(2, 6)
            return {"kind": kind, "form": form, "bill": bill, "pct": pct, "people": people,
                    "answer": _num(bill * (1 + pct / 100) / people)}
        if form == "average":
            nums = [rng.randint(3, 99) for _ in range(rng.randint(3, 5))]
            return {"kind": kind, "form": form, "numbers": nums, "answer": _num(sum(nums) / len(nums))}
        a = rng.randint(20, 500)
        b = a + rng.choice((-1, 1)) * rng.randint(5, a // 2)
        return {"kind": kind, "form": "change", "from": a, "to": b, "answer": round((b - a) / a * 100, 1)}
    if kind == "conversion":
        form = rng.choice(sorted(_CONVERSIONS))
        _, _, factor, values = _CONVERSIONS[form]
        v = rng.choice(values)
        return {"kind": kind, "form": form, "value": v, "answer": _num(v * 9 / 5 + 32 if factor is None else v * factor)}
    if kind == "dates":
        form = rng.choice(("days_between", "weekday", "add_days"))
        d = _date(rng)
        if form == "days_between":
            end = d + dt.timedelta(days=rng.randint(2, 240))
            return {"kind": kind, "form": form, "start": _spoken(d, rng), "end": _spoken(end, rng), "answer": (end - d).days}
        if form == "weekday":
            return {"kind": kind, "form": form, "date": _spoken(d, rng), "answer": _WEEKDAYS[d.weekday()]}
        n = rng.randint(2, 120)
        return {"kind": kind, "form": form, "date": _spoken(d, rng), "days": n,
                "answer": (d + dt.timedelta(days=n)).isoformat()}
    if kind == "capability":
        form = rng.choice(("general", "specific"))
        return {"kind": kind, "form": form, **({"api": home.idx} if form == "specific" else {})}
    return {"kind": "chitchat", "form": rng.choice(("greeting", "how_are_you", "who_are_you"))}


def _what(api: Api) -> str:
    return verb_phrase(api.tool.get("description", ""), api.name)


def question(d: dict, pool, rng) -> str:
    """The user's words for an intent (offline)."""
    f = d["form"]
    if f == "percent":
        p = render_value(d["pct"])
        return rng.choice((f"What is {p}% of {d['base']}?", f"Quick one: how much is {p} percent of {d['base']}?",
                           f"Can you work out {p}% of {d['base']} for me?"))
    if f == "tip_split":
        return rng.choice((f"Our bill is {render_value(d['bill'])} and we want to leave a {d['pct']}% tip. "
                           f"Split between {d['people']} of us, how much does each person pay?",
                           f"How much does each of {d['people']} people pay for a {render_value(d['bill'])} bill "
                           f"plus {d['pct']}% tip?"))
    if f == "average":
        nums = join([str(x) for x in d["numbers"]])
        return rng.choice((f"What's the average of {nums}?", f"Can you give me the mean of {nums}?"))
    if f == "change":
        return rng.choice((f"If something goes from {d['from']} to {d['to']}, what's the percentage change?",
                           f"By what percent did it change going from {d['from']} to {d['to']}?"))
    if f in _CONVERSIONS:
        src, dst, _, _ = _CONVERSIONS[f]
        v = render_value(d["value"])
        return rng.choice((f"Roughly how many {dst} is {v} {src}?", f"How much is {v} {src} in {dst}?",
                           f"Convert {v} {src} to {dst}, please."))
    if f == "days_between":
        return rng.choice((f"How many days are there from {d['start']} to {d['end']}?",
                           f"Count the days between {d['start']} and {d['end']} for me?"))
    if f == "weekday":
        return rng.choice((f"What day of the week is {d['date']}?", f"Which weekday does {d['date']} fall on?"))
    if f == "add_days":
        return rng.choice((f"What date is {d['days']} days after {d['date']}?",
                           f"If I start on {d['date']}, which date is {d['days']} days later?"))
    if f == "general":
        return _joined(rng, ("", "Hi!", "Hello —", "Quick one before I start:", "New here."),
                       ("What kinds of things can you help me with here?", "Which tasks can you do with your tools?",
                        "What can you actually do for me?", "What are you able to help with?",
                        "What sort of requests can you handle?", "Can you give me an idea of what you do?"))
    if f == "specific":
        x = _what(pool.apis[d["api"]])
        return _joined(rng, ("", "Just checking before I start:", "Quick question:", "Hi!", "Before I ask —", "One thing first:"),
                       (f"can you {x}?", f"are you able to {x}?", f"is it possible for you to {x}?",
                        f"would you be able to {x} if I asked?"))
    return _joined(rng, ("Hi there!", "Hello!", "Good morning!", "Hey.", "Good afternoon!", "Hi, hello."),
                   {"greeting": ("", "Anyone home?", "Just saying hello.", "Nice to meet you.", "First time here.",
                                 "Hope all is well."),
                    "how_are_you": ("How's your day going?", "How are you doing today?", "Busy day?",
                                    "How are things on your end?", "Keeping busy?"),
                    "who_are_you": ("Are you a real person?", "Am I talking to a human or a bot?",
                                    "Who am I talking to, by the way?", "Is this an automated assistant?",
                                    "Are you an AI?")}[f])


def _joined(rng, leads, rests) -> str:
    """A sentence drawn in two parts (an opening, then the point), so short questions vary."""
    lead, rest = rng.choice(leads), rng.choice(rests)
    if not lead or lead[-1] in ".!?":
        rest = rest[:1].upper() + rest[1:]
    return f"{lead} {rest}".strip()


def answer(d: dict, pool, offered: list[Api]) -> str:
    """The assistant's answer to an intent (offline), correct for its facts."""
    f, a = d["form"], render_value(d.get("answer"))
    if f == "percent":
        return f"{render_value(d['pct'])}% of {d['base']} is {a}."
    if f == "tip_split":
        total = render_value(_num(d["bill"] * (1 + d["pct"] / 100)))
        return f"With a {d['pct']}% tip the total is {total}, so each of the {d['people']} of you pays about {a}."
    if f == "average":
        return f"The average of {join([str(x) for x in d['numbers']])} is {a}."
    if f == "change":
        way = "an increase" if d["to"] > d["from"] else "a decrease"
        return f"Going from {d['from']} to {d['to']} is {way} of {render_value(abs(d['answer']))}%."
    if f in _CONVERSIONS:
        src, dst, factor, _ = _CONVERSIONS[f]
        how = " (°F = °C × 9/5 + 32)" if factor is None else "" if factor == 60 else f" (1 {src.rstrip('s')} ≈ {factor} {dst})"
        return f"{render_value(d['value'])} {src} is about {a} {dst}{how}."
    if f == "days_between":
        return f"From {d['start']} to {d['end']} is {a} days."
    if f == "weekday":
        return f"{d['date']} is a {a}."
    if f == "add_days":
        return f"{d['days']} days after {d['date']} is {a}."
    if f == "general":
        return f"With the tools I have here I can {abilities(offered, 5)}."
    if f == "specific":
        api = pool.apis[d["api"]]
        need = join([humanise(p) for p in api.required])
        then = f"Tell me the {need} and I'll do it." if need else "Just say the word and I'll do it."
        return f"Yes — I can {_what(api)}. {then}"
    intro = {"greeting": "Hello! Nice to hear from you.", "how_are_you": "All good on my side, thanks for asking!",
             "who_are_you": "I'm an AI assistant, not a person."}[f]
    return f"{intro} With the tools here I can {abilities(offered, 2)}. What can I do for you?"


def reason(d: dict) -> str:
    """Why no tool is needed (the thinking trace)."""
    k = d["kind"]
    if k == "capability":
        return "the user asks what I can do; the tool descriptions answer that"
    if k == "chitchat":
        return "small talk; there is no task to do"
    return {"arithmetic": "plain arithmetic I can do directly", "conversion": "a unit conversion I can do directly",
            "dates": "date arithmetic I can do directly"}[k]


def _gist(d: dict, pool) -> str:
    f = d["form"]
    if f == "percent":
        return f"what {render_value(d['pct'])}% of {d['base']} is"
    if f == "tip_split":
        return (f"how much each of {d['people']} people pays for a bill of {render_value(d['bill'])} "
                f"plus a {d['pct']}% tip")
    if f == "average":
        return f"the average of {join([str(x) for x in d['numbers']])}"
    if f == "change":
        return f"the percentage change from {d['from']} to {d['to']}"
    if f in _CONVERSIONS:
        src, dst, _, _ = _CONVERSIONS[f]
        return f"how much {render_value(d['value'])} {src} is in {dst}"
    if f == "days_between":
        return f"how many days there are from {d['start']} to {d['end']}"
    if f == "weekday":
        return f"what day of the week {d['date']} is"
    return f"which date is {d['days']} days after {d['date']}"


def instruction(d: dict, pool) -> str:
    """What the model user is asked to write for an intent (model path)."""
    f = d["form"]
    if d["kind"] in ("arithmetic", "conversion", "dates"):
        return (f"Ask the assistant {_gist(d, pool)}. It needs no tool: the assistant can answer it directly. "
                "Word it your own way and keep the numbers.")
    if f == "general":
        return "Ask the assistant what it can help you with here; you have no task for it yet. It needs no tool."
    if f == "specific":
        return (f"Ask whether the assistant is able to {_what(pool.apis[d['api']])} — you only want to know; "
                "you are not asking for it to be done yet. It needs no tool.")
    return {"greeting": "Just greet the assistant; ask for nothing. It needs no tool.",
            "how_are_you": "Make small talk: ask the assistant how its day is going; ask for no task. It needs no tool.",
            "who_are_you": "Ask the assistant whether you are talking to a person or a program; ask for no task. "
                           "It needs no tool."}[f]
