"""The operators' admin: stores and their hours, polls (read-only), reports (read-only),
owners and API tokens. Built for a poll table of millions of rows: no full COUNT(*) per
page, no per-row queries, no huge text columns loaded into change lists.

A store is reachable by its store id (not only its database key): the search lists an
exact id first, `/admin/monitoring/store/by-id/<store id>/` (or `by-id/?id=<store id>`)
redirects to its change page, and so does `/admin/monitoring/store/<store id>/change/`
when <store id> is not a store's database key. Its change page links to its status page
and the status page back (staff only); "Trigger a report for these stores" queues a
report for the stores selected.

One file a part of the site: `common` (shared helpers), `stores`, `polls`, `reports`,
`owners` (and API tokens). Importing them registers their ModelAdmins."""

from django.contrib import admin

from monitoring.admin import organizations, owners, polls, reports, stores  # noqa: F401  (registers their ModelAdmins)

# The product's name, not "Django administration", on every admin page and tab.
admin.site.site_header = "Store uptime monitor"
admin.site.site_title = "Store uptime monitor admin"
admin.site.index_title = "Stores, polls, reports and alerts"
from monitoring.admin.common import EstimatedCountPaginator

__all__ = [
    "EstimatedCountPaginator",
]
