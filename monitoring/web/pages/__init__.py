"""Server-rendered pages for owners and operators: a store's status page and a report's
page. Thin: the numbers come from the report and timeline services (the same engine as
the CSV); what is here only arranges them for display.

Access is `request.access` (set by ApiAccessMiddleware for /stores/, /reports/ and
/organization/): a store or report outside it is answered with the same 404 as one that
does not exist; a page the caller's role or scopes do not allow, with 403.

One file a page or a part of one: `display`, `common` and `ranges` (a range asked for
with `?from=…&to=…`) shared, `status`, `fleet` (the home page), `reports`,
`organization` (the audit log and API tokens, for admins), `session` (sign in and out)."""

from monitoring.web.pages.display import PX_PER_HOUR
from monitoring.web.pages.status import status_page_context, store_page
from monitoring.web.pages.fleet import home
from monitoring.web.pages.reports import report_page, report_list, report_generate
from monitoring.web.pages.organization import audit_log_page, members_page, tokens_page
from monitoring.web.pages.session import set_password, sign_in, sign_out, switch_role

__all__ = [
    "PX_PER_HOUR",
    "audit_log_page",
    "home",
    "members_page",
    "report_generate",
    "report_list",
    "report_page",
    "set_password",
    "sign_in",
    "sign_out",
    "switch_role",
    "status_page_context",
    "store_page",
    "tokens_page",
]
