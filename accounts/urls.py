"""Sign-in and account pages (outside any tenant)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="password_set"),
    path("set-password/done/", views.SetPasswordDoneView.as_view(), name="password_set_done"),
    path("choose-tenant/", views.choose_tenant, name="choose_tenant"),
    path("profile/", views.profile, name="profile"),
]
