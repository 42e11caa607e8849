from django.urls import path

from kesu.intake import views, wechat_views

app_name = "intake"

urlpatterns = [
    path("complain/", views.complain, name="complain"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:reference>/", views.track, name="track"),
    path("work/new/", views.log_complaint, name="log"),
    path("intake/wechat/<slug:code>/", wechat_views.wechat, name="wechat"),
    path("intake/wecom/<slug:code>/", wechat_views.wecom, name="wecom"),
]
