from django.urls import path

from . import views
from .analysis import flag_views

app_name = "datasets"

# Shared reference data: every logged-in user may read it.
urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("<uuid:dataset_id>/", views.dataset_detail, name="detail"),
    path("<uuid:dataset_id>/shipments/", views.dataset_shipments, name="shipments"),
    path("<uuid:dataset_id>/flows/", views.dataset_flows, name="flows"),
    path("<uuid:dataset_id>/entities/<uuid:entity_id>/", views.dataset_entity, name="entity"),
    path("<uuid:dataset_id>/entities/<uuid:entity_id>/pin/", views.dataset_entity_pin, name="pin"),
    path("<uuid:dataset_id>/flags/", flag_views.dataset_flags, name="flags"),
    path("<uuid:dataset_id>/flags/run/", flag_views.dataset_flags_run, name="flags-run"),
    path(
        "<uuid:dataset_id>/sanctions-list/",
        flag_views.dataset_sanctions_list,
        name="sanctions-list",
    ),
]
