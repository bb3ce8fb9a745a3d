"""/api/v1/statistics/ and /api/v1/open-data/ (exchange/api/statistics.py)."""

from django.urls import path

from exchange.api import statistics

urlpatterns = [
    path("statistics/", statistics.StatisticsIndexView.as_view(), name="statistics"),
    path(
        "statistics/<slug:name>.csv",
        statistics.StatisticsTableView.as_view(),
        {"format": "csv"},
        name="statistics-table-csv",
    ),
    path("statistics/<slug:name>/", statistics.StatisticsTableView.as_view(), name="statistics-table"),
    path("open-data/", statistics.OpenDataIndexView.as_view(), name="open-data"),
    path(
        "open-data/<slug:dataset>.csv",
        statistics.OpenDataDownloadView.as_view(),
        {"format": "csv"},
        name="open-data-csv",
    ),
]
