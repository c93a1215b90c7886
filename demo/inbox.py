"""Demo citizen messages for 苍澜市公安局: one in every state, made through the same
services real use goes through (so each step has its timeline, audit event and
notifications). Idempotent: a second run finds the first demo message and stops."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

DEPT = "苍澜市公安局"
MARK = "demo-inbox-"

MESSAGES = [
    # key, channel, text, days ago, final state
    ("new", "weibo_comment", "请问办理居住证需要准备哪些材料？多久能拿到？", 0, "new"),
    ("accepted", "weibo_private", "建议在城东新区增设一个户籍窗口，现在排队太久了。", 1, "accepted"),
    ("pending", "weibo_comment", "投诉：某派出所窗口工作人员态度差，推诿不办。联系电话13812345678。", 2,
     "pending"),
    ("waiting", "weibo_private", "咨询：身份证丢失补办，户籍不在本地怎么办？", 2, "waiting"),
    ("replied", "weibo_comment", "请问驾驶证到期换证可以网上办理吗？", 3, "replied"),
    ("resolved", "weibo_comment", "感谢交警同志雨中指挥交通，辛苦了！", 4, "resolved"),
    ("reopened", "weibo_private", "举报：小区附近有人深夜飙车，噪音扰民，之前反映过没人管。", 6,
     "reopened"),
    ("transferred", "weibo_comment", "学校门口上下学时段交通拥堵，建议教育部门调整放学时间。", 1,
     "transferred"),
    ("breached", "weibo_comment", "请问出入境证件加急办理需要多长时间？", 12, "new"),
    ("extended", "weibo_private", "投诉：小区周边违章停车长期无人处理。", 3, "extended"),
]
WECHAT_TEXT = "请问公积金提取需要多久？我是外地户口。"


def seed(*, stdout) -> int:
    from accounts.models import Organization, User
    from inbox.models import Message, Reply, Source
    from inbox.services import handling, ingest, timers
    from registry.models import MediaAccount

    dept = Organization.objects.filter(name=DEPT).first()
    if dept is None or Message.objects.filter(platform_message_id__startswith=MARK).exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    operator, liaison, head = (users["demo-operator"], users["demo-liaison"],
                               users["demo-depthead"])
    weibo = (MediaAccount.objects.filter(organization=dept, platform__code="weibo")
             .select_related("organization", "supervising_organization").order_by("id")
             .first())
    if weibo is None:
        return 0
    sibling = (Organization.objects.filter(path__startswith=weibo.supervising_organization.path,
                                           kind="department").exclude(pk=dept.pk)
               .order_by("path").first())
    now = timezone.now()
    created = 0
    with transaction.atomic():
        raw = ingest.raw_payload_store(source=Source.COLLECTOR, organization=dept,
                                       account=weibo, body="demo", meta={"demo": True})
        items = [ingest.Incoming(organization=dept, channel=channel, text=text,
                                 received_at=now - timedelta(days=days, hours=1),
                                 account=weibo, platform_message_id=f"{MARK}{key}",
                                 citizen_handle=f"网友{n + 1}")
                 for n, (key, channel, text, days, _s) in enumerate(MESSAGES)]
        result = ingest.messages_receive(items=items, source=Source.COLLECTOR,
                                         raw_payload=raw)
        created += len(result.created)
        by_key = {m.platform_message_id.removeprefix(MARK): m for m in
                  Message.objects.filter(platform_message_id__startswith=MARK)}

        def answer(message, text, *, publish=True):
            reply = handling.reply_submit(message=message, actor=operator, text=text)
            if publish:
                handling.reply_approve(reply=reply, actor=head)
                handling.reply_publish(reply=reply, actor=operator,
                                       route=Reply.Route.PLATFORM)
            return reply

        for key, _c, _t, _d, state in MESSAGES:
            message = by_key[key]
            if state == "new":
                continue
            if state == "transferred":
                if sibling is not None:
                    handling.message_transfer(message=message, to_organization=sibling,
                                              actor=liaison, note="属教育部门职责")
                continue
            handling.message_classify(message=message,
                                      category=message.suggested_category or "other",
                                      actor=liaison)
            handling.message_accept(message=message, actor=operator)
            if state == "pending":
                answer(message, "您反映的情况已转派出所核查，将依规处理并回复。", publish=False)
            elif state == "waiting":
                handling.message_pause(message=message, actor=operator,
                                       note="请留言人补充户籍所在地")
            elif state == "extended":
                handling.message_extend(message=message, actor=operator, days=10,
                                        interim_text="已交交警大队核查，处理需要时间，请耐心等待。")
            elif state in ("replied", "resolved", "reopened"):
                answer(message, "您好，已收到您的留言，相关情况已处理，感谢您的监督与支持。")
                if state == "resolved":
                    handling.message_rate(message=message, rating="satisfied")
                elif state == "reopened":
                    handling.message_rate(message=message, rating="dissatisfied")
        wechat = (MediaAccount.objects.filter(organization=dept,
                                              platform__code__startswith="wechat")
                  .select_related("organization", "supervising_organization").first())
        if wechat is not None:
            raw = ingest.raw_payload_store(source=Source.WECHAT, organization=dept,
                                           account=wechat, body="demo", meta={"demo": True})
            created += len(ingest.messages_receive(items=[ingest.Incoming(
                organization=dept, channel="wechat", text=WECHAT_TEXT,
                received_at=now - timedelta(hours=47), account=wechat,
                platform_message_id=f"{MARK}wechat", citizen_handle="oDemoFollower",
                citizen_openid="oDemoFollower")], source=Source.WECHAT,
                raw_payload=raw).created)
    # The timers as the beat runs them: the old message is marked breached.
    timers.inbox_sweep()
    stdout.write(f"Inbox demo: {created} citizen messages in every state.")
    return created
