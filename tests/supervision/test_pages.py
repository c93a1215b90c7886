"""Every supervision page renders for the province supervisor over real data made
through the services, in Chinese and English, with a constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from supervision.models import Finding, FindingKind
from supervision.services import events, inspections, rectification
from supervision.services.rollups import rollup_day
from tests.supervision.factories import idle_account

pytestmark = pytest.mark.django_db


def client_for(user, language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def scene(world, run_sweep):
    ns = world.mine
    now = timezone.now()
    idle_account(ns.city_dept, days=20, now=now)
    idle_account(ns.county_dept, days=100, now=now)
    run_sweep(now)
    supervisor = ns.users[Role.SUPERVISOR]
    finding = Finding.objects.filter(kind=FindingKind.IDLE).order_by("id").first()
    order = rectification.order_issue(
        actor=supervisor, finding=finding, requirement="恢复更新。"
    )
    inspection = inspections.inspection_start(
        actor=supervisor,
        organization=ns.province,
        title="第四季度抽查",
        sample_percent=50,
        seed=7,
    )
    event = events.event_register(
        actor=supervisor,
        organization=ns.city,
        title="暴雨灾情",
        level="major_emergency",
        occurred_at=now - timedelta(hours=6),
    )
    rollup_day()
    return ns, finding, order, inspection, event


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_render(scene, language):
    ns, finding, order, inspection, event = scene
    client = client_for(ns.users[Role.SUPERVISOR], language)
    for url in [
        "/supervision/",
        f"/supervision/?organization={ns.city.pk}",
        "/supervision/findings/",
        "/supervision/findings/?status=",
        f"/supervision/findings/{finding.pk}/",
        "/supervision/orders/",
        f"/supervision/orders/{order.pk}/",
        "/supervision/inspections/",
        f"/supervision/inspections/{inspection.pk}/",
        "/supervision/events/",
        f"/supervision/events/{event.pk}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    csv = client.get("/supervision/findings/export.csv")
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content).decode("utf-8-sig")
    mine = Finding.objects.filter(status="open", org_path__startswith=ns.province.path)
    assert len(body.strip().splitlines()) == 1 + mine.count()


def test_dashboard_shows_charts_without_cdn_and_red_overdue(scene):
    ns, *_rest = scene
    client = client_for(ns.users[Role.SUPERVISOR])
    html = client.get("/supervision/").content.decode()
    assert (
        "<svg" in html
        and "kozea.github.io" not in html
        and "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    )
    assert (
        'id="children"' in html and 'id="trend"' in html and 'id="by-platform"' in html
    )


def test_other_province_gets_404(scene, world):
    ns, finding, order, inspection, event = scene
    client = client_for(world.other.users[Role.SUPERVISOR])
    for url in [
        f"/supervision/?organization={ns.city.pk}",
        f"/supervision/findings/{finding.pk}/",
        f"/supervision/orders/{order.pk}/",
        f"/supervision/inspections/{inspection.pk}/",
        f"/supervision/events/{event.pk}/",
    ]:
        assert client.get(url).status_code == 404, url
