from rest_framework.routers import SimpleRouter

from exchange.api import partnerships

router = SimpleRouter()
router.register("partnerships", partnerships.PartnershipViewSet, basename="partnership")
router.register(
    rf"partnerships/(?P<partnership_pk>{partnerships.UUID_PATTERN})/documents",
    partnerships.PartnershipDocumentViewSet,
    basename="partnership-document",
)

urlpatterns = router.urls
