from django.urls import path

from . import flag_views, views

app_name = "analysis"

# Mounted under cases/<uuid:case_id>/ (see newsroom/urls.py).
urlpatterns = [
    path("network/", views.network_page, name="network"),
    path("network/data.json", views.network_data, name="network-data"),
    path("network/expand.json", views.network_expand, name="network-expand"),
    path("network/layout/", views.network_layout, name="network-layout"),
    path("network/entities/<uuid:entity_id>/", views.network_card, name="network-card"),
    path("network.gexf", views.export_gexf, name="export-gexf"),
    path("network.graphml", views.export_graphml, name="export-graphml"),
    path("paths/", views.path_page, name="paths"),
    path("flags/", flag_views.case_flags, name="flags"),
    path("flags/run/", flag_views.case_flags_run, name="flags-run"),
    path("flags/<uuid:hit_id>/claim/", flag_views.flag_claim, name="flag-claim"),
]
