from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from entities.analysis import flag_views
from evidence import views as evidence_views
from investigations.login import AdminLoginForm, LoginForm

from . import health, views

# The admin's log-in page says why a throttled log-in is refused, like ours.
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", include("investigations.urls")),
    path("", include("investigations.editor_urls")),
    path("cases/<uuid:case_id>/", include("entities.urls")),
    path("cases/<uuid:case_id>/", include("evidence.urls")),
    path("cases/<uuid:case_id>/", include("entities.analysis.urls")),
    # Evidence downloads on EVIDENCE_DOWNLOAD_ORIGIN: a signed, expiring link is the key.
    path("dl/<str:token>", evidence_views.signed_download, name="evidence-signed"),
    path("datasets/", include("entities.dataset_urls")),
    path("imports/", include("entities.import_urls")),
    path("search/", views.search, name="search"),
    path("screening/", flag_views.screening_page, name="screening"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # User accounts only: case files are not registered in the admin, so no one reads a case
    # file through it without being a member.
    path("admin/", admin.site.urls),
]
