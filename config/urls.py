from django.contrib import admin
from django.templatetags.static import static
from django.urls import path
from django.views.generic.base import RedirectView
from django.views.decorators.csrf import csrf_exempt
from graphql_schema.limits.read_cache import CachedGraphQLView
from graphql_schema.schema import schema
from monitoring.web import pages
from monitoring.web import rest as views

# The ModelAdmins register here, with the URLs that serve them (settings: SimpleAdminConfig).
admin.autodiscover()

urlpatterns = [
    path("admin/", admin.site.urls),
    # The API: curl and programs send a bearer token or nothing, so Django's CSRF check
    # (which would refuse them all) is off here; a request that rides a session cookie
    # is checked instead by monitoring.web.middleware.ApiAccessMiddleware (CSRF token or
    # same origin, docs/rules.md §8).
    path("graphql/", csrf_exempt(CachedGraphQLView.as_view(schema=schema)), name="graphql"),
    path("trigger_report/", views.trigger_report, name="trigger-report"),
    path("get_report/", views.get_report, name="get-report"),
    path("store/get_report/", views.get_report, name="store-get-report"),
    path("store/<path:store_id>/trigger_report/", views.store_trigger_report, name="store-trigger-report"),
    path("reports/download/<str:token>/", views.download_report, name="report-download"),
    # Server-rendered pages (monitoring.web.pages); <uuid:…> never matches "download/…".
    path("", pages.home, name="home"),
    path("sign-in/", pages.sign_in, name="sign-in"),
    path("sign-out/", pages.sign_out, name="sign-out"),
    path("session/role/", pages.switch_role, name="switch-role"),
    path("set-password/<str:uidb64>/<str:token>/", pages.set_password, name="set-password"),
    path("reports/", pages.report_list, name="report-list"),
    path("reports/generate/", pages.report_generate, name="report-generate"),
    path("reports/<uuid:report_id>/", pages.report_page, name="report-page"),
    path("stores/<path:store_id>/", pages.store_page, name="store-page"),
    path("organization/audit/", pages.audit_log_page, name="organization-audit"),
    path("organization/tokens/", pages.tokens_page, name="organization-tokens"),
    path("organization/members/", pages.members_page, name="organization-members"),
    # Browsers ask for /favicon.ico on every page without a <link rel="icon"> (the admin,
    # JSON answers): the pages' icon, instead of a 404 line in the log each time.
    path("favicon.ico", RedirectView.as_view(url=static("monitoring/favicon.svg"), permanent=True), name="favicon"),
]

# API paths answer JSON errors for these too (monitoring.web.rest); pages keep Django's.
handler400 = "monitoring.web.rest.bad_request"
handler404 = "monitoring.web.rest.page_not_found"
handler500 = "monitoring.web.rest.server_error"
