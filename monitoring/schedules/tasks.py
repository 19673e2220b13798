"""django-q2 entry point for scheduled reports: a thin wrapper that knows the server's
public address and the download path (the edges' knowledge, not the domain's)."""

import uuid

from django.conf import settings

from monitoring.schedules.sending import scheduled_delivery_attempt
from monitoring.web.links import report_download_path


def download_url(report_id: uuid.UUID) -> str:
    """The report's signed download link, absolute: PUBLIC_URL and the signed path."""
    return settings.PUBLIC_URL + report_download_path(report_id=report_id)


def deliver(delivery_id: int) -> str | None:
    return scheduled_delivery_attempt(delivery_id=delivery_id, link=download_url)
