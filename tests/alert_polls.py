"""Alerts as the tests drive them: live polls recorded for a caller, and the deliveries
made of them."""

from monitoring.alerts.models import Delivery
from monitoring.ingest import polls_record


def record(access, *polls):
    result = polls_record(polls=[(sid, moment.isoformat(), status) for sid, moment, status in polls], access=access)
    assert result.rejected == 0, result.rejections
    return result


def deliveries(**filters):
    return list(Delivery.objects.filter(**filters).order_by("pk").values_list("event", "store__store_id", "attempts"))
