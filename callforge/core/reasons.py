"""Every reason code callforge writes into its outputs or raises, with what it means: the one registry.

A code is `<area>.<what>` and stable: it is data (the rejected and dropped rows, stats keys, error lines),
so a code is never renamed, only added. The tables are grouped by where the code arises, in pipeline order;
the modules that raise or record a code take its table from here, and tests/test_reasons.py checks that
every code-shaped string in callforge/ is registered. README's "Reason codes" section lists the areas.
Two tables keep plain names that predate the dotted form, because they are in written data: the
complexity scorer's per-sample errors and the AST checker's verdicts.
"""
from __future__ import annotations


# the API context tree's model answers (stage taxonomy)
TAXONOMY = {
    "taxonomy.empty_answer": "the model named no domain, functionality or usable child",
    "taxonomy.duplicate_domain": "the model named a domain the tree already has",
}


# a tool definition (calling/tools.py): offered, imported or checked
TOOL = {
    "tool.not_object": "the tool is not a JSON object",
    "tool.bad_json": "the tool text is not valid JSON",
    "tool.bad_encoding": "the tool contains text that is not valid UTF-8",
    "tool.missing_name": "the tool has no (or an empty) name",
    "tool.bad_name": "the tool name is not a string",
    "tool.bad_description": "the description is not a string",
    "tool.bad_schema": "parameters (or returns) is not a valid JSON Schema object",
    "tool.bad_ref": "a $ref points outside the tool or to nothing",
    "tool.recursive_ref": "a $ref refers back to itself; recursive schemas are not supported",
    "tool.too_many_params": "more top-level parameters than MAX_PARAMS",
    "tool.too_deep": "schema nesting deeper than MAX_DEPTH",
    "tool.not_list": "the offered tools are not a list",
    "tool.duplicate_name": "two different tools share one name",
}


# importing tool definitions from files (stage apis)
IMPORT = {
    "import.missing_file": "an import source names a file that does not exist",
    "import.unknown_format": "an import source names a format callforge cannot read",
    "import.bad_encoding": "an import file is not UTF-8",
    "import.bad_yaml": "an import file is not valid YAML",
    "import.bad_shape": "an import file holds neither a list of tools nor JSON lines",
    "import.not_openapi3": "an OpenAPI import file has no `openapi: 3.x` field",
}


# the API pool's rules (stage apis)
API = {
    "api.not_object": "the API is not a JSON object",
    "api.missing_name": "no name, or an empty one",
    "api.bad_name": "the name is not well formed (see apis.rules.name_pattern)",
    "api.missing_description": "no description, or an empty one",
    "api.missing_parameters": "no parameters schema",
    "api.params_not_object": "parameters is not an object schema with a properties map",
    "api.schema_invalid": "parameters is not a valid JSON Schema (2020-12 metaschema)",
    "api.missing_returns": "no return schema",
    "api.returns_invalid": "returns is not a valid JSON Schema (2020-12 metaschema)",
    "api.returns_untyped": "the return schema states no type",
    "api.required_not_subset": "a required name is not among the properties",
    "api.property_untyped": "a property declares no type",
    "api.property_undescribed": "a property has no description",
    "api.bad_param_name": "a parameter name is empty, too long or contains whitespace",
    "api.bad_pattern": "a pattern is not a valid regular expression",
    "api.bad_bounds": "a lower bound exceeds its upper bound (minimum/maximum, minItems/maxItems, ...)",
    "api.enum_type_mismatch": "an enum value does not have the declared type",
    "api.duplicate_name": "another API in the pool already has this name",
    "api.near_duplicate": "name and description nearly repeat an API already in the pool",
}


# a model request through the gateway (every LLM stage)
LLM = {
    "llm.connection": "the server could not be reached",
    "llm.timeout": "no answer within llm.timeout_s",
    "llm.http_429": "the server kept rate-limiting the request",
    "llm.http_<status>": "the server answered with another HTTP error status",
    "llm.empty_answer": "the answer had no message content",
    "llm.bad_response": "the answer could not be read (not text, or not the expected shape)",
    "llm.bad_json": "the answer was not JSON, even after the repair retries",
    "llm.schema_invalid": "the answer's JSON did not match the requested schema",
    "llm.failed": "the request failed without a more specific reason",
    "llm.unknown": "the request never ran (no attempt was made)",
}


# a stage's model use past its cap (llm.budget / judge.budget; callforge/core/budget.py)
BUDGET = {
    "budget.stopped": "not made or not judged: the stage's budget cap was reached before this item's requests",
}


