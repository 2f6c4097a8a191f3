"""Prompts and expected answer shapes for the model-driven context tree (speciation; own wording).

Every prompt asks for one JSON object; the gateway validates it against the *_SCHEMA here and asks
for a repair when it does not match. TAXONOMY_PROMPT_VERSION goes into data/taxonomy.json's provenance.
"""
from __future__ import annotations

TAXONOMY_PROMPT_VERSION = "taxonomy-v1"

_NODE = {"type": "object", "required": ["name", "description"],
         "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 120},
                        "description": {"type": "string"}}}

CHILDREN_SCHEMA = {"type": "object", "required": ["children"],
                   "properties": {"children": {"type": "array", "minItems": 1, "items": _NODE}}}

DOC_SCHEMA = {"type": "object", "required": ["domain", "functionalities"],
              "properties": {"domain": _NODE, "functionalities": {"type": "array", "minItems": 1, "items": _NODE}}}

_SYSTEM_TREE = ("You organise the space of software APIs into a tree of domains and functionalities. "
                "Answer with a single JSON object and nothing else.")


def expand_node(path: tuple[str, ...], description: str, breadth: int, level: int, depth: int) -> list[dict]:
    last = level + 1 == depth
    kind = ("concrete functionalities an API could offer (one action each, e.g. 'look up a parcel by tracking number')"
            if last else "narrower sub-areas")
    where = " > ".join(path)
    return [{"role": "system", "content": _SYSTEM_TREE},
            {"role": "user", "content":
                f"Area: {where}\nAbout it: {description or '(no description)'}\n\n"
                f"List up to {breadth} {kind} inside this area. They must not overlap each other and must "
                f"belong to the area. Give each a short name (2-6 words) and a one-sentence description.\n"
                'Reply as {"children": [{"name": "...", "description": "..."}]}.'}]


def speciate_doc(text: str, breadth: int, limit: int = 6000) -> list[dict]:
    return [{"role": "system", "content": _SYSTEM_TREE},
            {"role": "user", "content":
                "Read the document below (a manual, API reference or product description). Name the one "
                f"application domain it belongs to, and up to {breadth} distinct functionalities it describes "
                "that an API could expose.\n"
                'Reply as {"domain": {"name": "...", "description": "..."}, '
                '"functionalities": [{"name": "...", "description": "..."}]}.\n\n'
                f"--- document ---\n{text[:limit]}\n--- end ---"}]
