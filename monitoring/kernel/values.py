"""The grammar of every value that enters (docs/rules.md §7): one function per kind of value,
used by every path: CSV cells, `recordPolls`, REST bodies and query strings, GraphQL
arguments, page query strings, admin forms and CLI options. The same text means the
same thing everywhere, and a refusal names the field and says why.

Each function takes the text as received and returns the value, or raises
`InvalidValue(field, reason)`. Only CSV cells are trimmed (of ASCII spaces and tabs,
`trim=True`); nothing else is altered. No Django here, except `poll_time_limit`.

Digits are ASCII `0`-`9` only, in every kind of value: Python's `int()`, `str.isdigit()`
and a regex's `\\d` also take other scripts' digits (fullwidth `０９`, Arabic-Indic `٠٩`),
so a number is matched by `[0-9]` (with `re.ASCII`) before `int()` reads it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from zoneinfo import available_timezones

from monitoring.kernel.errors import InputError

UTC = timezone.utc
MAX_STORE_ID_LENGTH = 255
#: Characters a store id never holds (docs/rules.md §7): control, format, surrogate,
#: private-use, unassigned, line and paragraph separators.
FORBIDDEN_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a format character",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
#: The instants a poll may have: from 2000 on (and up to now + POLL_MAX_FUTURE).
EARLIEST_POLL = datetime(2000, 1, 1, tzinfo=UTC)
#: The instants an `as_of` may be: the years 2000–2100.
EARLIEST_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AS_OF = datetime(2101, 1, 1, tzinfo=UTC)
#: How to write an instant, quoted by every refusal of one.
INSTANT_EXAMPLE = "2023-01-25T18:13:22Z, 2023-01-25 18:13:22 UTC or 2023-01-25T12:13:22-06:00"
CSV_BLANKS = " \t"


class InvalidValue(InputError):
    """A value refused by the grammar: `field` names it, `reason` says why (its str:
    `field: reason`). Each interface writes the reason after its own name of the field
    (`as_of: …` on REST and the CLI, `asOf: …` on GraphQL, a column beside it in a
    rejects file), so a reason never starts with the field's name."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason, field=field)


def shown(value: str, limit: int = 60) -> str:
    """A value quoted for a message: repr (so control characters show), bounded."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _text(value: object, field: str, trim: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text")
    text = value.strip(CSV_BLANKS) if trim else value
    if not text:
        raise InvalidValue(field, "missing")
    return text


# --------------------------------------------------------------------------- store ids


def store_id(value: object, *, trim: bool = False, field: str = "store_id") -> str:
    """An opaque store id: 1–255 characters, none of FORBIDDEN_CATEGORIES anywhere, no
    space separator (Zs: U+00A0, U+2003, …) at either end. Returned unchanged: this is
    exactly the id that is stored and looked up."""
    text = _text(value, field, trim)
    if len(text) > MAX_STORE_ID_LENGTH:
        raise InvalidValue(field, f"longer than {MAX_STORE_ID_LENGTH} characters")
    # str.isprintable() is False exactly for the forbidden categories and for space
    # separators other than ' ': the fast answer for nearly every id.
    if not text.isprintable():
        for position, char in enumerate(text, 1):
            category = unicodedata.category(char)
            if category in FORBIDDEN_CATEGORIES:
                raise InvalidValue(
                    field,
                    f"holds {FORBIDDEN_CATEGORIES[category]} (U+{ord(char):04X}) at character {position}",
                )
    for char, end in ((text[0], "starts"), (text[-1], "ends")):
        if unicodedata.category(char) == "Zs":
            raise InvalidValue(field, f"{end} with a space (U+{ord(char):04X})")
    return text


def store_id_prefix(value: object, *, field: str = "prefix") -> str:
    """The start of a store id, to search by ('' matches every id): what a store id may
    start with (`store_id`), unchanged; a space at its end is part of the search."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text")
    store_id(value + "x" if unicodedata.category(value[-1]) == "Zs" else value, field=field)
    return value


# --------------------------------------------------------------------------- instants

_INSTANT_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<clock>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)"
    r" ?(?:(?P<utc>UTC|GMT|Z)|(?P<offset>[+-][0-9]{2}(?::?[0-9]{2})?))?",
    re.IGNORECASE | re.ASCII,
)


