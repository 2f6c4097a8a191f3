"""String formats the executability rules check (JSON Schema "format"); unknown formats pass.

Dates follow RFC 3339 full-date. date-time also accepts a space separator and a missing offset
(what APIs and models commonly write as local time); the calendar values are checked either way.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import re

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?")
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\]\\]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*")
_URI_REF = re.compile(r"[^\s<>\"{}|\\^`]*")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HOST = re.compile(r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                   r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?")


def is_date(s: str) -> bool:
    m = _DATE.fullmatch(s)
    if not m:
        return False
    try:
        _dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def _time_ok(s: str, need_seconds: bool) -> bool:
    m = _TIME.fullmatch(s)
    if not m or (need_seconds and m[3] is None):
        return False
    if int(m[1]) > 23 or int(m[2]) > 59 or (m[3] is not None and int(m[3]) > 60):  # 60: leap second
        return False
    off = m[4]
    if off and off not in "Zz":
        hh, mm = int(off[1:3]), int(off[-2:])
        if hh > 23 or mm > 59:
            return False
    return True


def is_time(s: str) -> bool:
    return _time_ok(s, need_seconds=False)


def is_date_time(s: str) -> bool:
    if len(s) < 16 or s[10] not in "Tt ":
        return False
    return is_date(s[:10]) and _time_ok(s[11:], need_seconds=False)


def is_email(s: str) -> bool:
    return _EMAIL.fullmatch(s) is not None and len(s) <= 320


def is_uri(s: str) -> bool:
    return _URI.fullmatch(s) is not None


def is_uri_reference(s: str) -> bool:
    return _URI_REF.fullmatch(s) is not None


def is_uuid(s: str) -> bool:
    return _UUID.fullmatch(s) is not None


def is_hostname(s: str) -> bool:
    return _HOST.fullmatch(s) is not None


def _ip(version: int):
    def check(s: str) -> bool:
        try:
            return ipaddress.ip_address(s).version == version
        except ValueError:
            return False
    return check


FORMATS = {
    "date": is_date, "time": is_time, "date-time": is_date_time, "email": is_email,
    "idn-email": is_email, "uri": is_uri, "iri": is_uri, "uri-reference": is_uri_reference,
    "iri-reference": is_uri_reference, "url": is_uri, "uuid": is_uuid, "hostname": is_hostname,
    "ipv4": _ip(4), "ipv6": _ip(6),
}
