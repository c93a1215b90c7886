"""Pages of the inbox (mounted under /inbox/)."""

from django.urls import path

from inbox import endpoints, views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.message_new, name="message_new"),
    path("import/", views.message_import, name="import"),
    path("slips/", views.slip_list, name="slips"),
    path("duty/", views.duty, name="duty"),
    path("routing/", views.routing, name="routing"),
    path("sla/", views.sla_overview, name="sla_overview"),
    path("<int:pk>/", views.message_detail, name="message_detail"),
    path("rate/<uuid:token>/", views.rate, name="rate"),
    path("collectors/", views.collectors, name="collectors"),
    path("collectors/<int:pk>/", views.collector_step, name="collector_step"),
    path("wechat-settings/", views.wechat_settings, name="wechat_settings"),
    path("wechat-settings/<int:account_id>/", views.wechat_settings_edit,
         name="wechat_settings_edit"),
    path("wechat/<uuid:slug>/", endpoints.wechat_callback, name="wechat_callback"),
]
