from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.admin import otp_admin_has_permission
from accounts.web.privacy import notice_view as privacy_notice_view
from config.dashboard import dashboard_view, home_view
from config.health import healthz_view, metrics_view, readyz_view
from exchange.web.feeds import subscription_feed
from opportunities.feeds import PublicListingsFeed

# Operators sign in through our own form, which asks for the TOTP code and counts
# failures for the lockout; the admin's bare password form would bypass both. And the
# admin itself refuses a session that has not passed the second factor (as django-otp's
# OTPAdminSite does), whatever the middleware in front of it says.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]
admin.site.has_permission = otp_admin_has_permission  # type: ignore[method-assign]

ops_patterns = [
    path("healthz", healthz_view, name="healthz"),
    path("readyz", readyz_view, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

api_v1 = [
    path("", include("accounts.api.urls")),
    path("reference/", include("opportunities.api.reference_urls")),
    path("reference/", include("exchange.api.reference_urls")),
    path("", include("opportunities.api.urls")),
    path("", include("exchange.api.urls")),
    path("", include("exchange.api.partnership_urls")),
    path("", include("exchange.api.subscription_urls")),
    path("", include("exchange.api.statistics_urls")),
    path("public/", include("opportunities.api.public_urls")),
]

urlpatterns = [
    # Probes and metrics (config/health.py), for operators' machines rather than people: in a
    # namespace of their own, like the admin's. ProbeMiddleware answers them before the rest of the stack.
    path("", include((ops_patterns, "ops"))),
    path("", home_view, name="home"),
    path("dashboard/", dashboard_view, name="dashboard"),
    path("help/", TemplateView.as_view(template_name="help.html"), name="help"),
    path("privacy/", privacy_notice_view, name="privacy"),
    path("accounts/", include("accounts.urls")),
    path("", include("accounts.web.urls_verification")),
    path("", include("exchange.urls")),
    path("", include("opportunities.web.urls")),
    path("public/", include("opportunities.web.public_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("feeds/listings.atom", PublicListingsFeed(), name="listings-feed"),
    # No login: the unguessable token is the credential (exchange/web/feeds.py).
    re_path(
        r"^feeds/subscriptions/(?P<token>[A-Za-z0-9_-]{32,64})\.atom$", subscription_feed, name="subscription-feed"
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG_TOOLBAR:  # pragma: no cover
    urlpatterns += [path("__debug__/", include("debug_toolbar.urls"))]
