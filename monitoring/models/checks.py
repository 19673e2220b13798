"""What the models share: the grammar of docs/rules.md §7 on model fields (every ModelForm,
the admin's included, refuses what the grammar refuses), and how a shift, a weekday and an
instant read in the admin."""

from datetime import timezone

from django.core.exceptions import ValidationError
from django.db import models

from monitoring.kernel.values import InvalidValue


#: Weekday names as the admin shows a shift (0 = Monday, docs/rules.md §1).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def shift_text(start, end) -> str:
    """'09:00–17:00'; an end of 00:00 is the end of the day (stored 24:00, docs/rules.md §3)."""
    return f"{start:%H:%M}–{'24:00' if end.hour == end.minute == 0 and end.second == 0 else f'{end:%H:%M}'}"


def instant_text(moment) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S.%f} UTC"


def grammar_checks(instance: models.Model, exclude, checks) -> None:
    """Model.clean_fields, then the grammar of docs/rules.md §7 (monitoring.kernel.values) on
    the fields that passed it: `checks` maps a field name to a function of its value
    that returns the value to keep (e.g. a zone's canonical spelling) or raises
    InvalidValue. So every ModelForm (the admin's included) refuses what the grammar
    refuses, with its reason, as that field's error."""
    errors: dict = {}
    try:
        models.Model.clean_fields(instance, exclude=exclude)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    skipped = set(exclude or ()) | set(errors)
    for name, check in checks.items():
        if name in skipped:
            continue
        try:
            setattr(instance, name, check(getattr(instance, name)))
        except InvalidValue as error:
            errors.setdefault(name, []).append(ValidationError(error.reason, code="invalid"))
    if errors:
        raise ValidationError(errors)
