from django.urls import path

from . import views

app_name = "evidence"

# Mounted under cases/<uuid:case_id>/ (see newsroom/urls.py).
urlpatterns = [
    path("documents/", views.document_list, name="documents"),
    path("documents/<uuid:document_id>/", views.document_detail, name="document"),
    path(
        "documents/<uuid:document_id>/download/", views.document_download, name="document-download"
    ),
    path("documents/<uuid:document_id>/delete/", views.document_delete, name="document-delete"),
    path(
        "documents/<uuid:document_id>/pages/<int:number>.png",
        views.document_page_image,
        name="document-page-image",
    ),
    path("snapshots/", views.snapshot_list, name="snapshots"),
    path("snapshots/export.wacz", views.snapshots_wacz, name="snapshots-wacz"),
    path("snapshots/<uuid:snapshot_id>/", views.snapshot_detail, name="snapshot"),
    path("snapshots/<uuid:snapshot_id>/warc/", views.snapshot_warc, name="snapshot-warc"),
    path(
        "snapshots/<uuid:snapshot_id>/screenshot/",
        views.snapshot_screenshot,
        name="snapshot-screenshot",
    ),
    path("snapshots/<uuid:snapshot_id>/diff/", views.snapshot_diff, name="snapshot-diff"),
    path("snapshots/<uuid:snapshot_id>/delete/", views.snapshot_delete, name="snapshot-delete"),
    path("snapshots/<uuid:snapshot_id>/retry/", views.snapshot_retry, name="snapshot-retry"),
    path("watches/<uuid:watch_id>/stop/", views.watch_stop, name="watch-stop"),
    path("cite/<str:claim_kind>/<uuid:claim_id>/", views.citation_create, name="cite"),
    path(
        "citations/<str:claim_kind>/<uuid:claim_id>/", views.citation_panel, name="citation-panel"
    ),
    path("citations/<uuid:citation_id>/delete/", views.citation_delete, name="citation-delete"),
]
