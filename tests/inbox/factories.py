"""Builders for inbox tests: messages arrive through the ingestion service."""

from __future__ import annotations

import itertools
from datetime import datetime

from accounts.models import Role
from inbox.models import Channel, Message, Source
from inbox.services import ingest
from tests.factories import make_user
from tests.moderation.factories import make_account

_seq = itertools.count(1)


def receive(account, text="请问办理居住证需要多久？", *, at: datetime, pmid=None,
            channel=Channel.WEIBO_COMMENT, openid="") -> Message:
    """A message delivered for `account` as a collector would, at `at`."""
    org = account.organization
    raw = ingest.raw_payload_store(source=Source.COLLECTOR, organization=org, body="{}")
    result = ingest.messages_receive(items=[ingest.Incoming(
        organization=org, channel=channel, text=text, received_at=at, account=account,
        platform_message_id=pmid or f"m{next(_seq)}", citizen_handle="网友甲",
        citizen_openid=openid)], source=Source.COLLECTOR, raw_payload=raw)
    return Message.objects.get(pk=result.created[0])


def manual(org, text="热线转来：小区噪音扰民，请处理。", actor=None) -> Message:
    return ingest.message_create_manual(actor=actor or make_user(org, Role.OPERATOR),
                                        organization=org, channel=Channel.HOTLINE,
                                        text=text)


def account_for(org, platform_code="weibo", supervising=None):
    return make_account(org, platform_code, supervising=supervising)
