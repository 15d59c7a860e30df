from django.urls import path

from . import views

app_name = "entities"

# Mounted under cases/<uuid:case_id>/ (see newsroom/urls.py).
urlpatterns = [
    path("entities/", views.entity_list, name="list"),
    path("entities/new/", views.entity_create, name="create"),
    path("entities/lookup/", views.entity_lookup, name="lookup"),
    path("entities/<uuid:entity_id>/", views.entity_detail, name="detail"),
    path("entities/<uuid:entity_id>/edit/", views.entity_edit, name="edit"),
    path("entities/<uuid:entity_id>/delete/", views.entity_delete, name="delete"),
    path("entities/<uuid:entity_id>/merge/", views.entity_merge, name="merge"),
    path("entities/<uuid:entity_id>/unpin/", views.entity_unpin, name="unpin"),
    path("entities/<uuid:entity_id>/links/new/", views.link_create, name="link-create"),
    path("links/<uuid:link_id>/delete/", views.link_delete, name="link-delete"),
    path("shipments/", views.shipment_list, name="shipments"),
    path("shipments/new/", views.shipment_create, name="shipment-create"),
    path("shipments/<uuid:shipment_id>/delete/", views.shipment_delete, name="shipment-delete"),
    path("export.ftm.json", views.case_export_ftm, name="export-ftm"),
    path("flows/", views.flow_list, name="flows"),
]
