from django.urls import path

from . import import_views

app_name = "imports"

# Staff only: everyone else gets 404.
urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("<uuid:import_id>/", import_views.import_detail, name="detail"),
    path("<uuid:import_id>/rejected.csv", import_views.import_rejected_csv, name="rejected"),
    path("<uuid:import_id>/discard/", import_views.import_discard, name="discard"),
]
