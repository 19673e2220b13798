"""Links: signed, expiring download links for report CSVs (django.core.signing), and
the one way of linking to a store's page (`store_page_url`)."""

import uuid
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse

from monitoring.kernel import values

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


# --------------------------------------------------------------------------- store pages

#: The path segment of a store page addressed by its id in the query string:
#: /stores/by-id/?id=<id> (monitoring.web.pages.store_page).
STORE_BY_ID = "by-id"
STORE_BY_ID_PARAMETER = "id"


def _store_by_id_path() -> str:
    return reverse("store-page", kwargs={"store_id": STORE_BY_ID})  # /stores/by-id/


def store_page_url(store_id: str) -> str | None:
    """The link to a store's status page, the only one that templates, views and the
    admin use: no store id resolves to another path, whatever it holds.

    - Usually /stores/<id>/ with the id percent-encoded whole (quote(id, safe=""): '/'
      is %2F, '%' is %25, '?' is %3F …), a single path segment.
    - An id that is exactly "." or ".." (a dot-segment: a browser would resolve
      /stores/../ to /) or that holds a '/' (decoded, it would be several segments,
      which a proxy may normalise or refuse): /stores/by-id/?id=<id percent-encoded>.
      The page reads the id from the query string; a query string has no dot-segments.
      (A store whose id is "by-id" is /stores/by-id/, without the parameter.)
    - An id the grammar refuses (docs/rules.md §7; older data holding a CR or LF): None, no
      link. The page refuses such an id too, so the link would only lead to an error.
    """
    try:
        values.store_id(store_id)
    except values.InvalidValue:
        return None
    by_id = _store_by_id_path()
    encoded = quote(store_id, safe="")
    if store_id in (".", "..") or "/" in store_id:
        return f"{by_id}?{STORE_BY_ID_PARAMETER}={encoded}"
    return f"{by_id[: -len(STORE_BY_ID) - 1]}{encoded}/"


def store_id_from_page_request(path_store_id: str, query) -> str:
    """The store id a store page URL names (the inverse of store_page_url): the path's,
    or for /stores/by-id/?id=… the query string's."""
    if path_store_id == STORE_BY_ID and STORE_BY_ID_PARAMETER in query:
        return query[STORE_BY_ID_PARAMETER]
    return path_store_id
