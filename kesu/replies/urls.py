from django.urls import path

from kesu.replies import views

app_name = "replies"

urlpatterns = [
    path("c/<str:reference>/reply/check/", views.check, name="check"),
    path("c/<str:reference>/reply/template/", views.template, name="template"),
]
