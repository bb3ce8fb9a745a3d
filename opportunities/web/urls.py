"""Listing pages for members: ``path("", include("opportunities.web.urls"))``.

Two route lists, one per area: listings (browse, detail, form, workflow, CSV) and
moderation (queue, revision diff, decisions).
"""

from opportunities.web.urls_listings import urlpatterns as listing_patterns
from opportunities.web.urls_moderation import urlpatterns as moderation_patterns

app_name = "opportunities"

urlpatterns = [*listing_patterns, *moderation_patterns]