# dialog generation's drops (stage dialogs; data/dialogs_dropped.jsonl)
DIALOGS = {
    "dialogs.bad_config": "the dialogs config cannot be used as given (e.g. data-type weights summing to 0)",
    "dialogs.empty_pool": "the API pool is empty",
    "dialogs.no_params_in_pool": "no API in the pool takes parameters",
    "dialogs.no_required_params_in_pool": "no API in the pool has a required parameter",
    "dialogs.no_chain_in_pool": "no API result field matches another API's parameter",
    "dialogs.value_unsatisfiable": "no value fits a parameter's schema",
    "dialogs.vote_disagreement": "the assistant's votes did not agree on a next step",
    "dialogs.too_many_questions": "the assistant kept asking instead of acting",
    "dialogs.max_steps": "no final answer within dialogs.max_steps assistant steps",
    "dialogs.unknown_tool": "a call names a tool the sample does not offer",
    "dialogs.invalid_arguments": "a call's arguments do not match its tool's schema",
    "dialogs.invalid_result": "a tool result does not match the tool's return schema",
    "dialogs.type_mismatch": "the dialog is not really its data type (e.g. a dependent call whose value the user gave)",
    "dialogs.bad_tool_content": "a tool message whose content is not JSON",
    "dialogs.bad_order": "turns out of order",
    "dialogs.incomplete": "the dialog does not end with an assistant answer",
    "dialogs.unanswered_call": "a call no tool message answers",
    "dialogs.orphan_tool_message": "a tool message answering no call",
    "dialogs.duplicate_call_id": "two calls share an id",
    "dialogs.unhandled_tool_error": "after a tool error the assistant went on to other tools instead of retrying, asking or explaining",
    "dialogs.near_duplicate_request": "the user's requests nearly repeat an earlier kept dialog's (dialogs.dedup)",
}


# a sample the complexity scorer cannot score (stage complexity; `error` in data/scores.jsonl). These codes predate the dotted form and keep their plain names: they are in written data
COMPLEXITY = {
    "no_response": "no assistant message to score",
    "too_long": "the rendered sample exceeds the model's context",
    "decode_failed": "the model runtime refused the batch",
    "bad_response": "the server's answer lacks usable prompt logprobs",
    "offset_mismatch": "the server's tokens do not line up with the rendered text",
    "request_failed": "the server could not be reached or returned an error",
    "unrenderable": "a call cannot be written in the chosen call format",
}

# the complexity scorer as a whole cannot run (stage complexity stops with one line)
SCORER = {
    "bad_config": "the scorer section cannot be used as given",
    "local_extra_missing": "scorer=local needs the optional extra `local` (llama-cpp-python)",
    "model_missing": "the scorer's model file does not exist",
    "model_corrupt": "the scorer's model file cannot be loaded",
    "sha256_mismatch": "the scorer's model file does not have the expected sha256",
}


# call text in Python syntax (calling/calls.py)
CALL = {
    "call.not_text": "input is not a string",
    "call.too_long": "input longer than MAX_CHARS",
    "call.syntax": "not parseable as Python call syntax",
    "call.not_a_call": "an element is not a function call",
    "call.bad_name": "the called thing is not a (dotted) name",
    "call.positional_argument": "positional arguments cannot be mapped to parameter names",
    "call.star_argument": "*args / **kwargs are not literal arguments",
    "call.duplicate_argument": "the same keyword is given twice",
    "call.bad_literal": "a value is not a literal (name, expression, set, f-string, bytes, ...)",
    "call.non_string_key": "a dict key is not a string",
    "call.bad_number": "a number is not finite or too large",
    "call.too_deep": "values nested too deeply",
}


# executability of a call against the offered tools (calling/schema_check.py)
EXEC = {
    "exec.malformed_call": "a call is not {name, arguments} with an object of arguments",
    "exec.unknown_function": "the called name is not among the offered tools",
    "exec.missing_required": "a required argument (or nested property) is missing",
    "exec.unknown_argument": "an argument (or nested property) the schema does not allow",
    "exec.wrong_type": "a value of the wrong JSON type",
    "exec.enum": "a value outside the enum / const",
    "exec.range": "a number outside minimum/maximum (exclusive too) or not a multipleOf",
    "exec.pattern": "a string not matching the pattern",
    "exec.format": "a string not in the declared format (date, date-time, email, uri, ...)",
    "exec.length": "a string shorter than minLength or longer than maxLength",
    "exec.items": "an array with too few/many items or duplicate items",
    "exec.properties": "an object with too few/many properties",
    "exec.schema": "fails anyOf/oneOf/not or a keyword checked by jsonschema-rs",
}


