"""Pages of supervision."""

from django.urls import path

from supervision.views import dashboard, events, findings, inspections, orders

app_name = "supervision"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("findings/", findings.finding_list, name="finding_list"),
    path("findings/export/", findings.finding_export, name="finding_export"),
    # The first address of the CSV; kept so that saved links still work.
    path("findings/export.csv", findings.finding_export, name="finding_export_csv"),
    path("findings/sweep/", findings.finding_sweep, name="finding_sweep"),
    path("findings/<int:pk>/", findings.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/close/", findings.finding_close, name="finding_close"),
    path(
        "findings/<int:pk>/dispose/", findings.finding_dispose, name="finding_dispose"
    ),
    path("findings/<int:pk>/order/", findings.finding_order, name="finding_order"),
    path("orders/", orders.order_list, name="order_list"),
    path("orders/export/", orders.order_export, name="order_export"),
    path("orders/<int:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/answer/", orders.order_answer, name="order_answer"),
    path("orders/<int:pk>/close/", orders.order_close, name="order_close"),
    path("orders/<int:pk>/send-back/", orders.order_send_back, name="order_send_back"),
    path("orders/<int:pk>/suspend/", orders.order_suspend, name="order_suspend"),
    path("orders/<int:pk>/summons/", orders.order_summons, name="order_summons"),
    path("inspections/", inspections.inspection_list, name="inspection_list"),
    path("inspections/new/", inspections.inspection_start, name="inspection_start"),
    path(
        "inspections/<int:pk>/", inspections.inspection_detail, name="inspection_detail"
    ),
    path(
        "inspections/<int:pk>/complete/",
        inspections.inspection_complete,
        name="inspection_complete",
    ),
    path(
        "inspections/<int:pk>/findings/",
        inspections.inspection_finding,
        name="inspection_finding",
    ),
    path("events/", events.event_list, name="event_list"),
    path("events/new/", events.event_register, name="event_register"),
    path("events/<int:pk>/", events.event_detail, name="event_detail"),
    path("events/<int:pk>/timer/", events.event_timer, name="event_timer"),
    path("events/<int:pk>/close/", events.event_close, name="event_close"),
]
