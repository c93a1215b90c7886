"""Shortcuts of the ledger page (issue 9): its rows printed in Python, against the
template loop they replace (the same bytes, escaping included, in both languages);
the platform choices; the filters copied per FilterSet; the memoized selects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext, pgettext

from accounts.models import Role
from registry import ledger
from registry.models import AccountCategory, AccountStatus, MediaAccount, Platform
from registry.views.ledger import STATUS_BADGE, _ledger_rows_html
from tests.registry.ledger_factories import make_account

# The loop of templates/registry/ledger.html before issue 9, over the dicts the view
# then built (`_reference_rows`).
REFERENCE = """{% load i18n %}{% for a in accounts %}<tr>
    <td><a href="{{ a.url }}">{{ a.display_name }}</a><br><span class="muted">{{ a.platform_account_id }}</span></td>
    <td>{{ a.platform }}</td>
    <td>{{ a.organization }}<br><span class="muted">{% translate "Supervised by" %} {{ a.supervising }}</span></td>
    <td><span class="badge {{ a.status_badge }}">{{ a.status_label }}</span></td>
    <td>{{ a.category }}</td>
    <td>{{ a.verification }}</td>
    <td>{% if a.operators %}{{ a.operators }}{% else %}<span class="muted">—</span>{% endif %}</td>
    <td class="num">{{ a.followers }}</td>
    <td class="nowrap">{% if a.last_post_at %}{{ a.last_post_at|date:"Y-m-d" }}<br><span class="muted{% if a.idle %} idle{% endif %}">{{ a.idle_label }}</span>{% else %}<span class="muted">{% translate "Never" %}</span>{% endif %}</td>
  </tr>
  {% endfor %}"""  # noqa: E501


def _reference_rows(rows, idle_days):
    link = reverse("registry:account_detail", args=[0])[:-2]
    labels = {
        field: dict(MediaAccount._meta.get_field(field).flatchoices)
        for field in ("status", "category", "verification")
    }
    separator = pgettext("list separator", ", ")
    return [
        {
            "url": f"{link}{a.pk}/",
            "display_name": a.display_name,
            "platform_account_id": a.platform_account_id,
            "platform": a.platform,
            "organization": a.organization,
            "supervising": a.supervising_organization,
            "status_label": labels["status"].get(a.status, a.status),
            "status_badge": STATUS_BADGE.get(a.status, "warn"),
            "category": labels["category"].get(a.category, a.category),
            "verification": labels["verification"].get(a.verification, a.verification),
            "operators": separator.join(a.operators),
            "followers": a.followers,
            "last_post_at": a.last_post_at,
            "idle": a.idle_days > idle_days,
            "idle_label": ngettext("%(days)s day ago", "%(days)s days ago", a.idle_days)
            % {"days": a.idle_days},
        }
        for a in rows
    ]


@pytest.fixture
def tricky(world):
    mine = world.mine
    now = timezone.now()
    op = mine.users[Role.OPERATOR]
    op.display_name = 'Ops <b>"&\''
    op.save(update_fields=["display_name"])
    return [
        make_account(
            mine.city_dept,
            '<script>alert("x")</script> & \'甲\'',
            platform_account_id="<id>&\"'",
            followers=1234567,
            # 00:30 the next day in Shanghai: the date shown is the local one
            last_post_at=now.replace(hour=16, minute=30) - timedelta(days=1),
            operators=[op, mine.users[Role.SUPERVISOR]],
        ),
        make_account(
            mine.county_dept,
            "甲一教育",
            platform="douyin",
            status=AccountStatus.CANCELLED,
            category=AccountCategory.LEADER,
            last_post_at=now - timedelta(days=400),
        ),
        make_account(
            mine.county,
            "从未发布",
            status=AccountStatus.PENDING,
            opened_on=timezone.localdate() - timedelta(days=1),
        ),
        make_account(mine.county, "一天", last_post_at=now - timedelta(days=1, hours=1)),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("idle_days", [0, 30])
def test_rows_print_what_the_template_printed(tricky, language, idle_days):
    rows = ledger.ledger_rows(_ids(tricky, "pk"))
    assert [r.pk for r in rows] == [a.pk for a in tricky]
    template = engines["django"].from_string(REFERENCE)
    with translation.override(language):
        expected = template.render({"accounts": _reference_rows(rows, idle_days)})
        assert _ledger_rows_html(rows, idle_days) == expected
    assert "&lt;script&gt;" in expected and "<script>" not in expected


@pytest.mark.django_db
def test_page_escapes_the_rows(world, tricky, client):
    client.force_login(world.mine.users[Role.SUPERVISOR])
    body = client.get(reverse("registry:ledger"), {"sort": "name"}).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;甲&#x27;" in body
    assert "<script>alert" not in body
    assert "Ops &lt;b&gt;&quot;&amp;&#x27;" in body


@pytest.mark.django_db
def test_rows_keep_the_order_of_the_page(tricky):
    newest_first = [a.pk for a in reversed(tricky)]
    assert [r.pk for r in ledger.ledger_rows(_ids(tricky, "-pk"))] == newest_first
    assert [r.pk for r in ledger.ledger_rows(_ids(tricky, "-pk")[1:3])] == (
        newest_first[1:3]
    )
    assert ledger.ledger_rows(MediaAccount.objects.none().values_list("pk")) == []


def _ids(accounts, *order):
    return (
        MediaAccount.objects.filter(pk__in=[a.pk for a in accounts])
        .order_by(*order)
        .values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_platform_choices_are_one_plain_query(world):
    form = ledger.ledger_filter(world.mine.users[Role.SUPERVISOR], {"q": ""}).form
    with CaptureQueriesContext(connection) as queries:
        html = str(form["platform"])
    assert len(queries) == 1
    assert "DECLARE" not in queries[0]["sql"]  # no server-side cursor
    assert all(f'value="{code}"' in html for code in Platform.objects.values_list(
        "code", flat=True
    ))
    wrong = ledger.ledger_filter(world.mine.users[Role.SUPERVISOR], {"platform": "x"})
    assert not wrong.is_valid() and "platform" in wrong.errors


@pytest.mark.django_db
def test_each_filter_answers_to_its_own_filterset(world):
    """The declared filters are copied shallowly per FilterSet: a method filter must
    still ask its own FilterSet (its request's user), never the last one built."""
    from django.http import Http404

    mine = make_account(world.mine.city_dept, "本省账号")
    theirs = make_account(world.other.city_dept, "外省账号")
    first = ledger.ledger_filter(
        world.mine.users[Role.SUPERVISOR], {"org": str(world.mine.city.pk)}
    )
    second = ledger.ledger_filter(
        world.other.users[Role.SUPERVISOR], {"org": str(world.other.city.pk)}
    )
    assert first.is_valid() and second.is_valid()
    assert list(first.qs) == [mine] and list(second.qs) == [theirs]
    assert first.filters["org"] is not second.filters["org"]
    assert first.filters["org"].parent is first
    foreign = ledger.ledger_filter(
        world.mine.users[Role.SUPERVISOR], {"org": str(world.other.city.pk)}
    )
    assert foreign.is_valid()
    with pytest.raises(Http404):
        list(foreign.qs)


@pytest.mark.django_db
def test_memoized_selects_are_what_django_prints(world):
    """The filter form's fixed-choice <select>s are memoized per form, field, value
    and language: each must be what Django prints for that form, whatever was
    printed before it (another language, another value)."""
    from registry.views import ledger as views

    user = world.mine.users[Role.SUPERVISOR]
    views._SELECTS.clear()
    for language in ("zh-hans", "en", "zh-hans", "en"):
        for params in (
            {"sort": "name", "status": AccountStatus.ACTIVE, "idle": "true"},
            {"sort": "-followers", "platform": "weibo"},
        ):
            with translation.override(language):
                form = ledger.ledger_filter(user, params).form
                assert form.is_valid()
                fields = views._filter_fields(form)
                assert [html for _bound, html in fields] == [
                    str(bound) for bound, _html in fields
                ]
    assert views._SELECTS
    with translation.override("en"):
        wrong = ledger.ledger_filter(user, {"status": "nope", "sort": "name"}).form
        assert not wrong.is_valid()
        fields = views._filter_fields(wrong)
        assert 'aria-invalid="true"' in dict((b.name, h) for b, h in fields)["status"]
