from django.urls import path

from kesu.customers import views

app_name = "customers"

urlpatterns = [
    path("<int:pk>/", views.customer, name="customer"),
]
