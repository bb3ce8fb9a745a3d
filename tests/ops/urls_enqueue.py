"""The site's routes plus one view that publishes a task, as any request that enqueues work does."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.celery import ping
from config.urls import urlpatterns as site_patterns


def enqueue_view(request: HttpRequest) -> JsonResponse:
    result = ping.apply_async(queue="default")
    return JsonResponse({"task_id": result.id})


urlpatterns = [path("ops-test/enqueue/", enqueue_view), *site_patterns]
