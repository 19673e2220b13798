"""A range asked for on a page (the store page's picker, the fleet page's range):
`?from=…&to=…`, each a local date or an instant by the one grammar (docs/rules.md §7),
turned into the instants of one store's zone (docs/rules.md §11).

A date is a whole local day: `from=2023-03-01` starts at that date's 00:00, and
`to=2023-03-31` ends at the next date's 00:00 (both dates included, as `Store.daily`
counts them); an instant is taken as it is, `to` excluded. Without `to`, the range ends
at the page's as_of; without `from`, it starts DEFAULT_LENGTH before its end. A range
longer than HISTORY_RETENTION_DAYS is cut to that length, ending where it was asked to
end, and says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.http import HttpRequest

from monitoring.history import max_range, range_validate
from monitoring.kernel import values
from monitoring.kernel.periods import WEEK, local_midnight

#: A range with no `from`: the week before its end, as the report's last week.
DEFAULT_LENGTH = WEEK


@dataclass(frozen=True)
class RangeAsked:
    """What the query string asked for, read by the grammar (None: not given), and the
    texts as typed, for the form to show again."""

    start: date | datetime | None = None
    end: date | datetime | None = None
    from_text: str = ""
    to_text: str = ""

    @property
    def given(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def by_date(self) -> bool:
        """A bound is a local date: the instants differ from zone to zone."""
        return _is_date(self.start) or _is_date(self.end)

    def query(self) -> dict[str, str]:
        """The parameters that ask for this range again (links, hidden form fields)."""
        return {key: text for key, text in (("from", self.from_text), ("to", self.to_text)) if text}


@dataclass(frozen=True)
class RangeBounds:
    """A range as instants: [start, end), checked (docs/rules.md §11); `capped` when
    `start` was moved later to keep it within HISTORY_RETENTION_DAYS."""

    start: datetime
    end: datetime
    capped: bool = False

    @property
    def cap_text(self) -> str:
        return cap_text()


def cap_text() -> str:
    """What a page says when it cut a range to HISTORY_RETENTION_DAYS."""
    days = max_range().days
    return (
        f"The range asked for is longer than {days} days (HISTORY_RETENTION_DAYS): it is cut to the"
        f" {days} days before its end."
    )


def range_asked(request: HttpRequest) -> RangeAsked:
    """`from` and `to` from the query string, empty = not given. Raises InvalidValue
    naming the field."""
    texts = {key: request.GET.get(key, "") for key in ("from", "to")}
    bounds = {key: values.range_bound(text, field=key) if text != "" else None for key, text in texts.items()}
    return RangeAsked(start=bounds["from"], end=bounds["to"], from_text=texts["from"], to_text=texts["to"])


def _is_date(bound: date | datetime | None) -> bool:
    return isinstance(bound, date) and not isinstance(bound, datetime)


def _instant(bound: date | datetime, timezone_name: str | None, *, end: bool) -> datetime:
    if isinstance(bound, datetime):
        return bound
    return local_midnight(bound + timedelta(days=1) if end else bound, timezone_name)


def range_bounds(asked: RangeAsked, *, timezone_name: str | None, default_end: datetime) -> RangeBounds:
    """The instants of `asked` in a store's zone (None: the default zone). Raises
    HistoryInputError naming the field (`to` not after `from`, outside the years
    2000–2100)."""
    end = default_end if asked.end is None else _instant(asked.end, timezone_name, end=True)
    start = end - DEFAULT_LENGTH if asked.start is None else _instant(asked.start, timezone_name, end=False)
    capped = end - start > max_range()
    if capped:
        start = end - max_range()
    range_validate(start=start, end=end)
    return RangeBounds(start=start, end=end, capped=capped)
