from django.urls import include, path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("audit", views.AuditEventViewSet, basename="audit")

nested = SimpleRouter()
nested.register("members", views.MemberViewSet, basename="member")
nested.register("invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/data/", views.MeDataView.as_view(), name="me-data"),
    path("organisations/<str:organisation_id>/", include(nested.urls)),
    *router.urls,
]
