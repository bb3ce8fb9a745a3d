"""The site's routes plus two views that publish tasks, as any request that enqueues work does."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.celery import app, ping
from config.urls import urlpatterns as site_patterns

# A task of the tests' own (tests/ops/test_request_id.py registers it on the app).
REPORT_TASK = "tests.ops.report_request_id"


def enqueue_view(request: HttpRequest) -> JsonResponse:
    result = ping.apply_async(queue="default")
    return JsonResponse({"task_id": result.id})


def enqueue_report_view(request: HttpRequest) -> JsonResponse:
    result = app.send_task(REPORT_TASK, queue="default")
    return JsonResponse({"task_id": result.id})


urlpatterns = [
    path("ops-test/enqueue/", enqueue_view),
    path("ops-test/enqueue-report/", enqueue_report_view),
    *site_patterns,
]
