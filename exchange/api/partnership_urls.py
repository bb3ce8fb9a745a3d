from django.urls import re_path
from rest_framework.routers import SimpleRouter

from exchange.api import partnerships

router = SimpleRouter()
router.register("partnerships", partnerships.PartnershipViewSet, basename="partnership")
router.register(
    rf"partnerships/(?P<partnership_pk>{partnerships.UUID_PATTERN})/documents",
    partnerships.PartnershipDocumentViewSet,
    basename="partnership-document",
)
for name, viewset in (
    ("members", partnerships.CommitteeMemberViewSet),
    ("meetings", partnerships.CommitteeMeetingViewSet),
    ("decisions", partnerships.CommitteeDecisionViewSet),
):
    router.register(
        rf"partnerships/(?P<partnership_pk>{partnerships.UUID_PATTERN})/committee/{name}",
        viewset,
        basename=f"partnership-committee-{name.removesuffix('s')}",
    )

urlpatterns = [
    re_path(
        rf"^partnerships/(?P<partnership_pk>{partnerships.UUID_PATTERN})/agreement/$",
        partnerships.PartnershipAgreementView.as_view(),
        name="partnership-agreement",
    ),
    *router.urls,
]
