"""Parameter vocabulary of the offline API writer and the evolution operators (stage apis):
a parameter *name* -> a kind -> a typed JSON Schema.

Kinds are resolved from an explicit table first, then from name shapes (suffixes, prefixes, patterns)
through an ordered rule table (names.first_match). Each kind also lists the constraints that suit it
("hints"); the base schema carries only the intrinsic ones (an enum for a categorical value, a format
for a date), and the add-constraints operator draws from the rest. Everything here is deterministic:
no randomness, no I/O.
"""
from __future__ import annotations

import re
from functools import lru_cache

from callforge.calling.offline.names import NameShape, first_match, humanize

# Categorical parameters: the base schema carries the enum.
ENUMS: dict[str, list[str]] = {
    "cabin_class": ["economy", "premium_economy", "business", "first"],
    "travel_class": ["standard", "first"],
    "sort_order": ["asc", "desc"],
    "sort_by": ["relevance", "price", "rating", "newest", "popularity"],
    "units": ["metric", "imperial"],
    "unit": ["metric", "imperial", "kg", "kwh", "km"],
    "travel_mode": ["driving", "walking", "cycling", "transit"],
    "priority": ["low", "normal", "high", "urgent"],
    "urgency": ["low", "normal", "emergency"],
    "severity": ["info", "minor", "moderate", "severe", "critical"],
    "status": ["active", "stopped", "pending", "archived"],
    "state": ["open", "closed", "merged", "all"],
    "file_format": ["pdf", "csv", "json", "docx", "html"],
    "file_type": ["document", "spreadsheet", "presentation", "image", "pdf"],
    "interval": ["1m", "15m", "1h", "1d", "1w"],
    "order_type": ["market", "limit", "stop"],
    "side": ["buy", "sell"],
    "time_in_force": ["day", "gtc", "ioc"],
    "payment_frequency": ["weekly", "biweekly", "monthly"],
    "pay_frequency": ["weekly", "biweekly", "monthly", "annual"],
    "frequency": ["hourly", "daily", "weekly"],
    "filing_status": ["single", "married_joint", "married_separate", "head_of_household"],
    "rate_type": ["fixed", "variable"],
    "delivery_speed": ["standard", "express", "same_day"],
    "service_level": ["economy", "standard", "express", "overnight"],
    "difficulty": ["easy", "medium", "hard"],
    "experience_level": ["beginner", "intermediate", "advanced"],
    "level": ["introductory", "intermediate", "advanced"],
    "diet": ["none", "vegetarian", "vegan", "keto", "gluten_free", "halal"],
    "dietary_filter": ["vegetarian", "vegan", "gluten_free", "nut_free"],
    "price_level": ["budget", "moderate", "upscale", "luxury"],
    "ride_type": ["standard", "shared", "premium", "xl"],
    "vehicle_class": ["economy", "compact", "midsize", "suv", "van"],
    "seating_preference": ["indoor", "outdoor", "bar", "no_preference"],
    "seat_preference": ["window", "aisle", "no_preference"],
    "meal_preference": ["standard", "vegetarian", "vegan", "kosher", "halal"],
    "visibility": ["public", "followers", "private"],
    "mode": ["auto", "manual", "eco", "away"],
    "merge_method": ["merge", "squash", "rebase"],
    "aggregation": ["avg", "sum", "min", "max", "p95"],
    "comparison": ["above", "below", "equal"],
    "group_by": ["day", "week", "month", "service", "source"],
    "citation_style": ["apa", "mla", "chicago", "ieee", "harvard"],
    "hash_type": ["md5", "sha1", "sha256"],
    "ecosystem": ["pypi", "npm", "maven", "cargo", "go"],
    "employment_type": ["full_time", "part_time", "contract", "internship"],
    "leave_type": ["vacation", "sick", "parental", "unpaid"],
    "sex": ["female", "male", "other"],
    "condition": ["excellent", "good", "fair", "poor"],
    "tone": ["friendly", "formal", "playful", "urgent"],
    "formality": ["default", "formal", "informal"],
    "error_correction": ["L", "M", "Q", "H"],
    "fitness_goal": ["strength", "endurance", "weight_loss", "mobility"],
    "activity_level": ["low", "moderate", "high"],
    "property_type": ["house", "apartment", "townhouse", "land"],
    "record_type": ["court", "property", "business", "vital"],
    "refund_method": ["original_payment", "store_credit"],
    "strategy": ["nearest", "cheapest", "fastest"],
    "strictness": ["lenient", "standard", "strict"],
    "route_type": ["domestic", "international"],
    "trip_purpose": ["tourism", "business", "study", "transit"],
    "travel_style": ["relaxed", "balanced", "packed"],
    "objective": ["awareness", "traffic", "conversions", "leads"],
    "leaderboard_type": ["global", "friends", "weekly"],
    "venue_type": ["home", "away", "all"],
    "market": ["match_winner", "total_goals", "handicap"],
    "ticket_type": ["adult", "child", "senior", "student"],
    "visitor_type": ["adult", "child", "senior", "student"],
    "ticket_tier": ["general", "reserved", "vip"],
    "service_type": ["standard", "express", "premium"],
    "unit_size": ["small", "medium", "large", "xl"],
    "resolution": ["low", "medium", "high"],
    "connector_type": ["type2", "ccs", "chademo", "tesla"],
    "soil_type": ["clay", "loam", "sand", "silt"],
    "issue_type": ["no_water", "low_pressure", "leak", "discoloured"],
    "deck_type": ["standard52", "standard54", "tarot"],
    "loan_purpose": ["car", "home_improvement", "debt_consolidation", "education", "other"],
    "medium": ["painting", "sculpture", "photography", "print", "textile"],
    "role": ["viewer", "editor", "admin", "owner"],
    "bureau": ["equifax", "experian", "transunion"],
    "voice": ["calm", "warm", "neutral"],
    "hours_type": ["business", "all"],
    "response_format": ["compact", "full"],
}

