from django.urls import path

from kesu.knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.article, name="article"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/status/", views.change_status, name="status"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/v/<int:number>/", views.version, name="version"),
    path("promote/<str:reference>/", views.promote, name="promote"),
]
