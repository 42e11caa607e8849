from django.urls import path

from kesu.reports import views

app_name = "reports"
urlpatterns = [
    path("work/reports/performance/", views.performance, name="performance"),
]
