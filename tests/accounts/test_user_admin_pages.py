"""User administration in the browser for the security administrator (issue 13,
item 7): list, create with the first role, deactivate/reactivate, grant and end roles,
lift a lockout. Each change is audited by its service; the role rules show as form
errors in Chinese; another province's people answer 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Role, User
from audit.models import AuditEvent
from tests.factories import make_user

NEW_PASSWORD = "Temp-Passw0rd-2026!"


@pytest.fixture
def sec(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.mine.users[Role.SECURITY_ADMIN])
    return client


def _lock(username: str) -> None:
    AccessAttempt.objects.create(
        username=username,
        ip_address="203.0.113.9",
        user_agent="test",
        failures_since_start=5,
        attempt_time=timezone.now() - timedelta(minutes=1),
    )


def test_only_the_security_administrator_has_the_pages(world):
    for role in Role:
        client = Client()
        client.force_login(world.mine.users[role])
        expected = 200 if role == Role.SECURITY_ADMIN else 404
        assert client.get("/accounts/users/").status_code == expected, role
        assert client.get("/accounts/users/new/").status_code == expected, role
        person = world.mine.users[Role.OPERATOR]
        assert client.get(f"/accounts/users/{person.pk}/").status_code == expected, role


def test_the_list_filters_searches_totals_and_pages(world, sec):
    for i in range(25):
        make_user(world.mine.county_dept, Role.LIAISON, username=f"liaison-{i:02d}")
    _lock("liaison-03")
    page = sec.get("/accounts/users/").context["page"]
    mine = len(world.mine.users) + 1 + 25  # one per role, the city supervisor, the 25
    assert page.paginator.count == mine and page.paginator.per_page == 20
    assert not any(u.username.startswith("乙") for u in page.paginator.object_list)
    html = sec.get("/accounts/users/", {"per_page": 50}).content.decode()
    assert f'data-total="{mine}"' in html and 'aria-sort="none"' in html
    by_role = sec.get("/accounts/users/", {"role": Role.LIAISON}).context["page"]
    assert by_role.paginator.count == 26
    found = sec.get("/accounts/users/", {"q": "liaison-1"}).context["page"]
    assert {u.username for u in found} == {f"liaison-{i}" for i in range(10, 20)}
    locked = sec.get("/accounts/users/", {"status": "locked"}).context["page"]
    assert [u.username for u in locked] == ["liaison-03"]
    desc = sec.get("/accounts/users/", {"sort": "-username", "per_page": 100})
    names = [u.username for u in desc.context["page"]]
    assert names == sorted(names, reverse=True)
    # Bad input falls back quietly.
    assert (
        sec.get(
            "/accounts/users/", {"per_page": "7", "sort": "x", "role": "z"}
        ).status_code
        == 200
    )


def test_the_list_query_count_does_not_grow(world, sec, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sec.get("/accounts/users/")
    with CaptureQueriesContext(connection) as ctx:
        sec.get("/accounts/users/")
    for i in range(15):
        make_user(world.mine.county_dept, Role.OPERATOR, username=f"more-{i}")
    with django_assert_max_num_queries(len(ctx)):
        assert sec.get("/accounts/users/").status_code == 200


def test_export_is_localized_and_scoped(world, sec):
    response = sec.get(
        "/accounts/users/export/", {"file_format": "csv", "role": "liaison"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = text.strip().splitlines()
    assert header.startswith("用户名")
    assert len(rows) == 1 and "甲-liaison" in rows[0] and "是" in rows[0]
    assert "filename" in response["Content-Disposition"]
    xlsx = sec.get("/accounts/users/export/", {"file_format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith(
        "application/vnd"
    )


def test_create_a_user_with_the_first_role_audited(world, sec):
    org = world.mine.county_dept
    response = sec.post(
        "/accounts/users/new/",
        {
            "username": "zhang.san",
            "display_name": "张三",
            "email": "",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "organization": org.pk,
            "role": Role.OPERATOR,
        },
    )
    person = User.objects.get(username="zhang.san")
    assert (
        response.status_code == 302
        and response["Location"] == f"/accounts/users/{person.pk}/"
    )
    assert person.must_change_password and person.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=person).organization == org
    events = list(
        AuditEvent.objects.filter(target_id__in=[str(person.pk)], action="user.created")
    )
    assert len(events) == 1 and events[0].role == Role.SECURITY_ADMIN
    assert (
        AuditEvent.objects.filter(
            action="membership.granted", after__user="zhang.san"
        ).count()
        == 1
    )


def test_create_refusals_are_chinese_field_errors_and_write_nothing(world, sec):
    base = {
        "username": "li.si",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "organization": world.mine.county_dept.pk,
        "role": Role.OUTSOURCED_OPERATOR,
    }
    before = (User.objects.count(), AuditEvent.objects.count())
    # An outsourced operator needs the confidentiality agreement (membership_grant).
    form = sec.post("/accounts/users/new/", base).context["form"]
    assert "agreement_document" in form.errors and "保密" in str(form.errors)
    # Another province's organization is not a choice.
    form = sec.post(
        "/accounts/users/new/",
        {**base, "role": Role.OPERATOR, "organization": world.other.city.pk},
    ).context["form"]
    assert "organization" in form.errors
    # A taken username, passwords that differ, a weak password.
    form = sec.post(
        "/accounts/users/new/",
        {**base, "role": Role.OPERATOR, "username": "甲-operator"},
    ).context["form"]
    assert "已" in str(form.errors["username"])
    form = sec.post("/accounts/users/new/", {**base, "password_again": "x"}).context[
        "form"
    ]
    assert "password_again" in form.errors
    form = sec.post(
        "/accounts/users/new/",
        {**base, "role": Role.OPERATOR, "password": "short", "password_again": "short"},
    ).context["form"]
    assert "password" in form.errors
    assert (User.objects.count(), AuditEvent.objects.count()) == before


def test_another_provinces_person_is_404_for_every_action(world, sec):
    far = world.other.users[Role.OPERATOR]
    assert sec.get(f"/accounts/users/{far.pk}/").status_code == 404
    for op in ("deactivate", "reactivate", "unlock", "end", "grant"):
        assert sec.post(f"/accounts/users/{far.pk}/", {"op": op}).status_code == 404
    assert User.objects.get(pk=far.pk).is_active
    # A role of one's own person cannot be ended through another person's page.
    mine = world.mine.users[Role.LIAISON]
    far_role = Membership.objects.get(user=far)
    assert (
        sec.post(
            f"/accounts/users/{mine.pk}/", {"op": "end", "membership": far_role.pk}
        ).status_code
        == 404
    )
    assert Membership.objects.get(pk=far_role.pk).is_active


def test_deactivate_reactivate_audited(world, sec):
    person = world.mine.users[Role.LIAISON]
    url = f"/accounts/users/{person.pk}/"
    assert sec.post(url, {"op": "deactivate"}).status_code == 302
    assert not User.objects.get(pk=person.pk).is_active
    page = sec.get(url).content.decode()
    assert 'id="reactivate-button"' in page
    assert sec.post(url, {"op": "reactivate"}).status_code == 302
    assert User.objects.get(pk=person.pk).is_active
    actions = list(
        AuditEvent.objects.filter(target_id=str(person.pk), action__startswith="user.")
        .values_list("action", flat=True)
        .order_by("id")
    )
    assert actions[-2:] == ["user.deactivated", "user.reactivated"]
    # Twice in a row: the page says why, nothing changes.
    response = sec.post(url, {"op": "reactivate"}, follow=True)
    assert (
        "已" in response.content.decode() and User.objects.get(pk=person.pk).is_active
    )
    # Nobody deactivates themselves.
    me = world.mine.users[Role.SECURITY_ADMIN]
    sec.post(f"/accounts/users/{me.pk}/", {"op": "deactivate"})
    assert User.objects.get(pk=me.pk).is_active


def test_grant_and_end_roles_with_the_rules_shown(world, sec):
    person = world.mine.users[Role.LIAISON]
    url = f"/accounts/users/{person.pk}/"
    # 三员分立: a business person cannot also be an administrator.
    response = sec.post(
        url,
        {
            "op": "grant",
            "organization": world.mine.province.pk,
            "role": Role.AUDIT_ADMIN,
        },
    )
    assert response.status_code == 200
    errors = response.context["grant_form"].errors
    assert "三员分立" in " ".join(errors["role"])
    assert not Membership.objects.filter(user=person, role=Role.AUDIT_ADMIN).exists()
    # The same role twice: a clear message above the form.
    response = sec.post(
        url,
        {"op": "grant", "organization": world.mine.city_dept.pk, "role": Role.LIAISON},
    )
    assert "已" in " ".join(response.context["grant_form"].non_field_errors())
    # A business role beside the other is fine.
    response = sec.post(
        url,
        {"op": "grant", "organization": world.mine.city_dept.pk, "role": Role.OPERATOR},
    )
    assert response.status_code == 302
    granted = Membership.objects.get(user=person, role=Role.OPERATOR, is_active=True)
    assert sec.post(url, {"op": "end", "membership": granted.pk}).status_code == 302
    granted.refresh_from_db()
    assert not granted.is_active and granted.ended_on
    assert AuditEvent.objects.filter(
        action="membership.ended", target_id=str(granted.pk)
    ).exists()


def test_unlock_lifts_the_lockout_audited(world, sec):
    person = world.mine.users[Role.OPERATOR]
    _lock(person.username)
    url = f"/accounts/users/{person.pk}/"
    page = sec.get(url)
    assert (
        page.context["person"].locked and 'id="unlock-button"' in page.content.decode()
    )
    assert sec.post(url, {"op": "unlock"}).status_code == 302
    assert not AccessAttempt.objects.filter(username=person.username).exists()
    event = AuditEvent.objects.get(action="auth.unlocked")
    assert event.role == Role.SECURITY_ADMIN and event.target_id == str(person.pk)
    assert not sec.get(url).context["person"].locked


def test_roles_and_people_list_has_totals_sort_page_size_and_exports(world, sec):
    for i in range(22):
        make_user(world.mine.county_dept, Role.LIAISON, username=f"lia-{i:02d}")
    response = sec.get("/accounts/access/", {"sort": "-person"})
    page = response.context["page"]
    html = response.content.decode()
    mine = len(world.mine.users) + 1 + 22
    assert page.paginator.count == mine and page.paginator.per_page == 20
    assert f'data-total="{mine}"' in html and 'data-key="role"' in html
    names = [m.user.username for m in page]
    assert names == sorted(names, reverse=True)
    response = sec.get("/accounts/access/export/", {"file_format": "csv", "role": "liaison"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = text.strip().splitlines()
    assert header.startswith("用户名") and len(rows) == 23
    assert all("联络员" in row and "是" in row for row in rows)
    assert not any(row.startswith("乙") for row in rows)
    xlsx = sec.get("/accounts/access/export/")
    assert xlsx.status_code == 200 and ".xlsx" in xlsx["Content-Disposition"]
    auditor = Client()
    auditor.force_login(world.mine.users[Role.AUDITOR])
    assert auditor.get("/accounts/access/export/").status_code == 404


def test_the_security_administrators_card_counts_locked_out_sign_ins(world):
    from common import workbench

    def card(user):
        return {c.key: c for c in workbench.cards_for(user)}["locked_out"]

    sec_user = world.mine.users[Role.SECURITY_ADMIN]
    assert card(sec_user).count == 0 and card(sec_user).state == "done"
    _lock(world.mine.users[Role.OPERATOR].username)
    _lock(world.other.users[Role.OPERATOR].username)
    mine = card(sec_user)
    assert mine.count == 1 and mine.url == "/accounts/users/?status=locked"
    assert card(world.other.users[Role.SECURITY_ADMIN]).count == 1
    assert "locked_out" not in {c.key for c in workbench.cards_for(world.mine.users[Role.OPERATOR])}


def _organization_choices(response, form="form") -> set[str]:
    return {
        str(value) for value, _label in response.context[form].fields["organization"].choices
        if value != ""
    }


def test_the_organization_choice_is_searched_on_the_server(world, sec):
    mine = world.mine
    everything = _organization_choices(sec.get("/accounts/users/new/"))
    assert str(mine.county_dept.pk) in everything and str(mine.city_dept.pk) in everything
    assert str(world.other.city_dept.pk) not in everything
    # A GET with org_q narrows the choices to the matching names.
    found = _organization_choices(sec.get("/accounts/users/new/", {"org_q": "教育"}))
    assert found == {str(mine.county_dept.pk)}
    # Another province's organization is never found, by name or region code.
    assert _organization_choices(
        sec.get("/accounts/users/new/", {"org_q": "乙一县教育局"})) == set()
    assert _organization_choices(sec.get("/accounts/users/new/", {"org_q": "44"})) == set()
    # The search button posts the form: it comes back unbound, narrowed, with what
    # was typed kept (never the passwords) and nothing created.
    response = sec.post("/accounts/users/new/", {
        "find": "1", "org_q": "公安", "username": "li.si", "display_name": "李四",
        "password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
    })
    assert response.status_code == 200 and not User.objects.filter(username="li.si").exists()
    form = response.context["form"]
    assert not form.is_bound and form.initial["username"] == "li.si"
    assert "password" not in form.initial
    assert _organization_choices(response) == {str(mine.city_dept.pk)}
    html = response.content.decode()
    assert 'value="li.si"' in html and NEW_PASSWORD not in html
    assert 'name="find"' in html and "js/org_filter.js" in html
    # Then the form is sent with the search kept: the user is created.
    response = sec.post("/accounts/users/new/", {
        "org_q": "公安", "username": "li.si", "display_name": "李四",
        "password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
        "organization": mine.city_dept.pk, "role": Role.OPERATOR,
    })
    assert response.status_code == 302
    # An organization outside the search's matches is refused, not silently taken.
    response = sec.post("/accounts/users/new/", {
        "org_q": "公安", "username": "wang.wu", "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD, "organization": mine.county_dept.pk,
        "role": Role.OPERATOR,
    })
    assert response.status_code == 200 and "organization" in response.context["form"].errors


def test_the_grant_forms_organization_is_searched_too(world, sec):
    mine = world.mine
    person = world.mine.users[Role.LIAISON]
    url = f"/accounts/users/{person.pk}/"
    found = _organization_choices(sec.get(url, {"org_q": "教育"}), "grant_form")
    assert found == {str(mine.county_dept.pk)}
    response = sec.post(url, {"op": "grant", "find": "1", "org_q": "公安",
                              "role": Role.OPERATOR})
    assert response.status_code == 200
    assert _organization_choices(response, "grant_form") == {str(mine.city_dept.pk)}
    assert response.context["grant_form"].initial["role"] == Role.OPERATOR
    assert not Membership.objects.filter(user=person, role=Role.OPERATOR).exists()


def test_the_choice_list_is_capped_but_a_chosen_organization_stays(world, sec,
                                                                     monkeypatch):
    from accounts import forms

    monkeypatch.setattr(forms, "ORGANIZATIONS_SHOWN", 2)
    mine = world.mine
    shown = _organization_choices(sec.get("/accounts/users/new/"))
    assert len(shown) == 2 and str(mine.county_dept.pk) not in shown
    response = sec.post("/accounts/users/new/", {
        "username": "zhao.liu", "password": NEW_PASSWORD, "password_again": "x",
        "organization": mine.county_dept.pk, "role": Role.OPERATOR,
    })
    assert str(mine.county_dept.pk) in _organization_choices(response)
    assert f'<option value="{mine.county_dept.pk}" selected>' in response.content.decode()
