"""GraphQL arguments read with the shared grammar (monitoring.kernel.values): each reader
is told the argument's name (`name=`), so a refusal's `field` is the argument as the
client wrote it (`filters.ids[2]`, `asOf`) and its message is `"{argument}: {reason}"`."""

from collections.abc import Sequence
from datetime import datetime, time

from monitoring.kernel import values


def store_id_argument(value: object, *, name: str) -> str:
    """A store id exactly as given (never stripped), or InvalidValue naming `name`."""
    return values.store_id(value, field=name)


def store_ids_argument(items: Sequence[object], *, name: str) -> list[str]:
    return [store_id_argument(item, name=f"{name}[{index}]") for index, item in enumerate(items)]


def as_of_argument(moment: datetime | None, *, name: str = "asOf") -> datetime | None:
    """A DateTime argument (already read by the scalar) in the years 2000–2100."""
    return None if moment is None else values.as_of_range(moment, field=name)


def zone_argument(value: object, *, name: str) -> str:
    """An IANA zone known to the installed tz database, in its canonical spelling."""
    return values.zone(value, field=name)


def shifts_argument(items: Sequence[tuple[object, object]], *, name: str = "shifts") -> list[tuple[time, time]]:
    """Shifts given as (startTimeLocal, endTimeLocal) texts, read as a business-hours
    file's times (`HH:MM[:SS[.f]]`; `24:00` only as an end)."""
    return [
        (
            values.local_time(start, end=False, field=f"{name}[{index}].startTimeLocal"),
            values.local_time(end, end=True, field=f"{name}[{index}].endTimeLocal"),
        )
        for index, (start, end) in enumerate(items)
    ]
