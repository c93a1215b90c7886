"""Filing pages: the new-filing form pre-filled from the counterfeit check's link, and
moving an account to another sponsoring organization through a change filing."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from registry.derive import derive_supervising
from registry.models import AccountStatus, Filing, FilingStatus
from tests.registry.helpers import active_account


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    found = re.search(r'<option value="(\d+)" selected>', select.group(1))
    return found.group(1) if found else None


def _operator_in_two(world):
    """The operator also runs accounts of the county department."""
    operator = world.mine.users[Role.OPERATOR]
    account_services.membership_grant(
        actor=None, user=operator, organization=world.mine.county_dept, role=Role.OPERATOR
    )
    return operator


# --- pre-filling the new filing from the counterfeit check's link ----------------------------
def test_new_filing_is_prefilled_from_the_query_string(world):
    operator = _operator_in_two(world)
    r = _page(operator).get(
        "/registry/filings/new/",
        {
            "display_name": "甲一县教育发布",
            "profile_url": "https://weibo.com/u/3210987654?from=x",
            "organization": world.mine.county_dept.pk,
        },
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert 'value="甲一县教育发布"' in html
    assert 'value="https://weibo.com/u/3210987654"' in html  # canonical
    assert 'value="3210987654"' in html  # account id read from the URL
    assert _selected(html, "organization") == str(world.mine.county_dept.pk)
    assert _selected(html, "platform") is not None


def test_prefill_ignores_organizations_the_user_does_not_file_for(world):
    operator = _operator_in_two(world)
    for org in (world.other.city_dept, world.mine.city, world.mine.province):
        r = _page(operator).get(
            "/registry/filings/new/", {"display_name": "某发布", "organization": org.pk}
        )
        html = r.content.decode()
        assert r.status_code == 200
        assert _selected(html, "organization") is None, org
        assert org.name not in html
    # nonsense values are dropped, never a 500
    r = _page(operator).get(
        "/registry/filings/new/",
        {"organization": "abc", "profile_url": "not a url", "display_name": "x" * 500},
    )
    assert r.status_code == 200
    assert _selected(r.content.decode(), "organization") is None
    assert 'value="' + "x" * 100 + '"' in r.content.decode()


def test_the_counterfeit_link_leads_to_a_prefilled_form(world):
    operator = world.mine.users[Role.OPERATOR]
    url = "/registry/filings/new/?display_name=%E7%94%B2%E4%B8%80%E5%85%AC%E5%AE%89&profile_url=" \
          f"https%3A%2F%2Fweibo.com%2Fu%2F1234567890&organization={world.mine.city_dept.pk}"
    html = _page(operator).get(url).content.decode()
    assert 'value="甲一公安"' in html and 'value="1234567890"' in html


# --- moving an account by a change filing ------------------------------------------------------
def _change_post(account, **overrides) -> dict:
    data = {
        "organization": account.organization_id,
        "display_name": account.display_name,
        "profile_url": account.profile_url,
        "category": account.category,
        "verification": account.verification,
        "operators": list(account.operators.values_list("pk", flat=True)),
        "liaison": "",
        "event_date": str(timezone.localdate()),
        "note": "",
    }
    data.update(overrides)
    return data


def test_the_change_form_offers_only_organizations_in_the_filers_scope(world):
    operator = _operator_in_two(world)
    account = active_account(world.mine)
    html = _page(operator).get(f"/registry/accounts/{account.pk}/file/change/").content.decode()
    select = re.search(r'<select name="organization"[^>]*>(.*?)</select>', html, re.S).group(1)
    offered = set(re.findall(r'<option value="(\d+)"', select))
    assert offered == {str(world.mine.city_dept.pk), str(world.mine.county_dept.pk)}
    # a foreign or out-of-scope organization posted anyway is a field error, not a move
    for org in (world.other.county_dept, world.mine.city):
        r = _page(operator).post(
            f"/registry/accounts/{account.pk}/file/change/",
            _change_post(account, organization=org.pk),
        )
        assert r.status_code == 200
        assert re.search(r'id="field-organization".*?class="field-error"', r.content.decode(), re.S)
    assert not Filing.objects.filter(account=account, kind="change").exists()


def test_move_to_another_organization_through_approval(world):
    operator = _operator_in_two(world)
    account = active_account(world.mine)
    old_org, new_org = world.mine.city_dept, world.mine.county_dept
    r = _page(operator).post(
        f"/registry/accounts/{account.pk}/file/change/",
        _change_post(account, organization=new_org.pk, operators=[operator.pk]),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    filing = Filing.objects.get(account=account, kind="change")
    assert filing.after == {"organization": new_org.pk, "operators": [operator.pk]}
    account.refresh_from_db()
    assert account.organization == old_org  # nothing moves before approval

    supervisor = _page(world.mine.city_supervisor)  # the supervising organization decides
    r = supervisor.post(f"/registry/filings/{filing.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 302
    filing.refresh_from_db()
    account.refresh_from_db()
    assert filing.status == FilingStatus.APPROVED
    assert account.status == AccountStatus.ACTIVE
    assert account.organization == new_org
    assert account.org_path == new_org.path
    assert account.region_code == new_org.region_code == "330121"
    assert account.supervising_organization == derive_supervising(new_org)
    assert account.supervising_organization != derive_supervising(old_org)
    assert list(account.operators.all()) == [operator]

    # the ledger lists it under the new organization, no longer under the old one
    under_new = supervisor.get("/registry/ledger/", {"org": new_org.pk}).content.decode()
    under_old = supervisor.get("/registry/ledger/", {"org": old_org.pk}).content.decode()
    assert f"/registry/accounts/{account.pk}/" in under_new
    assert f"/registry/accounts/{account.pk}/" not in under_old
    api = supervisor.get("/api/v1/media-accounts/", {"organization": new_org.pk}).json()
    assert [a["id"] for a in api["results"]] == [account.pk]
