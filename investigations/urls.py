from django.urls import path

from . import inbox_views, review_views, timeline_views, views

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
    # Timeline
    path("<uuid:case_id>/timeline/", timeline_views.timeline_page, name="timeline"),
    path("<uuid:case_id>/timeline.csv", timeline_views.timeline_csv, name="timeline-csv"),
    path("<uuid:case_id>/timeline/new/", timeline_views.event_create, name="event-create"),
    path("<uuid:case_id>/timeline/<uuid:event_id>/", timeline_views.event_detail, name="event"),
    path(
        "<uuid:case_id>/timeline/<uuid:event_id>/edit/",
        timeline_views.event_edit,
        name="event-edit",
    ),
    path(
        "<uuid:case_id>/timeline/<uuid:event_id>/delete/",
        timeline_views.event_delete,
        name="event-delete",
    ),
    # Claims and review
    path("<uuid:case_id>/claims/", review_views.claim_list, name="claims"),
    path(
        "<uuid:case_id>/claims/mark/<str:target_kind>/<uuid:target_id>/",
        review_views.claim_mark,
        name="claim-mark",
    ),
    path("<uuid:case_id>/claims/<uuid:claim_uid>/", review_views.claim_detail, name="claim"),
    path(
        "<uuid:case_id>/claims/<uuid:claim_uid>/request-review/",
        review_views.claim_request_review,
        name="claim-request-review",
    ),
    path(
        "<uuid:case_id>/claims/<uuid:claim_uid>/verify/",
        review_views.claim_verify,
        name="claim-verify",
    ),
    path(
        "<uuid:case_id>/claims/<uuid:claim_uid>/dispute/",
        review_views.claim_dispute,
        name="claim-dispute",
    ),
    path(
        "<uuid:case_id>/claims/<uuid:claim_uid>/delete/",
        review_views.claim_delete,
        name="claim-delete",
    ),
    # Comments
    path(
        "<uuid:case_id>/comments/<str:subject_kind>/<uuid:subject_id>/",
        inbox_views.comments,
        name="comments",
    ),
    # The report
    path("<uuid:case_id>/report/", review_views.case_report, name="report"),
    path("<uuid:case_id>/report.pdf", review_views.case_report_pdf, name="report-pdf"),
]
