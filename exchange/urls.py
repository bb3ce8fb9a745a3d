"""Exchange web pages (include at the site root: ``path("", include("exchange.urls"))``).

Route lists per area: matches and dialogue, partnerships (exchange/web/urls_matches.py),
alerts: subscriptions, deliveries, inbox (exchange/web/urls_alerts.py), suggestions from
evidence (exchange/web/urls_suggestions.py), a profile's SDMX-CSV import
(exchange/web/urls_imports.py), migration profiles (exchange/web/urls_profiles.py),
corridors between two countries (exchange/web/urls_corridors.py), the statistics and
open-data pages (exchange/web/urls_statistics.py), and a listing's outcomes ledger
(exchange/web/urls_outcomes.py).
"""

from django.urls import path

from exchange import views
from exchange.web.urls_alerts import urlpatterns as alert_patterns
from exchange.web.urls_corridors import urlpatterns as corridor_patterns
from exchange.web.urls_imports import urlpatterns as import_patterns
from exchange.web.urls_matches import urlpatterns as match_patterns
from exchange.web.urls_outcomes import urlpatterns as outcome_patterns
from exchange.web.urls_profiles import urlpatterns as profile_patterns
from exchange.web.urls_statistics import urlpatterns as statistics_patterns
from exchange.web.urls_suggestions import urlpatterns as suggestion_patterns

app_name = "exchange"

urlpatterns = [
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    *match_patterns,
    *alert_patterns,
    *suggestion_patterns,
    *import_patterns,
    *profile_patterns,
    *corridor_patterns,
    *statistics_patterns,
    *outcome_patterns,
]
