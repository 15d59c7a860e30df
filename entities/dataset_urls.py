from django.urls import path

from . import views

app_name = "datasets"

# Shared reference data: every logged-in user may read it.
urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("<uuid:dataset_id>/", views.dataset_detail, name="detail"),
    path("<uuid:dataset_id>/shipments/", views.dataset_shipments, name="shipments"),
    path("<uuid:dataset_id>/flows/", views.dataset_flows, name="flows"),
    path("<uuid:dataset_id>/entities/<uuid:entity_id>/", views.dataset_entity, name="entity"),
    path("<uuid:dataset_id>/entities/<uuid:entity_id>/pin/", views.dataset_entity_pin, name="pin"),
]
