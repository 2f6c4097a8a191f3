"""A small hand-written API pool and config helpers for the dialog tests (tests/test_dialogs*.py).

Three domains; results whose fields feed other APIs' parameters (hotels[].hotel_id -> hotel_id,
flights[].flight_number -> flight_number, transactions[].transaction_id -> transaction_id,
booking_id -> booking_id), constraints of every kind (pattern, format, enum, bounds, uniqueItems).
"""
from __future__ import annotations

from omegaconf import OmegaConf


def S(d, **k):
    return {"type": "string", "description": d, **k}


def I(d, **k):
    return {"type": "integer", "description": d, **k}


def N(d, **k):
    return {"type": "number", "description": d, **k}


def B(d, **k):
    return {"type": "boolean", "description": d, **k}


def obj(props, req=None):
    return {"type": "object", "properties": props, "required": list(props) if req is None else req}


def tool(name, desc, props, req, returns, domain, sub):
    return {"name": name, "description": desc, "parameters": {"type": "object", "properties": props, "required": req},
            "returns": returns, "domain": domain, "path": [domain, sub, name], "source": "test"}


HOTEL_ID = S("Hotel identifier", pattern="^HTL-[0-9]{5}$")
FLIGHT = S("Flight number", pattern="^[A-Z]{2}[0-9]{3,4}$")

TOOLS = [
    tool("search_hotels", "Find hotels in a city with free rooms for the given nights.",
         {"city": S("City to search"), "check_in_date": S("Arrival date", format="date"),
          "nights": I("Number of nights", minimum=1, maximum=30), "max_price": N("Highest nightly price", minimum=0),
          "amenities": {"type": "array", "items": {"type": "string", "enum": ["wifi", "pool", "gym", "parking"]},
                        "uniqueItems": True, "description": "Wanted amenities"}},
         ["city", "check_in_date"],
         obj({"hotels": {"type": "array", "minItems": 1, "maxItems": 5,
                         "items": obj({"hotel_id": HOTEL_ID, "name": S("Hotel name"), "city": S("City"),
                                       "price_per_night": N("Price", minimum=0)})}}),
         "Travel", "Lodging"),
    tool("book_hotel_room", "Book a room at a hotel for a guest.",
         {"hotel_id": HOTEL_ID, "guest_name": S("Guest full name"), "nights": I("Nights", minimum=1, maximum=30),
          "room_type": S("Room type", enum=["single", "double", "suite"])},
         ["hotel_id", "guest_name", "nights"],
         obj({"booking_id": S("Booking id"), "hotel_id": HOTEL_ID,
              "status": S("Status", enum=["confirmed", "waitlisted"]), "total_price": N("Total", minimum=0)}),
         "Travel", "Lodging"),
    tool("get_hotel_reviews", "Fetch guest reviews for one hotel.",
         {"hotel_id": HOTEL_ID, "limit": I("How many", minimum=1, maximum=20)}, ["hotel_id"],
         obj({"hotel_id": HOTEL_ID, "average_rating": N("Rating", minimum=1, maximum=5),
              "reviews": {"type": "array", "items": obj({"author": S("Author"), "text": S("Text")})}}),
         "Travel", "Lodging"),
    tool("cancel_booking", "Cancel an existing booking and report the refund.",
         {"booking_id": S("Booking id"), "reason": S("Why")}, ["booking_id"],
         obj({"booking_id": S("id"), "refund_amount": N("refund", minimum=0), "cancelled": B("done")}),
         "Travel", "Lodging"),
    tool("search_flights", "Find scheduled flights between two airports on a given day.",
         {"origin_airport": S("IATA code", pattern="^[A-Z]{3}$"), "destination_airport": S("IATA code", pattern="^[A-Z]{3}$"),
          "departure_date": S("Date", format="date"), "cabin_class": S("Cabin", enum=["economy", "business", "first"])},
         ["origin_airport", "destination_airport", "departure_date"],
         obj({"flights": {"type": "array", "minItems": 1,
                          "items": obj({"flight_number": FLIGHT, "departure_time": S("time"), "price": N("price", minimum=0)})}}),
         "Travel", "Flights"),
    tool("get_flight_status", "Report the live status, gate and delay of a flight.",
         {"flight_number": FLIGHT, "departure_date": S("Date", format="date")}, ["flight_number"],
         obj({"flight_number": FLIGHT, "status": S("Status", enum=["on time", "delayed", "cancelled"]),
              "gate": S("Gate"), "delay_minutes": I("Delay", minimum=0)}),
         "Travel", "Flights"),
    tool("get_account_balance", "Return the available and current balance of an account.",
         {"account_id": S("Account"), "currency": S("Currency code", enum=["USD", "EUR", "GBP"])}, ["account_id"],
         obj({"account_id": S("Account"), "available": N("Available"), "current": N("Current"), "currency": S("Currency")}),
         "Banking", "Accounts"),
    tool("list_transactions", "List account transactions in a date window.",
         {"account_id": S("Account"), "start_date": S("From", format="date"), "end_date": S("To", format="date"),
          "limit": I("Max rows", minimum=1, maximum=100)},
         ["account_id", "start_date", "end_date"],
         obj({"transactions": {"type": "array", "minItems": 1,
                               "items": obj({"transaction_id": S("id"), "amount": N("amount"), "merchant": S("merchant")})}}),
         "Banking", "Accounts"),
    tool("dispute_transaction", "Open a dispute for a card transaction.",
         {"transaction_id": S("Transaction"), "reason": S("Reason", enum=["fraud", "duplicate", "not_received"])},
         ["transaction_id", "reason"],
         obj({"dispute_id": S("Dispute"), "status": S("Status")}),
         "Banking", "Accounts"),
    tool("transfer_funds", "Move money between two accounts.",
         {"source_account_id": S("From"), "destination_account_id": S("To"),
          "amount": N("Amount", exclusiveMinimum=0, maximum=10000), "memo": S("Memo", maxLength=40)},
         ["source_account_id", "destination_account_id", "amount"],
         obj({"transfer_id": S("id"), "status": S("Status", enum=["completed", "pending"])}),
         "Banking", "Payments"),
    tool("get_weather", "Get the current weather for a location.",
         {"location": S("City name"), "units": S("Units", enum=["metric", "imperial"])}, ["location"],
         obj({"location": S("Where"), "temperature": N("Temp"), "conditions": S("Sky")}),
         "Weather", "Current"),
    tool("get_forecast", "Get a multi-day weather forecast for a location.",
         {"location": S("City name"), "days": I("Days ahead", minimum=1, maximum=14)}, ["location", "days"],
         obj({"location": S("Where"), "days": {"type": "array", "items": obj({"date": S("Date", format="date"),
                                                                               "high": N("High"), "low": N("Low")})}}),
         "Weather", "Forecast"),
]


