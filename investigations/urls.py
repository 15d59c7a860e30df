from django.urls import path

from . import views

app_name = "investigations"

urlpatterns = [
    path("", views.investigation_list, name="list"),
    path("new/", views.investigation_create, name="create"),
    path("<uuid:case_id>/", views.investigation_detail, name="detail"),
    path("<uuid:case_id>/settings/", views.investigation_settings, name="settings"),
    path("<uuid:case_id>/members/", views.member_list, name="members"),
    path(
        "<uuid:case_id>/members/<uuid:member_id>/role/",
        views.member_change_role,
        name="member-role",
    ),
    path(
        "<uuid:case_id>/members/<uuid:member_id>/remove/", views.member_remove, name="member-remove"
    ),
    path(
        "<uuid:case_id>/invitations/<uuid:invitation_id>/cancel/",
        views.invitation_cancel,
        name="invitation-cancel",
    ),
    path("<uuid:case_id>/activity/", views.activity_feed, name="activity"),
]
