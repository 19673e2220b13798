"""Signed, expiring download links for report CSVs (django.core.signing)."""

import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "monitoring.report-download"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def report_download_token(*, report_id: uuid.UUID) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(report_id))


def report_download_path(*, report_id: uuid.UUID) -> str:
    return reverse("report-download", kwargs={"token": report_download_token(report_id=report_id)})


def report_id_from_token(*, token: str) -> uuid.UUID:
    """The report a token opens; raises LinkExpired or LinkInvalid."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=settings.REPORT_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise LinkInvalid from None
