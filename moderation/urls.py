"""Pages of moderation."""

from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("posts/", views.post_list, name="post_list"),
    path("posts/export/", views.post_export, name="post_export"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:pk>/submit/", views.post_submit, name="post_submit"),
    path("posts/<int:pk>/decide/", views.post_decide, name="post_decide"),
    path("posts/<int:pk>/link-event/", views.post_link_event, name="post_link_event"),
    path("posts/<int:pk>/publish/", views.post_publish, name="post_publish"),
    path("posts/<int:pk>/attach/", views.post_attach, name="post_attach"),
    path("posts/<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download,
         name="attachment_download"),
    path("posts/<int:pk>/signoff.pdf", views.post_signoff, name="post_signoff"),
    path("queue/", views.queue, name="queue"),
    path("directives/", views.directive_list, name="directive_list"),
    path("directives/new/", views.directive_create, name="directive_create"),
    path("directives/<int:pk>/", views.directive_detail, name="directive_detail"),
    path("targets/<int:pk>/confirm/", views.target_confirm, name="target_confirm"),
    path("deputies/", views.deputy_list, name="deputy_list"),
    path("deputies/<int:pk>/end/", views.deputy_end, name="deputy_end"),
    path("flags/", views.flag_list, name="flag_list"),
    path("flags/export/", views.flag_export, name="flag_export"),
    path("flags/<int:pk>/resolve/", views.flag_resolve, name="flag_resolve"),
]