def instant_text(moment: datetime) -> str:
    """The one way an instant is written for programs (the API, webhook payloads): RFC
    3339 in UTC, always 6 fractional digits (microseconds, the resolution of what is
    stored), `Z` for the offset. A fixed width sorts as text and parses the same in every
    client (JavaScript's Date included); `instant` reads it back exactly."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def instant(value: object, *, field: str, naive_utc: bool = False, trim: bool = False) -> datetime:
    """An instant, as an aware UTC datetime: `YYYY-MM-DD[T| ]HH:MM[:SS[.f{1,6}]]` then
    ` UTC`, `GMT`, `Z` or an offset `±HH[:MM]`. Read by pendulum. A text without an
    offset is refused, unless `naive_utc` (status files, whose `timestamp_utc` column
    says the zone)."""
    text = _text(value, field, trim)
    match = _INSTANT_RE.fullmatch(text)
    if match is None:
        raise InvalidValue(field, f"unparsable {shown(text)} (write e.g. {INSTANT_EXAMPLE})")
    offset = "+00:00" if match["utc"] else (match["offset"] or "")
    if not offset and not naive_utc:
        raise InvalidValue(
            field, f"{shown(text)} has no offset: say which zone it is in (e.g. {INSTANT_EXAMPLE})"
        )
    import pendulum  # here, not at the top: ~15 ms of every process start that parses no instant

    try:
        parsed = pendulum.parse(f"{match['date']}T{match['clock']}{offset}", strict=True, tz=None)
        if offset and abs(parsed.utcoffset().total_seconds()) > 14 * 3600 + 59 * 60:  # ±14:59, as fast_parse
            raise ValueError
    except (ValueError, TypeError):  # pendulum's ParserError is a ValueError
        raise InvalidValue(field, f"out of range {shown(text)} (no such date or time)") from None
    moment = datetime(
        parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second, parsed.microsecond,
        tzinfo=timezone(parsed.utcoffset() or timedelta()),
    )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidValue(field, f"out of range {shown(text)}") from None


def poll_time_limit(now: datetime | None = None) -> datetime:
    """The latest instant a poll may have: now (the wall clock) + POLL_MAX_FUTURE."""
    from django.conf import settings

    return (now or datetime.now(UTC)) + timedelta(seconds=settings.POLL_MAX_FUTURE_SECONDS)


def poll_instant(
    value: object, *, latest: datetime, field: str = "timestamp_utc", naive_utc: bool = False, trim: bool = False
) -> datetime:
    """A poll's instant: as `instant`, from 2000-01-01 UTC up to `latest`
    (`poll_time_limit()`)."""
    moment = instant(value, field=field, naive_utc=naive_utc, trim=trim)
    if moment < EARLIEST_POLL:
        raise InvalidValue(field, f"{moment.isoformat()} is before 2000")
    if moment > latest:
        raise InvalidValue(
            field, f"{moment.isoformat()} is in the future (the latest accepted is {latest.isoformat()})"
        )
    return moment


def as_of(value: object, *, field: str = "as_of") -> datetime:
    """A report or page time: as `instant` (an offset required), in the years 2000–2100."""
    return as_of_range(instant(value, field=field), field=field)


def as_of_range(moment: datetime, *, field: str = "as_of") -> datetime:
    """The range check of `as_of`, for a datetime already parsed (GraphQL's scalar)."""
    if moment.tzinfo is None:
        raise InvalidValue(field, f"has no offset: say which zone it is in (e.g. {INSTANT_EXAMPLE})")
    if not EARLIEST_AS_OF <= moment < LATEST_AS_OF:
        raise InvalidValue(field, f"must be in the years 2000–2100, not {moment.isoformat()}")
    return moment


def range_bound(value: object, *, field: str) -> date | datetime:
    """A bound of a range asked for on a page: a local date `YYYY-MM-DD` (a whole day, in
    the zone of the store it is about) or an instant as `as_of` reads it (an offset
    required, years 2000–2100). Which one it is, is the caller's to interpret."""
    text = _text(value, field, False)
    if _DATE_RE.fullmatch(text):
        return local_date(text, field=field)
    if _INSTANT_RE.fullmatch(text) is None:
        raise InvalidValue(
            field, f"unparsable {shown(text)} (write a date, 2023-01-25, or an instant, e.g. {INSTANT_EXAMPLE})"
        )
    return as_of(text, field=field)


# --------------------------------------------------------------------------- status, days, times, zones


_WHOLE_RE = re.compile(r"[0-9]+", re.ASCII)
#: Digits a whole number may have: enough for any bound here, and far below the text
#: Python's int() refuses to read (4,300 digits).
_WHOLE_DIGITS = 18


def whole_number(
    value: object, *, field: str, minimum: int = 0, maximum: int | None = None, trim: bool = False
) -> int:
    """A whole number written in ASCII digits (`0`-`9`, no sign, no `_`, no spaces),
    within [minimum, maximum]. `int()` alone would read `٣`, `３`, ` 3 `, `+3` and `1_0`."""
    text = _text(value, field, trim)
    if _WHOLE_RE.fullmatch(text) is None:
        raise InvalidValue(field, f"invalid {field} {shown(text)} (expected a whole number written with the digits 0-9)")
    number = int(text) if len(text) <= _WHOLE_DIGITS else None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        upper = f" to {maximum}" if maximum is not None else " or more"
        raise InvalidValue(field, f"{field} {shown(text)} is out of range (expected {minimum}{upper})")
    return number


def status(value: object, *, trim: bool = False, field: str = "status") -> bool:
    """`active` (True) or `inactive` (False), any case."""
    text = _text(value, field, trim)
    lowered = text.lower()
    if lowered == "active":
        return True
    if lowered == "inactive":
        return False
    raise InvalidValue(field, f"unknown {shown(text)} (expected active or inactive)")


def day_of_week(value: object, *, trim: bool = False, field: str = "day") -> int:
    """0 = Monday … 6 = Sunday."""
    text = _text(value, field, trim)
    if len(text) != 1 or text not in "0123456":
        raise InvalidValue(field, f"invalid {shown(text)} (expected 0-6, 0 = Monday)")
    return int(text)


_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?", re.ASCII)


def local_time(value: object, *, end: bool, trim: bool = False, field: str = "start_time_local") -> time:
    """`HH:MM` or `HH:MM:SS[.ffffff]`; `24:00` only as an end time, returned as 00:00
    (docs/rules.md §3 makes both the same instants)."""
    text = _text(value, field, trim)
    match = _TIME_RE.fullmatch(text)
    if not match:
        raise InvalidValue(field, f"unparsable {shown(text)} (expected HH:MM or HH:MM:SS)")
    hour, minute = int(match.group(1)), int(match.group(2))
    second, fraction = int(match.group(3) or 0), int((match.group(4) or "").ljust(6, "0"))
    if hour == 24 and minute == 0 and second == 0 and fraction == 0:
        if end:
            return time(0, 0)
        raise InvalidValue(field, "24:00 is only allowed as an end time")
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidValue(field, f"out of range {shown(text)}")
    return time(hour, minute, second, fraction)


_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
#: The local dates a special-hours row may have: the years 2000–2100, as `as_of`.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def local_date(value: object, *, trim: bool = False, field: str = "date") -> date:
    """A local calendar date `YYYY-MM-DD` (exactly that form), a real date in the years
    2000–2100."""
    text = _text(value, field, trim)
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise InvalidValue(field, f"unparsable {shown(text)} (expected YYYY-MM-DD)")
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise InvalidValue(field, f"out of range {shown(text)} (no such date)") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidValue(field, f"must be in the years 2000–2100, not {text}")
    return day


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def zone(value: object, *, trim: bool = False, field: str = "timezone_str", empty_ok: bool = False) -> str | None:
    """An IANA zone name known to the installed tz database, matched case-insensitively
    and returned in its canonical spelling. With `empty_ok`, an empty value is None
    (a time-zone file's "no row")."""
    if empty_ok and (value is None or (isinstance(value, str) and not value.strip(CSV_BLANKS if trim else ""))):
        return None
    text = _text(value, field, trim)
    name = _zone_names().get(text.lower())
    if name is None:
        raise InvalidValue(field, f"unknown time zone {shown(text)} (expected an IANA name such as America/Chicago)")
    return name


# --------------------------------------------------------------------------- revenue


def hour_of_day(value: object, *, trim: bool = False, field: str = "hour") -> int:
    """A local wall-clock hour, 0–23 (`7` or `07`): the hour from HH:00 to HH+1:00."""
    text = _text(value, field, trim)
    if not re.fullmatch(r"[0-9]{1,2}", text, re.ASCII) or int(text) > 23:
        raise InvalidValue(field, f"invalid {shown(text)} (expected an hour 0-23, local time)")
    return int(text)


#: The largest expected revenue of one hour: what a numeric(12, 2) column holds.
MAX_HOURLY_REVENUE = Decimal("9999999999.99")
_AMOUNT_RE = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)


