"""Pages of the assessment."""

from django.urls import path

from assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.index, name="index"),
    path("rubrics/", views.rubric_list, name="rubric_list"),
    path("rubrics/new/", views.rubric_create, name="rubric_create"),
    path("rubrics/<int:pk>/", views.rubric_detail, name="rubric_detail"),
    path("rubrics/<int:pk>/<slug:action>/", views.rubric_action, name="rubric_action"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("scores/<int:pk>/", views.score_detail, name="score_detail"),
    path("manual/", views.manual_list, name="manual_list"),
    path("years/", views.freeze_list, name="freeze_list"),
    path("lists/<slug:name>/export/", views.list_export, name="list_export"),
    path("years/new/", views.freeze_create, name="freeze_create"),
    path("years/<int:pk>/", views.freeze_detail, name="freeze_detail"),
    path("years/<int:pk>/reopen/", views.freeze_reopen, name="freeze_reopen"),
    path("years/<int:pk>/export/", views.freeze_export, name="freeze_export"),
    path("circulars/", views.circular_list, name="circular_list"),
    path("circulars/new/", views.circular_create, name="circular_create"),
    path("circulars/<int:pk>/", views.circular_detail, name="circular_detail"),
    path(
        "circulars/<int:pk>/to/<slug:to>/",
        views.circular_action,
        name="circular_action",
    ),
    path(
        "circulars/<int:pk>/export.<str:fmt>",
        views.circular_export,
        name="circular_export",
    ),
    path("archives/", views.archive_list, name="archive_list"),
    path(
        "archives/<int:pk>/download/", views.archive_download, name="archive_download"
    ),
]
