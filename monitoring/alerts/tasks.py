"""django-q2 entry points for alerts: thin wrappers over the services."""

from monitoring.alerts.delivery import deliveries_requeue, delivery_attempt
from monitoring.alerts.escalation_check import incidents_escalate
from monitoring.alerts.evaluation import alerts_evaluate_recent
from monitoring.alerts.silence import stores_silent_check


def deliver(delivery_id: int) -> str | None:
    return delivery_attempt(delivery_id=delivery_id)


def every_minute() -> int:
    """STORE_SILENT and escalations against the wall clock; live polls whose evaluation
    was lost (a request that died after storing them); deliveries whose queue entry was lost."""
    return (
        len(alerts_evaluate_recent()) + len(stores_silent_check()) + len(incidents_escalate()) + deliveries_requeue()
    )
