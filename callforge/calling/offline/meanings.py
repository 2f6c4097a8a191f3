"""What a parameter's name says its value is: generators and the ordered name rules that pick them.

STRING_RULES is one table read first-match: NAMED_RULES (whole names whose words would mislead: a
gene_symbol is no ticker), then formats and identifiers, then MEANING_RULES (a unit is a unit, a
cause a cause, a crop a crop), then the broad rules (places, people, free text). NUMBER_RULES gives
a number's range by name. Each row is (NameShape, generator(tokens, rng)); a `Pick` row also reads
the API's topic, where the name alone is ambiguous. Values are then fitted to the schema in values.py.
"""
from __future__ import annotations

import datetime as dt
import random

from callforge.calling.offline import words as W
from callforge.calling.offline.names import NameShape, any_word, first_match


class Pick:
    """A draw from a word list, the list chosen by the API's topic where the name alone is ambiguous
    (a washing machine's program is not a university's). `cued`: (topic words, list) rows, first hit wins."""

    def __init__(self, default: list, *cued: tuple[tuple[str, ...], list]):
        self.default, self.cued = default, cued

    def __call__(self, tok, rng, topic: str = "") -> str:
        lst = next((l for cues, l in self.cued if any(c in topic for c in cues)), self.default)
        return rng.choice(lst)


def _digits(n: int, rng, lead: str = "") -> str:
    return lead + "".join(str(rng.randint(0, 9)) for _ in range(n - len(lead)))


def _names(*names: str) -> NameShape:
    return NameShape(names=frozenset(names))


# Whole names whose words would mislead the token rules below (a gene_symbol is no ticker, a
# source_code no identifier): checked first.
NAMED_RULES = [
    (_names("gene_symbol"), Pick(W.GENES)),
    (_names("element_symbol"), Pick(["Fe", "Na", "Au", "He", "C", "Cu", "Ag"])),
    (_names("flight_number"), lambda t, r: f"{r.choice(W.AIRLINES)}{r.randint(100, 9999)}"),
    (_names("source_code"), Pick(W.CODE_SNIPPETS)),
    (_names("cron_expression"), Pick(["0 9 * * 1-5", "*/15 * * * *", "30 2 * * *", "0 0 1 * *"])),
    (_names("image_name"), Pick(W.CONTAINER_IMAGES)),
    (_names("job_title"), Pick(W.JOB_TITLES)),
    (_names("song_title"), Pick(W.SONGS)),
    (_names("liked_title"), Pick(W.FILM_TITLES)),
    (_names("seat_number"), Pick(W.SEATS)),
    (_names("notify_channel"), Pick(W.CHANNELS)),
    (_names("metric_name"), Pick(W.SYSTEM_METRICS)),
    (_names("model_name"), Pick(W.CAR_MODEL_NAMES)),
    (_names("drug_name"), Pick(W.DRUGS)),
    (_names("species_name"), Pick(W.WILD_SPECIES)),
    (_names("team_name", "home_team", "away_team"), Pick(W.TEAMS)),
    (_names("bucket_name"), Pick(W.BUCKETS)),
    (_names("cluster_name"), Pick(W.CLUSTERS)),
    (_names("service_name"), Pick(W.SERVICES)),
    (_names("package_name"), Pick(W.PACKAGES)),
    (_names("deck_name"), Pick(W.DECKS)),
    (_names("playlist_name"), Pick(W.PLAYLISTS)),
    (_names("scene_name"), Pick(W.SCENES)),
    (_names("room_name"), Pick(W.ROOMS)),
    (_names("road_name"), Pick(W.ROADS)),
    (_names("religion_name"), Pick(W.RELIGIONS)),
    (_names("food_name"), Pick(W.FOODS)),
    (_names("vaccine_name"), Pick(W.VACCINES)),
    (_names("museum_name"), Pick(W.MUSEUMS)),
    (_names("campaign_name"), Pick(W.CAMPAIGNS)),
    (_names("provider_name"), Pick(W.PROVIDERS)),
    (_names("permit_type"), Pick(W.PERMITS)),
    (_names("activity_type"), Pick(W.ACTIVITY_TYPES)),
    (_names("room_type"), Pick(W.ROOM_TYPES)),
    (_names("test_type"), Pick(W.TEST_TYPES)),
    (_names("entity_type"), Pick(W.ENTITY_TYPES)),
    (_names("clause_type"), Pick(W.CLAUSE_TYPES)),
    (_names("special_requests"), Pick(W.SPECIAL_REQUESTS)),
    (_names("test_filter"), Pick(W.TEST_FILTERS)),
    (_names("custom_alias"), Pick(W.ALIASES)),
    (_names("file_hash"), lambda t, r: f"{r.getrandbits(256):064x}"),
    (_names("color_hex"), lambda t, r: f"#{r.getrandbits(24):06X}"),
    (_names("source_timezone", "target_timezone"), Pick(W.TIMEZONES)),
    (_names("issue_description"), Pick(W.ISSUES)),
    (_names("job_description"), Pick(W.JOB_DESCRIPTIONS)),
]

