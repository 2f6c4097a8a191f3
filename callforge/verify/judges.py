"""The model layer: LLM judges, each asking one question about a sample, through the gateway.

The gateway is built from the `judge` config section (conf/judge/), not the generator's `llm`: another
judge re-runs verify only, and the generator need not grade itself. Each judge answers a JSON object
{"reasons": [...], "verdict": "pass"|"fail"}, reasons first: the model writes its findings before it
commits to a verdict, so the verdict follows from them rather than the reasons justifying a verdict
already given. A verdict the gateway cannot parse even after its repair retries rejects the sample with
`judge.unparseable`; a request that still fails after retries rejects it with `judge.unavailable`; a
question never asked because judge.budget was spent rejects it with `budget.stopped` (callforge.core.budget).
Nothing here passes a sample it did not get a verdict for, and with judge=offline the judges are not
run at all (the runner reports "not run").
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from callforge.core.budget import BUDGET_STOPPED

PROMPT_VERSION = "verify-judges-v3"

# Key order is generation order: "reasons" comes first in the properties, the required list and the
# prompt's example, so a server that decodes to this schema (and a model that follows the example)
# writes the findings before the verdict. Closed and all-required, it is inside OpenAI's strict subset:
# under llm.structured_output=json_schema a strict server cannot answer anything but a verdict.
VERDICT_SCHEMA = {
    "type": "object",
    "required": ["reasons", "verdict"],
    "properties": {
        "reasons": {"type": "array", "items": {"type": "string"}},
        "verdict": {"enum": ["pass", "fail"]},
    },
    "additionalProperties": False,
}

SYSTEM = (
    "You review function-calling training data. You get the tool definitions and one dialog between a "
    "user, an assistant and the tools, and you answer one question about it. Reply with one JSON object "
    'and nothing else: {"reasons": [short strings], "verdict": "pass" or "fail"}. Write the reasons '
    "first: each concrete problem you find in the dialog, one string each (an empty list when you find "
    'none). Then the verdict, last: "fail" only when a reason names a concrete problem, else "pass".'
)


@dataclass(frozen=True)
class Judge:
    name: str
    code: str                        # the reason code a "fail" verdict gives
    applies: Callable[[dict], bool]  # samples the question makes sense for; others are not asked
    question: str


def _has_calls(s: dict) -> bool:
    return any(m.get("role") == "assistant" and m.get("tool_calls") for m in s["messages"])


def _has_results(s: dict) -> bool:
    return any(m.get("role") == "tool" for m in s["messages"])


JUDGES: dict[str, Judge] = {j.name: j for j in [
    Judge("hallucination", "judge.hallucinated_value", _has_calls,
          "Look at every argument value in the assistant's tool calls. A value is hallucinated when nothing "
          "before the call supports it: not the user's messages, not the system prompt, not an earlier tool "
          "result, not the tool's documented default. Values derived in one obvious step count as supported "
          "(a unit conversion, a date computed from a stated date, a value copied from an earlier result). "
          "Fail if any value is hallucinated, with one reason per value, written as call.argument=value: why."),
    Judge("task_consistency", "judge.task_mismatch", lambda s: True,
          "Does the assistant do what the user asked, within the user's constraints? Check that it picks tools "
          "that serve the request, that its arguments honour every stated constraint (amounts, dates, places, "
          "limits, preferences), that it neither skips a requested part nor does something unrequested, and "
          "that its final answer agrees with the tool results. Asking for a detail the user left out is "
          "correct behaviour; declining when no offered tool fits is correct too. Fail on any contradiction."),
    Judge("response_fidelity", "judge.response_mismatch", _has_results,
          "Check every tool result against its tool's definition and the call it answers. A result must have "
          "the shape the definition's 'returns' schema describes (field names and types; when no returns "
          "schema is given, a shape that fits the description), and its content must fit the call's arguments "
          "(the same place, date, id or item that was asked for). A tool may also fail: a result that is only "
          "an error object {\"error\": {\"code\": ..., \"message\": ...}}, or an empty result, is a valid "
          "answer when its message fits the call (not found, invalid value, unavailable); judge the assistant's "
          "handling of it, not its shape. Fail when a result contradicts the definition or its call."),
    Judge("repetition", "judge.degenerate_text", lambda s: True,
          "Read what the user and the assistant write. Is any of it degenerate: a phrase, sentence or list "
          "item repeated for no reason, filler that says nothing, words run together or cut into pieces, "
          "leftover template or special tokens, garbled characters or text in a broken encoding? Normal "
          "repetition is fine (a name or value mentioned again, parallel wording for parallel results). "
          "Fail on degenerate text, with one reason per place, quoting a few words of it."),
]}


def render(sample: dict) -> str:
    """The sample as the judge reads it: tool definitions as JSON, then the dialog turn by turn."""
    tools = [{k: t[k] for k in ("name", "description", "parameters", "returns") if k in t} for t in sample["tools"]]
    lines = ["TOOLS:", json.dumps(tools, ensure_ascii=False), "", "DIALOG:"]
    for m in sample["messages"]:
        role = m["role"]
        if role == "assistant" and m.get("tool_calls"):
            calls = "; ".join(f"{c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})" for c in m["tool_calls"])
            if m.get("content"):
                lines.append(f"[assistant] {m['content']}")
            lines.append(f"[assistant calls] {calls}")
        elif role == "tool":
            lines.append(f"[tool result of {m.get('name')}] {m.get('content')}")
        else:
            lines.append(f"[{role}] {m.get('content') or ''}")
    return "\n".join(lines)


def messages_for(judge: Judge, sample: dict) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{render(sample)}\n\nQUESTION: {judge.question}"}]


@dataclass
class Verdict:
    judge: str
    status: str            # pass | fail | unparseable | unavailable | not_asked (the budget was spent)
    reasons: list[str]
    reasons_first: bool | None = None   # the answer's key order (None without one): did the model reason first?

    def reason_strings(self) -> list[str]:
        """Reasons in the rule layer's "code: detail" form; [] for a pass."""
        if self.status == "pass":
            return []
        if self.status == "fail":
            detail = "; ".join(self.reasons)[:500] or "no reason given"
            return [f"{JUDGES[self.judge].code}: {self.judge}: {detail}"]
        if self.status == "not_asked":
            return [f"{BUDGET_STOPPED}: {self.judge}: {'; '.join(self.reasons)[:300]}"]
        return [f"judge.{self.status}: {self.judge}: {'; '.join(self.reasons)[:300]}"]