def dialogs_config(**overrides):
    """The `dialogs` config section at its defaults plus overrides (dotted keys ok, `__` for a dot),
    refused where the stage refuses it (the schema's ranges, then check_config), as the plain values
    the stage hands the library (OmegaConf.to_object)."""
    from callforge.core.config import defaults, validate_section
    from callforge.dialogs.sampling import check_config

    d = defaults("dialogs")
    for k, v in overrides.items():
        OmegaConf.update(d, k.replace("__", "."), v, merge=False)
    validate_section(d, "dialogs")
    check_config(d)
    return OmegaConf.to_object(d)


PROV = {"provider": "offline", "model": "procedural-v1", "prompt_version": "dialogs-offline-v2", "seed": 0,
        "stage": "dialogs"}


def generate_all(tools, dialogs, workers: int = 1, indices=None, seed: int = 0):
    """(records as dicts, encoded lines, drops, engine) of an offline run over `tools`, on the
    stages' ordered map (callforge.core.parallel), as the stage runs it."""
    import json

    from callforge.core.parallel import ordered_map
    from callforge.dialogs.generate import engine_for, generate
    from callforge.dialogs.pool import Pool
    from callforge.core.config import defaults
    from callforge.dialogs.steering import choose_scorer

    # the structural scorer section: `auto` steers with the heuristic, as a run without a model does
    steering = choose_scorer(dialogs.steering, defaults("scorer", backend="heuristic"), dialogs.samples)
    engine = engine_for(Pool(tools), dialogs, seed, PROV, steering.scorer)
    lines, drops = [], []
    for ln, _, d, _ in generate(engine, indices or range(dialogs.samples), workers, ordered_map):
        lines += ln
        drops += d
    return [json.loads(x) for x in lines], lines, drops, engine
