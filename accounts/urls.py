from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.views import users

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("second-factor/", views.otp_verify, name="otp_verify"),
    path("second-factor/enrol/", views.otp_enrol, name="otp_enrol"),
    path("orgs/", views.org_tree, name="org_tree"),
    path("orgs/<int:pk>/", views.org_detail, name="org_detail"),
    path("access/", views.membership_list, name="membership_list"),
    path("access/export/", views.membership_export, name="membership_export"),
    path("users/", users.user_list, name="user_list"),
    path("users/export/", users.user_export, name="user_export"),
    path("users/new/", users.user_create, name="user_create"),
    path("users/<int:pk>/", users.user_detail, name="user_detail"),
    path("security/second-factor/", views.second_factor_rules, name="second_factor_rules"),
]