# Words that say what a value means (a unit, a cause, a crop): checked after identifiers and
# codes, before the place rules ("from_unit" is a unit, not a place to come from).
MEANING_RULES = [
    (any_word("unit", "units"), Pick(W.MEASURE_UNITS, (("cooking", "kitchen", "recipe"), W.KITCHEN_UNITS),
                                      (("angle", "radian"), W.ANGLE_UNITS),
                                      (("price", "cost", "savings", "loan", "payment", "income", "tax", "fare",
                                        "portfolio", "salary", "budget", "value of"), W.CURRENCIES),
                                      (("temperature", "weather"), ["celsius", "fahrenheit"]),
                                      (("distance", "range", "route", "trip"), ["kilometers", "miles"]))),
    (any_word("system"), Pick(W.UNITS)),
    (any_word("section"), Pick(W.CATEGORIES, (("ticket", "seat", "match", "concert", "stadium"), W.SECTIONS))),
    (any_word("timezone", "tz"), Pick(W.TIMEZONES)),
    (any_word("reason"), Pick(W.REASONS)),
    (any_word("cause"), Pick(W.CAUSES)),
    (any_word("species", "animal"), Pick(W.PETS, (("feed", "ration", "livestock"), W.LIVESTOCK),
                                          (("conservation", "taxonomy"), W.WILD_SPECIES))),
    (any_word("breed"), Pick(W.BREEDS)),
    (any_word("organism"), Pick(W.ORGANISMS)),
    (any_word("crop"), Pick(W.CROPS)),
    (any_word("cuisine"), Pick(W.CUISINES)),
    (any_word("ingredient"), Pick(W.INGREDIENTS)),
    (any_word("sport"), Pick(W.SPORTS)),
    (any_word("competition"), Pick(W.COMPETITIONS)),
    (any_word("season"), Pick(W.SPORT_SEASONS, (("rainfall", "weather", "climate"), W.WEATHER_SEASONS))),
    (any_word("make"), Pick(W.CAR_MAKES)),
    (any_word("model"), Pick(W.CAR_MODELS)),
    (any_word("material"), Pick(W.MATERIALS)),
    (any_word("muscle"), Pick(W.MUSCLE_GROUPS)),
    (any_word("metric", "metrics"), Pick(W.FITNESS_METRICS, (("player", "statistic"), W.PLAYER_METRICS))),
    (any_word("platform"), Pick(W.PLATFORMS)),
    (any_word("program"), Pick(W.STUDY_PROGRAMS, (("wash",), W.WASH_PROGRAMS), (("benefit",), W.BENEFIT_PROGRAMS))),
    (any_word("shape"), Pick(W.SHAPES)),
    (any_word("theme"), Pick(W.CALM_THEMES, (("game",), W.GAME_THEMES))),
    (any_word("trade"), Pick(W.TRADES)),
    (any_word("emoji"), Pick(W.EMOJI)),
    (any_word("word"), Pick(W.DICTIONARY_WORDS)),
    (any_word("period"), Pick(W.PERIODS)),
    (any_word("exchange"), Pick(W.EXCHANGES)),
    (any_word("district"), Pick(W.DISTRICTS)),
    (any_word("neighborhood", "neighbourhood"), Pick(W.NEIGHBORHOODS)),
    (any_word("jurisdiction"), Pick(W.JURISDICTIONS)),
    (any_word("court"), Pick(W.COURT_LEVELS)),
    (any_word("grade"), Pick(W.GRADE_LEVELS)),
    (any_word("specialty", "speciality"), Pick(W.SPECIALTIES)),
    (any_word("practice"), Pick(W.PRACTICE_AREAS)),
    (any_word("dosage", "dose"), Pick(W.DOSAGES)),
    (any_word("audience"), Pick(W.AUDIENCES)),
    (any_word("carrier"), Pick(W.CARRIERS)),
    (any_word("branch"), Pick(W.BRANCHES)),
    (any_word("repository", "repo"), Pick(W.REPOSITORIES)),
    (any_word("folder"), Pick(W.FOLDERS)),
    (any_word("party"), Pick(W.PARTIES)),
    (any_word("memo"), Pick(W.MEMOS)),
    (any_word("dedication"), Pick(W.DEDICATIONS)),
    (any_word("plaintext"), Pick(W.SECRETS)),
    (_names("source"), Pick(W.NEWS_SOURCES)),
    (any_word("version"), Pick(W.VERSIONS, (("uuid", "identifier"), W.UUID_VERSIONS))),
    (any_word("vin"), lambda t, r: "".join(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(17))),
    (any_word("doi"), lambda t, r: f"10.{r.randint(1000, 9999)}/{r.choice(W.WORDS)}.{r.randint(100, 999)}"),
    (any_word("imei"), lambda t, r: _digits(15, r, "35")),
    (any_word("iccid"), lambda t, r: _digits(19, r, "89")),
    (any_word("regex"), Pick(W.REGEXES)),
    (any_word("sample"), Pick(W.REGEX_SAMPLES, (("blood", "lab"), W.SAMPLE_KINDS))),
    (any_word("flag", "flags"), Pick(W.REGEX_FLAGS)),
    (any_word("prefix"), Pick(W.PREFIXES)),
    (any_word("tag", "label", "labels"), Pick(W.TAGS)),
    (any_word("attribute"), Pick(W.ATTRIBUTES)),
    (any_word("attachment"), Pick(W.ATTACHMENTS)),
    (any_word("mention"), Pick(W.MENTIONS)),
    (any_word("field"), Pick(W.FIELD_NAMES)),
    (any_word("equipment"), Pick(W.EQUIPMENT)),
    (any_word("amenity"), Pick(W.AMENITIES)),
    (any_word("allergen"), Pick(W.ALLERGENS)),
    (any_word("symptom"), Pick(W.SYMPTOMS)),
    (any_word("skill"), Pick(W.SKILLS)),
    (any_word("pollutant"), Pick(W.POLLUTANTS)),
    (any_word("host"), Pick(W.HOSTS)),
    (any_word("title"), Pick(W.TITLES, (("stream", "film", "movie", "series", "watch"), W.FILM_TITLES))),
    (any_word("isbn"), lambda t, r: _digits(13, r, "978")),
    # result fields
    (any_word("explanation"), Pick(W.EXPLANATIONS)),
    (any_word("finding", "findings"), Pick(W.FINDINGS, (("personal data", "pii"), W.PII_FINDINGS))),
    (any_word("output"), Pick(W.OUTPUTS, (("password",), W.PASSWORDS))),   # a password generator's output is one
]


