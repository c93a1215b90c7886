"""common.bulk.insert_many: what goes in comes back exactly (PostgreSQL sends the rows
as one JSON document read by jsonb_to_recordset; other databases use bulk_create)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from common.bulk import insert_many
from inbox.models import Message, MessageEvent
from tests.inbox.factories import account_for, receive

TEXTS = ["it's \"quoted\" \\ back\\slash", "行一\n行二\t制表", "emoji 😀 and %s %(x)s {}",
         "trailing space ", "'; DROP TABLE inbox_message; --"]


def test_values_come_back_exactly_and_defaults_are_the_models(world):
    account = account_for(world.mine.city_dept, supervising=world.mine.city)
    at = datetime(2025, 3, 3, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    first = receive(account, text=TEXTS[0], at=at)
    base = {f.attname: getattr(first, f.attname) for f in Message._meta.concrete_fields
            if f.attname not in ("id", "rating_token", "created_at")}
    rows = [{**base, "text": t, "original_text": t, "platform_message_id": f"rt-{n}",
             "received_at": at + timedelta(microseconds=n), "paused_at": None}
            for n, t in enumerate(TEXTS)]
    insert_many(Message, rows, ignore_conflicts=True)
    insert_many(Message, rows[:2], ignore_conflicts=True)  # conflicts: nothing happens
    made = {m.platform_message_id: m for m in Message.objects.filter(
        platform_message_id__startswith="rt-")}
    assert len(made) == len(TEXTS)
    for n, t in enumerate(TEXTS):
        m = made[f"rt-{n}"]
        assert m.text == m.original_text == t
        assert m.received_at == at + timedelta(microseconds=n)
        assert m.received_at.astimezone(UTC).microsecond == 123456 + n
        assert m.paused_at is None and m.due_at == first.due_at
        assert m.status == first.status and m.must_answer == first.must_answer
        assert m.created_at is not None
    assert len({m.rating_token for m in made.values()} | {first.rating_token}) == 6

    data = {"nested": {"list": [1, 2.5, None, True], "text": "中文 \"q\""},
            "when": "2025-03-03"}
    insert_many(MessageEvent, [{"message_id": m.pk, "kind": MessageEvent.Kind.RECEIVED,
                                "data": data, "at": at} for m in made.values()])
    events = MessageEvent.objects.filter(message__in=made.values(), data__nested__isnull=False)
    assert events.count() == len(TEXTS)
    assert all(e.data == data and e.at == at for e in events)


def test_nothing_to_insert_sends_nothing(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        insert_many(Message, [])


@pytest.mark.parametrize("size", [1, 1001])
def test_more_rows_than_one_statement_takes(world, size):
    account = account_for(world.mine.city_dept, supervising=world.mine.city)
    first = receive(account, at=datetime(2025, 3, 3, 9, 30, tzinfo=UTC))
    base = {f.attname: getattr(first, f.attname) for f in Message._meta.concrete_fields
            if f.attname not in ("id", "rating_token", "created_at")}
    insert_many(Message, [{**base, "platform_message_id": f"many-{n}"} for n in range(size)])
    assert Message.objects.filter(platform_message_id__startswith="many-").count() == size


def test_rows_naming_different_fields_take_the_defaults_of_the_others(world):
    account = account_for(world.mine.city_dept, supervising=world.mine.city)
    first = receive(account, at=datetime(2025, 3, 3, 9, 30, tzinfo=UTC))
    insert_many(MessageEvent, [
        {"message_id": first.pk, "kind": MessageEvent.Kind.CLASSIFIED, "at": first.received_at,
         "data": {"n": 1}},
        {"message_id": first.pk, "kind": MessageEvent.Kind.ACCEPTED, "at": first.received_at},
    ])
    classified = MessageEvent.objects.get(message=first, kind=MessageEvent.Kind.CLASSIFIED)
    accepted = MessageEvent.objects.get(message=first, kind=MessageEvent.Kind.ACCEPTED)
    assert classified.data == {"n": 1} and accepted.data == {}  # the model's default
