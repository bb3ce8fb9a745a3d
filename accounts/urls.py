from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify_view, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/setup/", views.two_factor_setup_view, name="two_factor_setup"),
    path("2fa/disable/", views.two_factor_disable_view, name="two_factor_disable"),
    path("profile/", views.profile_view, name="profile"),
    path("organisation/", views.switch_organisation_view, name="switch_organisation"),
    path("language/", views.set_language_view, name="set_language"),
    path("invitations/<str:secret>/", views.invitation_view, name="invitation"),
    path("password-reset/", views.password_reset_view, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done_view, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete_view, name="password_reset_complete"),
]