def money_amount(value: object, *, trim: bool = False, field: str = "expected_revenue") -> Decimal:
    """An amount of money in units of its currency: ASCII digits, then at most two
    decimals after a dot (`1200`, `85.5`, `85.50`), from 0 to MAX_HOURLY_REVENUE. No
    sign, exponent, thousands separator or currency symbol; a JSON number is refused
    (a binary float loses cents): amounts are written as text."""
    if isinstance(value, float):
        raise InvalidValue(field, f"write the amount as text, e.g. \"{value:.2f}\" (a number may not hold cents exactly)")
    text = _text(value, field, trim)
    if _AMOUNT_RE.fullmatch(text) is None:
        raise InvalidValue(
            field, f"invalid {shown(text)} (expected an amount such as 1200 or 85.50: digits, a dot, at most 2 decimals)"
        )
    amount = Decimal(text).quantize(Decimal("0.01"))
    if amount > MAX_HOURLY_REVENUE:
        raise InvalidValue(field, f"{shown(text)} is out of range (at most {MAX_HOURLY_REVENUE})")
    return amount


#: The currency of a revenue row that names none.
DEFAULT_CURRENCY = "USD"
#: ISO 4217's active alphabetic codes (funds and precious metals excluded).
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG""".split()
)


def currency(value: object, *, trim: bool = False, field: str = "currency", empty_ok: bool = False) -> str:
    """An ISO 4217 alphabetic code (`USD`, `eur`: any case), returned in capitals. With
    `empty_ok`, an empty value is DEFAULT_CURRENCY (a revenue file's empty cell)."""
    if empty_ok and (value is None or (isinstance(value, str) and not value.strip(CSV_BLANKS if trim else ""))):
        return DEFAULT_CURRENCY
    text = _text(value, field, trim)
    code = text.upper()
    if not text.isascii() or code not in CURRENCIES:
        raise InvalidValue(field, f"unknown currency {shown(text)} (expected an ISO 4217 code such as USD or EUR)")
    return code


# --------------------------------------------------------------------------- records


class InvalidPoll(InvalidValue):
    """A poll refused: as InvalidValue, plus its store id when that one was valid (a
    CSV row's store still exists, docs/rules.md §2)."""

    def __init__(self, error: InvalidValue, store_id: str | None) -> None:
        super().__init__(error.field, error.reason)
        self.store_id = store_id


#: The longest address SMTP carries (RFC 5321's path limit).
MAX_EMAIL_LENGTH = 254


def email_address(value: object, *, field: str = "email") -> str:
    """One email address, as given (no spaces around it, no display name)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if not isinstance(value, str) or not value:
        raise InvalidValue(field, "an email address is required")
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidValue(field, f"longer than {MAX_EMAIL_LENGTH} characters")
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidValue(field, f"not an email address: {shown(value)}") from None
    return value


def poll(
    store_id_value: object, timestamp_value: object, status_value: object, *, latest: datetime, from_csv: bool
) -> tuple[str, datetime, bool]:
    """One poll's (store_id, instant, is_active), from a CSV row (`from_csv`: cells
    trimmed, an instant without an offset is UTC) or a live poll; `InvalidPoll`."""
    sid = None
    try:
        sid = store_id(store_id_value, trim=from_csv)
        moment = poll_instant(timestamp_value, latest=latest, naive_utc=from_csv, trim=from_csv)
        active = status(status_value, trim=from_csv)
    except InvalidValue as error:
        raise InvalidPoll(error, sid) from None
    return sid, moment, active