# Small object and array-of-object shapes: name -> list of (property, kind); the first is required.
OBJECTS: dict[str, list[tuple[str, str]]] = {
    "address": [("street", "text_short"), ("city", "text_short"), ("postal_code", "postal_code"), ("country_code", "country_code")],
    "coordinates": [("latitude", "latitude"), ("longitude", "longitude")],
    "dimensions": [("length_cm", "measure"), ("width_cm", "measure"), ("height_cm", "measure")],
    "range": [("min", "money"), ("max", "money")],
    "date_range": [("start_date", "date"), ("end_date", "date")],
    "line_item": [("product_id", "id"), ("quantity", "count")],
    "passenger": [("full_name", "text_short"), ("birth_date", "date"), ("passenger_type", "enum:passenger_type")],
    "parcel": [("weight_kg", "measure"), ("dimensions", "object:dimensions")],
    "stop": [("address", "object:address"), ("earliest_time", "datetime"), ("latest_time", "datetime")],
    "post": [("text", "text"), ("scheduled_time", "datetime")],
    "schedule_slot": [("weekday", "enum:weekday"), ("start_time", "clock"), ("target_temperature", "measure")],
}
ENUMS["passenger_type"] = ["adult", "child", "infant"]
ENUMS["weekday"] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# Kind -> (json type, constraint hints). "intrinsic" hints go into the base schema.
KINDS: dict[str, tuple[str, dict]] = {
    "text_short": ("string", {"minLength": 1, "maxLength": 120}),
    "text": ("string", {"minLength": 1, "maxLength": 4000}),
    "id": ("string", {"pattern": r"^[A-Za-z0-9_-]{3,64}$", "minLength": 3, "maxLength": 64}),
    "date": ("string", {"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
    "datetime": ("string", {"format": "date-time"}),
    "clock": ("string", {"pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}),
    "email": ("string", {"format": "email", "maxLength": 254}),
    "url": ("string", {"format": "uri", "maxLength": 2048}),
    "ipv4": ("string", {"format": "ipv4"}),
    "hostname": ("string", {"format": "hostname"}),
    "bool": ("boolean", {}),
    "count": ("integer", {"minimum": 1, "maximum": 100}),
    "count0": ("integer", {"minimum": 0, "maximum": 1000}),
    "duration": ("integer", {"minimum": 1, "maximum": 1440}),
    "year": ("integer", {"minimum": 1900, "maximum": 2100}),
    "month": ("integer", {"minimum": 1, "maximum": 12}),
    "day": ("integer", {"minimum": 1, "maximum": 31}),
    "age": ("integer", {"minimum": 0, "maximum": 120}),
    "signed_int": ("integer", {"minimum": -1000, "maximum": 1000}),
    "money": ("number", {"minimum": 0, "maximum": 10000000}),
    "percent": ("number", {"minimum": 0, "maximum": 100}),
    "probability": ("number", {"minimum": 0, "maximum": 1}),
    "rating": ("number", {"minimum": 0, "maximum": 5}),
    "measure": ("number", {"minimum": 0, "maximum": 100000}),
    "real": ("number", {"minimum": -1000000, "maximum": 1000000}),
    "latitude": ("number", {"minimum": -90, "maximum": 90}),
    "longitude": ("number", {"minimum": -180, "maximum": 180}),
    "angle": ("number", {"minimum": 0, "maximum": 360}),
    "country_code": ("string", {"pattern": r"^[A-Z]{2}$", "minLength": 2, "maxLength": 2}),
    "currency": ("string", {"pattern": r"^[A-Z]{3}$", "minLength": 3, "maxLength": 3}),
    "language": ("string", {"pattern": r"^[a-z]{2}(-[A-Z]{2})?$"}),
    "timezone": ("string", {"pattern": r"^[A-Za-z_]+(/[A-Za-z_]+)*$"}),
    "airport": ("string", {"pattern": r"^[A-Z]{3}$"}),
    "airline": ("string", {"pattern": r"^[A-Z0-9]{2}$"}),
    "flight_number": ("string", {"pattern": r"^[A-Z0-9]{2}\d{1,4}$"}),
    "postal_code": ("string", {"pattern": r"^[A-Za-z0-9 -]{3,10}$"}),
    "ticker": ("string", {"pattern": r"^[A-Z.]{1,6}$"}),
    "phone": ("string", {"pattern": r"^\+?[0-9]{7,15}$"}),
    "vin": ("string", {"pattern": r"^[A-HJ-NPR-Z0-9]{17}$"}),
    "isbn": ("string", {"pattern": r"^(97[89])?\d{9}[\dX]$"}),
    "digits": ("string", {"pattern": r"^\d{6,20}$"}),
    "doi": ("string", {"pattern": r"^10\.\d{4,9}/\S+$"}),
    "hex_color": ("string", {"pattern": r"^#[0-9A-Fa-f]{6}$"}),
    "element": ("string", {"pattern": r"^[A-Z][a-z]?$"}),
    "semver": ("string", {"pattern": r"^\d+\.\d+\.\d+$"}),
    "hash": ("string", {"pattern": r"^[a-fA-F0-9]{32,64}$"}),
    "code": ("string", {"pattern": r"^[A-Z0-9-]{2,16}$"}),
    "handle": ("string", {"pattern": r"^@?\w{1,30}$"}),
    "password": ("string", {"minLength": 8, "maxLength": 128}),
    "regex": ("string", {"format": "regex"}),
}
INTRINSIC = {"format"}   # formats are part of what a date/email/url *is*; the rest is evolution's job

# Array kinds: name of element kind, with items-count hints.
LIST_HINTS = {"minItems": 1, "maxItems": 50}

_BOOL_WORDS = {"adjusted", "expedited", "furnished", "mutual", "vaccinated", "open_now", "deep_clean",
               "gift_wrap", "avoid_tolls", "url_safe", "equal_variance", "record_call", "mark_as_read",
               "needs_packing", "return_to_depot", "bring_supplies", "neutral_venue", "accepts_insurance",
               "dry_run", "verbose", "repeat", "expedite"}
_STRING_LISTS = {"keywords", "tags", "labels", "symptoms", "ingredients", "allergens", "amenities", "interests",
                 "genres", "skills", "attributes", "metrics", "pollutants", "categories", "entity_types",
                 "clause_types", "liked_titles", "terms", "mentions", "members", "assignees", "model_names",
                 "drug_names", "samples", "seat_numbers", "origins", "destinations", "affected_hosts", "flags",
                 "equipment", "fields", "attachments"}
_NUMBER_LISTS = {"values", "x_values", "y_values", "sample_a", "sample_b", "numbers", "percentiles"}
_EXPLICIT: dict[str, str] = {
    # numbers that do not look like numbers, and strings that do
    "phone_number": "phone", "from_number": "phone", "to_number": "phone", "flight_number": "flight_number",
    "serial_number": "code", "passport_number": "code", "policy_number": "code", "tracking_number": "code",
    "case_number": "code", "route_number": "code", "form_code": "code", "procedure_code": "code",
    "regulation_code": "code", "coupon_code": "code", "region_code": "code", "state_code": "code",
    "pull_request_number": "count0", "season_number": "count", "class_number": "count",
    "length": "count", "line_length": "count", "size_px": "count0", "precision": "count", "order": "count",
    "depth": "count", "limit": "count", "page": "count", "page_size": "count", "max_results": "count",
    "count": "count", "quantity": "count", "servings": "count", "rooms": "count", "bedrooms": "count",
    "trials": "count0", "successes": "count0", "coats": "count", "capacity": "count0", "party_size": "count",
    "replica_count": "count0", "memory_mb": "count0", "mileage": "count0", "max_mileage": "count0",
    "max_stops": "count0", "max_transfers": "count0", "ranking_max": "count", "modifier": "signed_int",
    "quantity_change": "signed_int", "mood_score": "count", "daily_calories": "count0",
    "resting_heart_rate": "count", "days": "count", "hours": "count", "years": "count", "year": "year",
    "month": "month", "day": "day", "age": "age", "driver_age": "age", "min_age": "age",
    "head_count": "count", "household_size": "count", "dice_sides": "count", "dice_count": "count",
    "question_count": "count", "variant_count": "count", "max_words": "count", "sessions_per_week": "count",
    "cards_per_hand": "count", "compounds_per_year": "count", "player_count": "count",
    "latitude": "latitude", "longitude": "longitude", "rating": "rating", "min_rating": "rating",
    "success_probability": "probability", "significance_level": "probability", "tolerance_percent": "percent",
    "principal": "money", "amount": "money", "budget": "money", "deductions": "money",
    "down_payment": "money", "current_savings": "money", "threshold": "real", "value": "real",
    "target_value": "real", "lower_bound": "real", "upper_bound": "real", "gravity": "measure",
    "initial_velocity": "measure", "launch_angle": "angle", "tilt_degrees": "angle", "azimuth_degrees": "angle",
    "min_magnitude": "measure", "fuel_efficiency": "measure", "paint_coverage": "measure",
    "target_temperature": "real", "temperature_celsius": "real", "system_kw": "measure",
    "target_weight_gain": "measure", "cpu_limit": "measure", "annual_return": "percent", "annual_rate": "percent",
    "savings_rate": "percent", "dosage": "text_short", "coefficient_a": "real", "coefficient_b": "real",
    "coefficient_c": "real", "side_a": "measure", "side_b": "measure", "side_c": "measure",
    "ip_address": "ipv4", "domain_name": "hostname", "regex_pattern": "regex", "password": "password",
    "vin": "vin", "isbn": "isbn", "imei": "digits", "iccid": "digits", "doi": "doi", "color_hex": "hex_color",
    "element_symbol": "element", "version_a": "semver", "version_b": "semver", "file_hash": "hash",
    "handle": "handle", "sku": "code", "airline_code": "airline", "ticker_symbol": "ticker",
    "coin_symbol": "ticker", "benchmark_symbol": "ticker", "currency": "currency", "locale": "language",
    "language": "language", "timezone": "timezone", "postal_code": "postal_code", "country_code": "country_code",
    "citizenship_country": "country_code", "destination_country": "country_code",
    "since": "date", "on_date": "date", "published_after": "date", "modified_after": "date",
    "available_from": "date", "date": "date", "date_time": "datetime", "time": "datetime", "send_at": "datetime",
    "remind_at": "datetime", "expires_at": "datetime", "email": "email", "recipients": "list:email",
    "attendees": "list:email", "cc": "list:email", "target_countries": "list:country_code",
    "track_ids": "list:id", "product_ids": "list:id", "player_ids": "list:id",
    "address": "object:address", "location": "text_short", "destination": "text_short", "origin": "text_short",
    "dimensions": "object:dimensions", "salary_range": "object:range", "price_range": "object:range",
    "date_range": "object:date_range", "target_weights": "map:probability", "environment_variables": "map:text_short",
    "items": "objects:line_item", "passengers": "objects:passenger", "parcels": "objects:parcel",
    "stops": "objects:stop", "posts": "objects:post", "schedule": "objects:schedule_slot",
    "matrix_a": "matrix", "matrix_b": "matrix", "reminder_times": "list:clock",
    "calories_burned": "measure", "square_meters": "measure", "year_built": "year", "vehicle_capacity": "count",
    "number": "count", "affected_since": "datetime", "coordinates": "object:coordinates",
}

_TEXT_WORDS = ("text", "body", "message", "note", "notes", "memo", "description", "requests", "instructions",
               "content", "code", "plaintext", "expression", "equation", "formula", "query", "dedication")
_MONEY = re.compile(r"(^|_)(price|amount|budget|salary|income|deposit|rent|costs|savings|contribution|fee|limit|tuition)$")
_MEASURE = re.compile(r"_(kg|km|cm|m|m2|m3|mm|ml|kw|kwh|gb|grams|hectares|degrees)$")
_DURATION = re.compile(r"(^|_)(minutes|hours|days|seconds|months|years|weeks)$")
_COUNT = re.compile(r"(_count|_size|^guests?|^passengers_n)$")


# Name shapes -> kinds, in order: the first shape the (lower-cased) name has gives its kind.
_SHAPE_KINDS: list[tuple[NameShape, str]] = [
    (NameShape(names=_BOOL_WORDS, prefixes=("is_", "include_", "has_", "allow_", "notify_on"),
               suffixes=("_only", "_allowed", "_enabled")), "bool"),
    (NameShape(names=_STRING_LISTS), "list:text_short"),
    (NameShape(names=_NUMBER_LISTS), "list:real"),
    (NameShape(suffixes=("_ids",)), "list:id"),
    (NameShape(suffixes=("_emails",)), "list:email"),
    (NameShape(suffixes=("_urls",)), "list:url"),
    (NameShape(suffixes=("_id",)), "id"),
    (NameShape(pattern=re.compile("email")), "email"),
    (NameShape(names=frozenset({"url"}), suffixes=("_url",)), "url"),
    (NameShape(suffixes=("_date",)), "date"),
    (NameShape(suffixes=("_time", "_at")), "datetime"),
    (NameShape(suffixes=("_address",)), "object:address"),
    (NameShape(suffixes=("_coordinates",)), "object:coordinates"),
    (NameShape(suffixes=("_currency",)), "currency"),
    (NameShape(suffixes=("_language",)), "language"),
    (NameShape(suffixes=("_timezone",)), "timezone"),
    (NameShape(suffixes=("_airport",)), "airport"),
    (NameShape(suffixes=("_postal_code",)), "postal_code"),
    (NameShape(suffixes=("_percent",)), "percent"),
    (NameShape(suffixes=("_year",)), "year"),     # a `_years` name is a duration
    (NameShape(pattern=_MONEY), "money"),
    (NameShape(pattern=_MEASURE, prefixes=("weight", "distance", "height", "radius")), "measure"),
    (NameShape(pattern=_DURATION), "duration"),
    (NameShape(prefixes=("visitors_", "conversions_")), "count0"),
    (NameShape(pattern=_COUNT, prefixes=("max_", "min_", "num_")), "count"),
    (NameShape(prefixes=("description", "html_"), suffixes=_TEXT_WORDS), "text"),
]


@lru_cache(maxsize=None)
def kind_of(name: str) -> str:
    """Resolve a parameter name to a kind (a KINDS key, or enum:/list:/object:/objects:/map:/matrix)."""
    n = name.lower()
    if n in _EXPLICIT:
        return _EXPLICIT[n]
    if n in ENUMS:
        return f"enum:{n}"
    return first_match(_SHAPE_KINDS, n) or "text_short"


_PHRASES = {
    "date": "in YYYY-MM-DD form", "datetime": "as an ISO 8601 date-time", "clock": "as HH:MM",
    "email": "(an email address)", "url": "(a URL)", "id": "(an identifier)", "money": "as a decimal amount",
    "percent": "in percent", "probability": "between 0 and 1", "country_code": "as an ISO 3166 alpha-2 code",
    "currency": "as an ISO 4217 code", "language": "as a language tag such as en or pt-BR",
    "timezone": "as an IANA time zone name", "airport": "as an IATA airport code", "phone": "in E.164 form",
    "duration": "(a whole number of units)", "latitude": "in decimal degrees", "longitude": "in decimal degrees",
    "bool": "(true or false)", "rating": "on a 0-5 scale", "ipv4": "(an IPv4 address)",
    "text_short": "(free text)", "text": "(free text, may be long)", "code": "(a code as issued)",
}


def describe(name: str, kind: str) -> str:
    base = humanize(name)
    tail = _PHRASES.get(kind)
    return f"{base} {tail}." if tail else f"{base}."


def schema_for(name: str, kind: str | None = None, depth: int = 0) -> dict:
    """The base JSON Schema of a parameter called `name` (typed, described, intrinsic constraints only).
    A fresh copy each call: operators edit schemas in place."""
    return _copy(_schema_for(name, kind or kind_of(name), depth))


def _copy(x):
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


@lru_cache(maxsize=None)
def _schema_for(name: str, kind: str, depth: int) -> dict:
    desc = describe(name, kind)
    head, _, arg = kind.partition(":")
    if head == "enum":
        return {"type": "string", "description": desc, "enum": list(ENUMS[arg])}
    if head == "list":
        item = schema_for(name.rstrip("s") or name, arg, depth + 1)
        item.pop("description", None)
        return {"type": "array", "description": f"{humanize(name)} (a list).", "items": item}
    if head == "object":
        return object_schema(arg, desc, depth)
    if head == "objects":
        return {"type": "array", "description": f"{humanize(name)} (a list of entries).",
                "items": object_schema(arg, f"One {humanize(arg).lower()}.", depth + 1)}
    if head == "map":
        val = schema_for("value", arg, depth + 1)
        val.pop("description", None)
        return {"type": "object", "description": f"{humanize(name)}, keyed by name.", "additionalProperties": val}
    if head == "matrix":
        return {"type": "array", "description": f"{humanize(name)} as a list of rows.",
                "items": {"type": "array", "items": {"type": "number"}}}
    jtype, hints = KINDS[kind]
    out = {"type": jtype, "description": desc}
    for k in sorted(INTRINSIC & hints.keys()):
        out[k] = hints[k]
    return out


def object_schema(shape: str, desc: str, depth: int = 0) -> dict:
    fields = OBJECTS[shape]
    props = {f: schema_for(f, k, depth + 1) for f, k in fields}
    return {"type": "object", "description": desc, "properties": props, "required": [fields[0][0]]}


def hints_for(name: str) -> dict:
    """Constraints that suit parameter `name` (for the add-constraints operator)."""
    kind = kind_of(name)
    head, _, arg = kind.partition(":")
    if head in ("list", "objects", "matrix"):
        return dict(LIST_HINTS)
    if head == "enum" or head not in KINDS:
        return {}
    return dict(KINDS[kind][1])


# Cross-cutting parameters the add-parameters operator may bolt onto an API.
GENERIC_PARAMS = ["locale", "page", "page_size", "fields", "include_metadata", "request_id", "dry_run",
                  "callback_url", "timeout_seconds", "verbose", "max_results", "sort_order", "tags",
                  "client_reference_id", "response_format", "units", "currency", "timezone",
                  "idempotency_key", "notify_email", "date_range", "price_range", "coordinates"]
# The context each belongs in (apis.self_evolution.contexts says which an API has): paging where a
# list comes back, an idempotency key where something is done, a currency where money is involved.
# Those not listed (locale, request_id, verbose, ...) suit any API.
GENERIC_CONTEXT = {
    "page": "list", "page_size": "list", "max_results": "list", "sort_order": "list", "fields": "list",
    "dry_run": "action", "idempotency_key": "action", "client_reference_id": "action", "callback_url": "action",
    "notify_email": "action", "tags": "action",
    "currency": "money", "price_range": "money", "units": "measure", "timezone": "time", "date_range": "time",
    "coordinates": "place",
}
# Parameter kinds that show a context.
KIND_CONTEXT = {"money": "money", "currency": "money", "object:range": "money", "measure": "measure",
                "date": "time", "datetime": "time", "clock": "time", "object:date_range": "time",
                "object:address": "place", "object:coordinates": "place", "latitude": "place", "longitude": "place",
                "postal_code": "place", "airport": "place"}
PLACE_WORDS = frozenset({"city", "location", "destination", "origin", "region", "neighborhood", "station"})