def _verdict(name: str, res) -> Verdict:
    if res.ok:   # model text may carry lone surrogates ("\ud800"): escape them so the row stays writable
        keys = list(res.data)   # parsed dicts keep the order the model wrote the keys in
        return Verdict(name, res.data["verdict"],
                       [str(r).encode("utf-8", "backslashreplace").decode("utf-8") for r in res.data.get("reasons", [])],
                       reasons_first=keys.index("reasons") < keys.index("verdict"))
    if res.reason == BUDGET_STOPPED:
        return Verdict(name, "not_asked", [res.detail])
    if res.reason in ("llm.bad_json", "llm.schema_invalid"):
        return Verdict(name, "unparseable", [f"{res.reason}: {res.detail}"[:300]])
    return Verdict(name, "unavailable", [f"{res.reason}: {res.detail}"[:300]])


def judge_samples(gateway, samples: list[dict], names: list[str], batch: int = 1000,
                  progress: Callable[[int], None] | None = None) -> list[list[Verdict]]:
    """Ask each enabled judge about each sample it applies to; one list of verdicts per sample, in order.
    The gateway is the judge's (its temperature and max_tokens are the `judge` section's).
    Batches bound memory; the gateway's cache makes a re-run after a crash re-ask nothing it already has."""
    out: list[list[Verdict]] = []
    for start in range(0, len(samples), batch):
        chunk = samples[start:start + batch]
        asks = [(k, JUDGES[n]) for k, s in enumerate(chunk) for n in names if JUDGES[n].applies(s)]
        results = gateway.run_all([   # each (sample, judge) its own sampling seed
            gateway.complete(messages_for(j, chunk[k]), json_schema=VERDICT_SCHEMA, tag=f"judge.{j.name}",
                             key=("judge", str(chunk[k].get("id", start + k)), j.name)) for k, j in asks])
        verdicts: list[list[Verdict]] = [[] for _ in chunk]
        for (k, j), res in zip(asks, results):
            verdicts[k].append(_verdict(j.name, res))
        out.extend(verdicts)
        if progress:
            progress(len(chunk))
    return out
