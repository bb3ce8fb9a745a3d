from django.urls import path

from accounts import views
from accounts.sso import views as sso
from accounts.web import organisation, privacy

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify_view, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    # Government single sign-on (accounts/sso/): the organisation's own OpenID Connect provider.
    path("sso/<slug:slug>/", sso.start_view, name="sso_start"),
    path("sso/<slug:slug>/callback/", sso.callback_view, name="sso_callback"),
    path("2fa/setup/", views.two_factor_setup_view, name="two_factor_setup"),
    path("2fa/disable/", views.two_factor_disable_view, name="two_factor_disable"),
    path("2fa/recovery-codes/", views.recovery_codes_view, name="recovery_codes"),
    path("unlock/<str:token>/", views.signin_unlock_view, name="signin_unlock"),
    path("profile/", views.profile_view, name="profile"),
    path("profile/data.json", privacy.data_view, name="data"),
    path("profile/erase/", privacy.erase_view, name="erase"),
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
    # The organisation one acts for: the header's switcher, and the settings pages (admins).
    path("organisation/switch/", views.switch_organisation_view, name="switch_organisation"),
    path("organisation/", organisation.overview_view, name="organisation"),
    path("organisation/two-factor/", organisation.two_factor_rule_view, name="organisation_two_factor"),
    path("organisation/focal-point/", organisation.focal_point_view, name="organisation_focal_point"),
    path("organisation/members/", organisation.members_view, name="organisation_members"),
    path("organisation/members.csv", organisation.members_csv_view, name="organisation_members_csv"),
    path("organisation/members/<uuid:pk>/role/", organisation.member_role_view, name="organisation_member_role"),
    path("organisation/members/<uuid:pk>/remove/", organisation.member_remove_view, name="organisation_member_remove"),
    path("organisation/invitations/", organisation.invitations_view, name="organisation_invitations"),
    path(
        "organisation/invitations/<uuid:pk>/revoke/",
        organisation.invitation_revoke_view,
        name="organisation_invitation_revoke",
    ),
    path("organisation/sso/", sso.settings_view, name="organisation_sso"),
    path("organisation/tokens/", organisation.tokens_view, name="organisation_tokens"),
    path("organisation/tokens/<uuid:pk>/revoke/", organisation.token_revoke_view, name="organisation_token_revoke"),
]
