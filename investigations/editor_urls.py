"""The editor's queue and the inbox: across case files, mounted at the site root."""

from django.urls import path

from . import inbox_views, review_views

app_name = "editor"

urlpatterns = [
    path("queue/", review_views.review_queue, name="queue"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/count/", inbox_views.inbox_count, name="inbox-count"),
    path("inbox/read/", inbox_views.inbox_read, name="inbox-read"),
]