# the rule layer (stage verify)
VERIFY = {
    "verify.checks": "verify.checks names an unknown check or an unknown mode",
    # api_clarity (tool.* come from callforge.calling.tools via the compiled tool index)
    "tool.*": "a tool definition is not a valid JSON Schema tool (see callforge.calling.tools.CODES)",
    "api.no_description": "a tool has no description",
    "api.no_parameters": "a tool has no parameters object",
    "api.param_no_description": "a parameter has no description",
    "api.required_undeclared": "a required parameter is not among the declared properties",
    # executability (from callforge.calling.executability)
    "exec.*": "a call the offered tools could not execute (see callforge.calling.schema_check.EXEC_CODES)",
    # dialog_correctness
    "dialog.bad_record": "the sample does not match callforge/schemas/sample.json (no further checks run)",
    "dialog.empty_message": "a user or tool message without content",
    "dialog.response_too_short": "an assistant answer below min_response_chars",
    "dialog.response_too_long": "an assistant message above max_response_chars",
    "dialog.message_too_long": "a user or tool message above max_message_chars",
    "dialog.invalid_chars": "a control, replacement, surrogate or bidi-override character",
    "dialog.mixed_language": "an assistant answer written in two scripts (e.g. Latin and CJK)",
    "dialog.language_mismatch": "an assistant answer in another script than the user's message",
    "dialog.truncated": "an assistant answer that stops mid-way",
    "dialog.repeated_ngrams": "a message or thinking trace whose word n-grams repeat past verify.degenerate's share",
    "dialog.repeated_sentence": "a user or assistant message that writes one sentence more than verify.degenerate allows",
    "dialog.token_run": "the same word or letter many times in a row (a decoding loop)",
    "dialog.special_token": "a chat-template or tokenizer token in the text (<|im_end|>, </s>, [INST], ...)",
    "dialog.mojibake": "text whose UTF-8 was decoded as Latin-1 or cp1252 upstream (CafÃ©, itâ€™s)",
    "dialog.symbol_garbage": "a run of mixed punctuation, or a text that is mostly punctuation",
    # consistency
    "consistency.role_order": "roles out of order (system not first, user/assistant twice in a row, ...)",
    "consistency.no_final_answer": "the dialog does not end with an assistant message",
    "consistency.tool_without_call": "a tool message with no call before it",
    "consistency.missing_response": "a call no tool message answers",
    "consistency.extra_response": "a tool message answering no open call (unknown or repeated id)",
    "consistency.response_name": "a tool message named differently from the call it answers",
    "consistency.duplicate_call_id": "two calls share an id",
    "consistency.response_not_json": "a tool message whose content is not JSON",
    "consistency.call_format": "calls not writable in, or disagreeing with, the format the system prompt asks for",
    "consistency.call_as_text": "a call written as text in an assistant answer instead of as a tool call",
    "consistency.apis_used": "apis_used differs from the tools actually called",
    "consistency.data_type": "data_type does not match the dialog's shape",
    # grounding
    "grounding.ungrounded_value": "an argument value found neither in earlier user/tool turns nor as the schema default",
}


# unreadable input lines (stage verify)
INPUT = {
    "input.bad_encoding": "a line that is not UTF-8, or holds a lone surrogate escape",
    "input.bad_json": "a line that is not (strict) JSON",
    "input.not_object": "a line that is JSON but not an object",
    "input.duplicate_id": "a sample id seen on an earlier line",
    "rule.error": "a check failed on this sample (a checker bug: the sample is rejected, the run goes on)",
}


# the model layer's judges (stage verify)
JUDGE = {
    "judge.hallucinated_value": "the hallucination judge found argument values nothing in the dialog supports",
    "judge.task_mismatch": "the task judge found calls or answers that contradict the user's request",
    "judge.response_mismatch": "the fidelity judge found a tool result that contradicts its definition or call",
    "judge.degenerate_text": "the repetition judge found repetitive or meaningless text",
    "judge.no_api_key": "the judge's provider needs a key and judge.api_key_env names no set variable",
    "judge.unparseable": "a judge's answer was not a verdict even after the gateway's repair retries",
    "judge.unavailable": "a judge's request failed after the gateway's retries (the reason names the llm.* code)",
}


# unusable input and impossible splits (stage split; data/split/rejected.jsonl)
SPLIT = {
    "split.bad_json": "a verified-samples line is not JSON",
    "split.bad_record": "a verified-samples line does not match the sample schema",
    "split.duplicate_id": "an earlier line has this sample id",
    "split.bad_score": "a scores line is not a usable score record",
    "split.bad_api": "an API pool line is not a usable tool definition",
    "split.bad_cluster_by": "split.diversity.cluster_by names no known clustering",
    "split.bad_holdout_unit": "split.holdout.unit names no known unit",
}


