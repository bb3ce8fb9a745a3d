from rest_framework.routers import SimpleRouter

from exchange.api import subscriptions

router = SimpleRouter()
router.register("subscriptions", subscriptions.SubscriptionViewSet, basename="subscription")
router.register("notifications", subscriptions.NotificationViewSet, basename="notification")
router.register("deliveries", subscriptions.DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