# -- small generators (each draws from the rng in a fixed order) ---------------------------------------
def some_date(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))


BIRTH = any_word("birth", "birthday", "dob")


def birth_date(rng: random.Random) -> dt.date:
    """A date of birth: in the past, of someone alive (a traveller, a patient)."""
    return dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20000))


def clock(rng) -> str:
    return f"{rng.randint(7, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}"


def url(rng) -> str:
    return f"https://www.{rng.choice(W.WORDS)}.com/{rng.choice(W.WORDS)}"


def short_email(rng) -> str:
    return f"{rng.choice(W.FIRST).lower()}@{rng.choice(W.DOMAINS)}"


def postal(rng) -> str:
    return f"{rng.randint(10000, 99999)}"


def full_name(rng):
    return f"{rng.choice(W.FIRST)} {rng.choice(W.LAST)}"


def uuid4(rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def identifier(tok: tuple[str, ...], rng) -> str:
    stem = next((t for t in tok if t not in ("id", "ids", "code", "number", "num", "no", "ref", "reference", "key")), "")
    prefix = (stem[:3] or rng.choice(W.WORDS)[:3]).upper()
    return f"{prefix}-{rng.randint(10000, 99999)}"


# A code of the kind its name says (country_code -> "FR"); other codes are identifiers.
CODE_RULES = [
    (any_word("country"), lambda r: r.choice(W.COUNTRY_CODES)),
    (any_word("language", "lang", "locale"), lambda r: r.choice(W.LANG_CODES)),
    (any_word("currency"), lambda r: r.choice(W.CURRENCIES)),
    (any_word("airport"), lambda r: r.choice(W.AIRPORTS[:5])),
    (any_word("airline"), lambda r: r.choice(W.AIRLINES)),
    (any_word("postal", "zip"), postal),
]


def code(tok, rng) -> str:
    gen = first_match(CODE_RULES, toks=tok)
    return gen(rng) if gen else identifier(tok, rng)


def titled(tok, rng) -> str:
    rest = [t for t in tok if t not in ("name", "title", "label")]
    if not rest or rest[0] in ("full", "display", "real"):
        return full_name(rng)
    return f"{rng.choice(W.WORDS).title()} {' '.join(rest).title()}"


# Name rules for strings: (tokens that trigger it, generator(tokens, rng)). First match wins, so order matters.
STRING_RULES = NAMED_RULES + [
    (any_word("email", "mail"), lambda t, r: f"{r.choice(W.FIRST).lower()}.{r.choice(W.LAST).lower()}@{r.choice(W.DOMAINS)}".replace("ü", "ue")),
    (any_word("phone", "mobile", "tel", "telephone", "164", "msisdn"), lambda t, r: f"+1-555-{r.randint(100, 999)}-{r.randint(1000, 9999)}"),
    (any_word("url", "link", "website", "uri", "endpoint", "homepage"), lambda t, r: url(r)),
    (any_word("uuid", "guid"), lambda t, r: uuid4(r)),
    (any_word("password", "secret", "pin"), lambda t, r: f"{r.choice(W.WORDS).title()}#{r.randint(1000, 9999)}"),
    (any_word("ip"), lambda t, r: f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"),
    (any_word("datetime", "timestamp"), lambda t, r: f"{some_date(r).isoformat()}T{clock(r)}:00Z"),
    (BIRTH, lambda t, r: birth_date(r).isoformat()),
    (any_word("date", "day", "checkin", "checkout", "deadline", "since", "until"), lambda t, r: some_date(r).isoformat()),
    (any_word("conditions", "condition", "weather", "sky"), lambda t, r: r.choice(W.WEATHER)),
    (any_word("expression", "formula", "equation", "function"), lambda t, r: r.choice(W.EXPRESSIONS)),
    (any_word("variable", "var"), lambda t, r: r.choice(W.VARIABLES)),
    (any_word("gate"), lambda t, r: f"{r.choice('ABCDEF')}{r.randint(1, 40)}"),
    (any_word("time", "hour"), lambda t, r: clock(r)),
    (any_word("ticker", "symbol", "stock"), lambda t, r: r.choice(W.TICKERS)),
    (any_word("airport", "iata"), lambda t, r: r.choice(W.AIRPORTS)),
    (any_word("currency"), lambda t, r: r.choice(W.CURRENCIES)),
    (any_word("zip", "postal", "postcode"), lambda t, r: postal(r)),
    (any_word("code"), code),
    (any_word("id", "ids", "sku", "ref", "reference", "code", "number", "token", "key", "no"), identifier),
    *MEANING_RULES,
    (any_word("street"), lambda t, r: f"{r.randint(1, 250)} {r.choice(W.STREETS)}"),   # the city is a field of its own
    (any_word("address"), lambda t, r: f"{r.randint(1, 250)} {r.choice(W.STREETS)}, {r.choice(W.CITIES)}"),
    (any_word("country", "nation", "nationality"), lambda t, r: r.choice(W.COUNTRIES)),
    (any_word("city", "town", "destination", "origin", "location", "place", "from", "to", "departure", "arrival",
           "region", "area"), lambda t, r: r.choice(W.CITIES)),
    (any_word("language", "lang", "locale"), lambda t, r: r.choice(W.LANGUAGES)),
    (any_word("username", "handle", "login", "account"), lambda t, r: f"{r.choice(W.FIRST).lower()}_{r.choice(W.WORDS)}{r.randint(1, 99)}"),
    (any_word("first", "firstname", "given"), lambda t, r: r.choice(W.FIRST)),
    (any_word("last", "lastname", "surname", "family"), lambda t, r: r.choice(W.LAST)),
    (any_word("company", "organization", "organisation", "org", "employer", "brand", "vendor", "merchant", "store",
           "shop"), lambda t, r: r.choice(W.COMPANIES)),
    (any_word("author", "customer", "person", "user", "contact", "recipient", "guest", "patient", "employee",
           "passenger", "owner", "artist", "assignee", "applicant", "sender", "attendee", "member", "student", "driver", "player",
           "athlete", "actor", "director", "singer", "scientist", "coach", "doctor", "teacher", "manager",
           "candidate", "speaker", "composer", "painter", "writer"), lambda t, r: full_name(r)),
    (any_word("product", "item", "goods"), lambda t, r: r.choice(W.PRODUCTS)),
    (any_word("query", "keyword", "keywords", "search", "term", "q", "topic", "subject", "interest"), lambda t, r: r.choice(W.TOPICS)),
    (any_word("genre"), lambda t, r: r.choice(W.GENRES)),
    (any_word("category", "department", "section"), lambda t, r: r.choice(W.CATEGORIES)),
    (any_word("type", "kind", "class", "tier", "plan", "variant", "mode", "style"), lambda t, r: r.choice(W.TIERS)),
    (any_word("color", "colour"), lambda t, r: r.choice(W.COLORS)),
    (any_word("status", "state"), lambda t, r: r.choice(W.STATUSES)),
    (any_word("description", "message", "text", "content", "body", "comment", "note", "notes", "review",
           "instructions", "summary", "feedback", "request"), lambda t, r: r.choice(W.NOTES)),
    (any_word("file", "path", "filename", "document"), lambda t, r: f"/home/{r.choice(W.FIRST).lower()}/documents/{r.choice(W.WORDS)}.pdf"),
    (any_word("image", "photo", "picture", "avatar"), lambda t, r: f"https://img.{r.choice(W.WORDS)}.com/{r.randint(100, 999)}.jpg"),
    (any_word("name", "title", "label"), titled),
]

# Name rules for numbers: (tokens that trigger it, the range a value is drawn from unless the schema bounds it).
NUMBER_RULES = [
    (any_word("probability", "significance", "confidence"), (0, 1)),
    (any_word("per"), (1, 12)),             # compounds per year, sessions per week: a handful
    (any_word("sides"), (4, 20)),
    (any_word("age"), (18, 85)),
    (any_word("year"), (1995, 2026)),
    (any_word("month"), (1, 12)),
    (any_word("day"), (1, 28)),
    (any_word("hour", "hours"), (1, 23)),
    (any_word("minute", "minutes"), (5, 55)),
    (any_word("lat", "latitude"), (-60, 70)),
    (any_word("lon", "lng", "longitude"), (-150, 150)),
    (any_word("price", "amount", "cost", "budget", "salary", "income", "balance", "fee", "total", "payment",
           "principal", "deposit", "revenue", "value"), (5, 5000)),
    (any_word("limit", "max", "top", "size", "per", "results"), (5, 50)),
    (any_word("page", "offset"), (1, 5)),
    (any_word("quantity", "qty", "count", "guests", "people", "adults", "children", "passengers", "nights",
           "rooms", "seats", "tickets", "copies", "servings", "num", "number", "bedrooms", "beds",
           "bathrooms", "replicas", "replica", "instances", "attempts"), (1, 6)),
    (any_word("rating", "stars", "score", "priority", "level"), (1, 5)),
    (any_word("percent", "percentage", "rate", "discount", "interest", "tax"), (1, 25)),
    (any_word("duration", "days", "weeks", "months", "years", "term", "period", "length"), (1, 30)),
    (any_word("weight", "kg", "mass"), (1, 120)),
    (any_word("height", "width", "depth", "cm", "side", "radius", "base"), (1, 50)),
    (any_word("distance", "km", "miles", "range"), (1, 500)),
    (any_word("temperature", "temp"), (-10, 35)),
]
