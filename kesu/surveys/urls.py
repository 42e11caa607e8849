from django.urls import path

from kesu.surveys import views

app_name = "surveys"

urlpatterns = [
    path("survey/<str:reference>/", views.survey, name="survey"),
    path("work/callbacks/", views.callbacks, name="callbacks"),
    path("work/callbacks/<int:task_id>/", views.record, name="record"),
    path("work/reports/satisfaction/", views.report, name="report"),
]
