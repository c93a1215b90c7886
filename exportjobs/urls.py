from django.urls import path

from exportjobs import views

app_name = "exports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("list/<slug:kind>/", views.list_export, name="list_export"),
    path("<uuid:job_id>/", views.job_detail, name="detail"),
    path("<uuid:job_id>/status.json", views.job_status, name="status"),
    path("<uuid:job_id>/download/", views.job_download, name="download"),
]
