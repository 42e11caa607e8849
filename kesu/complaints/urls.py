from django.urls import path

from kesu.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("c/<str:reference>/", views.case, name="case"),
    path("c/<str:reference>/do/<slug:name>/", views.action, name="action"),
    path("c/<str:reference>/files/", views.upload, name="upload"),
    path("c/<str:reference>/files/<int:attachment_id>/", views.download, name="download"),
]
