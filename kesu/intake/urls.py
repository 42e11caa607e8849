from django.urls import path

from kesu.intake import views

app_name = "intake"

urlpatterns = [
    path("complain/", views.complain, name="complain"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:reference>/", views.track, name="track"),
    path("work/new/", views.log_complaint, name="log"),
]