# the evaluation set decontamination checks against (stage split)
DECONTAM = {
    "decontam.unknown_eval_set": "split.decontam.eval_set names no known evaluation set",
    "decontam.eval_set_missing": "split.decontam.bfcl_dir is not a folder",
    "decontam.eval_set_unavailable": "the BFCL questions could not be read or fetched",
}


# export's input checks (stage export)
EXPORT = {
    "export.unknown_format": "export.formats names a format callforge cannot write (or none)",
    "export.stale_split": "a split manifest names a line that holds another sample (split is older than verify)",
    "export.missing_sample": "samples named in data/split/ are missing from data/verified.jsonl",
}


# training examples (stage finetune)
TRAIN = {
    "train.no_examples": "no usable training example in the chosen subset",
    "train.bad_json": "the line is not a JSON object",
    "train.bad_messages": "messages missing, not a list, or a message without a role",
    "train.bad_tool_call": "a tool call without a name, or arguments that are not a JSON object",
    "train.bad_tools": "tools is not a list of function definitions",
    "train.unrenderable": "a call cannot be written in Python call syntax",
    "train.no_response": "no assistant turn to learn from",
    "train.too_long": "the first assistant turn does not fit in max_seq_len",
}

# merging a LoRA adapter into a GGUF (evaluate.engine=llama_cpp)
MERGE = {
    "merge.unsupported_adapter": "not a plain LoRA adapter (DoRA, LoRA bias, per-module ranks) or its files disagree",
    "merge.unsupported_tensor": "an adapter tensor has no counterpart in the base GGUF",
    "merge.shape_mismatch": "an adapter update does not fit the base tensor it belongs to",
}


# loading the base model (stages finetune, evaluate)
MODEL = {
    "model.extra_missing": "the optional extra `train` (torch, transformers, peft, gguf) is not installed",
    "model.not_found": "the base model file or folder does not exist",
    "model.load_failed": "transformers could not load the model",
}


# reading the BFCL evaluation set (calling/bfcl.py)
BFCL = {
    "bfcl.fetch_failed": "pip could not download the bfcl-eval wheel",
    "bfcl.bad_wheel": "the cached wheel is not a readable zip with BFCL data",
    "bfcl.unknown_category": "no such category in the source",
    "bfcl.bad_line": "a data line is not a JSON object with the expected fields",
}


# a model answer with no calls (stage evaluate; data/evaluate/answers.jsonl)
ANSWER = {
    "answer.none": "the model gave no answer",
    "answer.empty": "the answer holds no call list",
}


# the HTML report of other variants (callforge report --variant / --compare)
REPORT = {
    "report.no_run": "no MLflow run has that name or id",
    "report.no_report": "the variant's run holds no report (its pipeline stopped before the report stage)",
    "report.compare_needs_two": "--compare was given fewer than two runs",
}


# AST-checker verdicts per evaluation question (stage evaluate)
VERDICT = {
    "ok": "the calls match the ground truth",
    "unexpected_call": "a call was made where none should be (irrelevance)",
    "no_call": "no call was made where one was expected",
    "wrong_count": "the number of calls differs from the ground truth",
    "wrong_name": "the function name differs from the expected one",
    "unknown_function": "the function is not among the offered tools",
    "missing_required": "a parameter the schema requires is missing",
    "missing_argument": "a parameter the ground truth requires (no \"\" allowed) is missing",
    "unknown_argument": "an argument the schema does not define",
    "unexpected_argument": "an argument the schema defines but the ground truth does not allow",
    "wrong_type": "a value of the wrong type",
    "value_not_allowed": "a value outside the allowed values",
    "no_match": "parallel calls cannot be paired one-to-one with the ground truth",
}


REASONS: dict[str, str] = {**TAXONOMY, **TOOL, **IMPORT, **API, **LLM, **BUDGET, **DIALOGS, **COMPLEXITY, **SCORER, **CALL, **EXEC, **VERIFY, **INPUT, **JUDGE, **SPLIT, **DECONTAM, **EXPORT, **TRAIN, **MERGE, **MODEL, **BFCL, **ANSWER, **REPORT, **VERDICT}


def describe(code: str) -> str:
    """What a code means ("" when it is not registered). `llm.http_503` reads as `llm.http_<status>`."""
    if code.startswith("llm.http_") and code not in REASONS:
        code = "llm.http_<status>"
    return REASONS.get(code, "")
