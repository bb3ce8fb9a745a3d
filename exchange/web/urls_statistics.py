"""The statistics and open-data pages (exchange/web/statistics.py), open to everyone."""

from django.urls import path

from exchange.web import statistics

urlpatterns = [
    path("statistics/", statistics.statistics_view, name="statistics"),
    path("statistics/<slug:name>.csv", statistics.statistics_csv_view, name="statistics-csv"),
    path("open-data/", statistics.open_data_view, name="open-data"),
]
