from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kesu import views
from kesu.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="kesu/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("work/", include("kesu.complaints.urls")),
    path("work/", include("kesu.notify.urls")),
    path("work/kb/", include("kesu.knowledge.urls")),
    path("work/customers/", include("kesu.customers.urls")),
    path("work/", include("kesu.replies.urls")),
    path("", include("kesu.surveys.urls")),
    path("", include("kesu.reports.urls")),
    path("", include("kesu.intake.urls")),
]
