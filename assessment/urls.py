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
]
