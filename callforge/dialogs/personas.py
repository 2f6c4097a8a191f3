"""Who asks, why, and in what register: the user agent's persona (`dialogs.personas`).

A sample draws its persona from its own stream (rng_for(seed, "dialogs", i, "persona")), so the pool
changes who speaks, never what the dialog does. Offline the register picks the request's sentence
shapes and the persona may introduce itself ("I'm a night-shift nurse, planning next week."); on the
model path the persona goes into the user agent's system prompt.
"""
from __future__ import annotations

from callforge.core.seeds import rng_for

REGISTERS = ("casual", "neutral", "formal", "terse")

# How a request is put, per register: {c} the request in lower case, {C} capitalised.
STYLES = {
    "casual": ("Hey, can you {c}?", "Hi! Could you {c}?", "Can you {c}? Thanks!", "Mind helping me {c}?",
               "So I need to {c} — can you do that?", "Any chance you could {c}?"),
    "neutral": ("{C}.", "Could you {c}?", "Please {c}.", "I need to {c}.", "I'd like you to {c}, please.",
                "Can you help me {c}?", "{C}, please."),
    "formal": ("Could you please {c}?", "I would like you to {c}, please.", "Would you kindly {c}?",
               "Please {c}. Thank you.", "I would appreciate it if you could {c}."),
    "terse": ("{C}.", "{C}, please.", "Need to {c}.", "{C}. Thanks."),
}

# What the model is told a register sounds like.
REGISTER_HINTS = {
    "casual": "relaxed and friendly, everyday words, maybe a little filler",
    "neutral": "plain and clear",
    "formal": "polite and complete sentences, no slang",
    "terse": "as few words as will do, no greeting or pleasantries",
}

INTRO_SHARE = 0.6   # requests in which a persona introduces itself (never in the terse register)
SMALL_TALK_INTRO_SHARE = 0.9   # small talk and questions about the assistant: who is asking is most of the point


def draw(personas, seed: int, i: int) -> dict | None:
    """Sample i's persona from `dialogs.personas`, or None (the user writes plainly)."""
    rng = rng_for(seed, "dialogs", i, "persona")
    if not personas.who or rng.random() >= personas.share:
        return None
    names = [r for r in REGISTERS if personas.register.get(r, 0) > 0]
    return {"who": rng.choice(personas.who), "why": rng.choice(personas.why) if personas.why else "",
            "register": rng.choices(names, [personas.register[r] for r in names])[0]}


def register_of(persona: dict | None) -> str:
    return persona["register"] if persona else "neutral"


def introduction(persona: dict | None, rng, share: float = INTRO_SHARE) -> str | None:
    """The persona's own words about itself, or None (no persona, terse, or not this time: `share`)."""
    if not persona or persona["register"] == "terse" or rng.random() >= share:
        return None
    me = "I am" if persona["register"] == "formal" else "I'm"
    why = f", {persona['why']}" if persona["why"] else ""
    return f"{me} {persona['who']}{why}."


def prompt_text(persona: dict | None) -> str:
    """The persona for the model user's system prompt ("" without one)."""
    if not persona:
        return ""
    why = f", {persona['why']}" if persona["why"] else ""
    r = persona["register"]
    return (f"Who you are: {persona['who']}{why}. Write as this person would, in a {r} register "
            f"({REGISTER_HINTS[r]}). Mention who you are or why you ask only where it fits naturally.\n")
