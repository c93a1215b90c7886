"""The demo's work in progress, for `manage.py seed_demo`: filings at every stage, an
exemption, credential custody and an open rotation task (registry); a province
dictionary, posts of demo-operator at every stage of review, a repost directive and a
flag (moderation).

Everything goes through the registry, moderation and accounts services with the demo
users as actors, so the audit trail and the notifications are the ones real use
writes. (The one exception: the collector that reports a post seen on a platform is
an integration, not a person, so it reports with no actor.)

Idempotent: each part looks for a natural marker of its own content (a demo account's
platform id, a post title, a dictionary or directive name, a reported platform post id,
the departed operator's username) and is skipped when it is there. The module starts
with an underscore so Django does not take it for a command.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from accounts.services import membership_end, membership_grant, user_create

# --- markers and texts -------------------------------------------------------------------
DEPARTED_USERNAME = "demo-departed"
DICTIONARY_SENSITIVE = "云岭省敏感词库"
DIRECTIVE_TITLE = "转发：云岭省人民政府关于做好冬季森林草原防灭火工作的通告"
DIRECTIVE_URL = "https://www.yunling-demo.gov.cn/zwgk/tzgg/202611/t20261120_8801.html"
FLAG_POST_ID = "demo-unapproved-7301"

# (platform code, display name, days before today the account was opened, outcome)
FILED_OPENINGS = [
    ("toutiao", "苍澜公安", 3, "approve"),
    ("kuaishou", "苍澜警方快讯", 2, "reject"),
    ("bilibili", "苍澜公安", 1, "pending"),
]
REJECT_REASON = "账号名称与本单位其他平台账号（苍澜公安）不一致，请统一名称后重新备案。"
EXEMPTION_REASON = (
    "市公安局交通警察支队需单独运营交通路况与出行提示微博，"
    "经审核同意保留第二个微博账号。"
)
SECOND_WEIBO = ("苍澜交警", 2)

POST_TITLES = {
    "draft": "冬季防范电信网络诈骗提示",
    "head": "关于调整户籍业务窗口办理时间的通告",
    "secrecy": "全市开展冬季道路交通安全集中整治",
    "override": "青岚县境内一起道路交通事故情况通报",
    "approved": "反诈宣传进校园活动走进明湖区",
    "published": "苍澜市公安局开通“一键挪车”线上服务",
}

SENSITIVE_TERMS = [
    ("内部资料", "", "hard"),
    ("绝密", "", "hard"),
    ("机密", "", "hard"),
    ("伤亡人数", "", "soft"),
    ("领导批示", "", "soft"),
]
COMMON_ERRORS = [
    ("截止到", "截至", "soft"),
    ("既使", "即使", "soft"),
    ("一如继往", "一如既往", "soft"),
    ("再接再励", "再接再厉", "soft"),
    ("按装", "安装", "soft"),
    ("迫不急待", "迫不及待", "soft"),
    ("国务院办公室", "国务院办公厅", "soft"),
]
APPROVED_SOURCES = [
    ("新华社", "", "soft"),
    ("人民日报", "", "soft"),
    ("云岭省人民政府网", "", "soft"),
    ("云岭发布", "", "soft"),
]
ALLOWED_DOMAINS = [("xinhuanet.com", "", "soft"), ("people.com.cn", "", "soft")]


def seed_work(*, orgs: dict[str, Organization], work_dept: str, password: str) -> int:
    """Create what is missing; returns how many parts were created (0 on a re-run)."""
    users = {
        u.username: u for u in User.objects.filter(username__startswith="demo-")
    }  # fresh objects: no stale scoping cache from the grants made a moment ago
    dept = orgs[work_dept]
    province = next(o for o in orgs.values() if o.depth == 1)
    created = 0
    created += _registry(users, dept)
    created += _custody(users, dept, password)
    created += _dictionaries(users, province)
    created += _posts(users, dept)
    created += _directive(users, province, dept)
    created += _flag(dept)
    return created


def _account(dept, code, *, name=None):
    from registry.models import MediaAccount

    accounts = MediaAccount.objects.filter(organization=dept, platform__code=code)
    if name:
        accounts = accounts.filter(display_name=name)
    return accounts.select_related("platform", "organization").order_by("id").first()


def _platform_id(code: str, key: str) -> str:
    from demo.management.commands.seed_demo import platform_account_id

    return platform_account_id(code, key)


# --- registry ----------------------------------------------------------------------------
def _registry(users, dept) -> int:
    """Openings approved, rejected and pending; an exemption and a second Weibo account
    filed under it; a late change filing (a second operator named 20 days ago)."""
    from registry.models import MediaAccount, Platform
    from registry.services.filings import (
        exemption_grant,
        filing_approve,
        filing_reject,
        filing_submit_change,
        filing_submit_open,
    )
    from registry.services.signoff import filing_leader_approve

    marker = _platform_id("bilibili", f"{dept.name}/bilibili/filed")
    if MediaAccount.objects.filter(platform_account_id=marker).exists():
        return 0
    operator, outsourced = users["demo-operator"], users["demo-outsourced"]
    city_supervisor, supervisor = (
        users["demo-city-supervisor"],
        users["demo-supervisor"],
    )
    today = timezone.localdate()
    platforms = {p.code: p for p in Platform.objects.all()}
    team = [operator.pk, outsourced.pk]

    def open_account(code, name, days_ago, key_suffix="filed"):
        account_id = _platform_id(code, f"{dept.name}/{code}/{key_suffix}")
        template = platforms[code].profile_url_template
        return filing_submit_open(
            actor=operator,
            organization=dept,
            platform=platforms[code],
            platform_account_id=account_id,
            display_name=name,
            event_date=today - timedelta(days=days_ago),
            operators=team,
            profile_url=template.format(account_id=account_id) if template else "",
            verification="verified",
            liaison=users["demo-liaison"].pk,
            note="新开设账号，已完成平台实名认证。",
        )

    principal = users["demo-principal"]
    for code, name, days_ago, outcome in FILED_OPENINGS:
        filing = open_account(code, name, days_ago)
        # The unit's principal leader signs each opening off first (rule 8).
        filing_leader_approve(filing=filing, actor=principal, comment="同意开设，工作方案已审定。")
        if outcome == "approve":
            filing_approve(filing=filing, actor=city_supervisor)
        elif outcome == "reject":
            filing_reject(filing=filing, actor=city_supervisor, reason=REJECT_REASON)

    exemption_grant(
        actor=supervisor,
        organization=dept,
        platform=platforms["weibo"],
        reason=EXEMPTION_REASON,
    )
    # Filed under the exemption, still awaiting the principal leader's sign-off (the
    # demo principal leader's workbench shows it).
    open_account("weibo", SECOND_WEIBO[0], SECOND_WEIBO[1], key_suffix="traffic")

    # Late: the outsourced operator has worked on the Weibo account for 20 days, and a
    # city-level account needs two operators; the change is filed only now.
    weibo = _account(dept, "weibo", name="苍澜公安")
    filing_submit_change(
        actor=operator,
        account=weibo,
        changes={"operators": team},
        event_date=today - timedelta(days=20),
        note="补报：增加外包运维人员（已签订保密协议），满足市级账号不少于2名运维人员的要求。",
    )
    return 1


def _custody(users, dept, password) -> int:
    """Custody of two accounts; an operator who moved to another post leaves an open
    credential-rotation task for the account whose credentials they held."""
    from registry.services.custody import custody_set

    if DEPARTED_USERNAME in users:
        return 0
    operator, secadmin = users["demo-operator"], users["demo-secadmin"]
    today = timezone.localdate()
    departed = user_create(
        actor=None,
        organization=dept,
        username=DEPARTED_USERNAME,
        password=password,
        display_name="演示·已调岗运维人员",
    )
    membership = membership_grant(
        actor=secadmin,
        user=departed,
        organization=dept,
        role=Role.OPERATOR,
        started_on=date(2024, 3, 1),
    )
    custody_set(
        actor=operator,
        account=_account(dept, "weibo", name="苍澜公安"),
        holder=operator,
        last_changed_on=today - timedelta(days=40),
    )
    custody_set(
        actor=operator,
        account=_account(dept, "douyin"),
        holder=departed,
        last_changed_on=today - timedelta(days=150),
    )
    # The role ends: the rotation hook opens a task for the Douyin account.
    membership_end(actor=secadmin, membership=Membership.objects.get(pk=membership.pk))
    return 1


# --- moderation --------------------------------------------------------------------------
def _dictionaries(users, province) -> int:
    from moderation.models import Dictionary, TermKind
    from moderation.services.dictionaries import dictionary_create, terms_import

    if Dictionary.objects.filter(
        organization=province, name=DICTIONARY_SENSITIVE
    ).exists():
        return 0
    supervisor = users["demo-supervisor"]
    for name, kind, rows in (
        (DICTIONARY_SENSITIVE, TermKind.SENSITIVE, SENSITIVE_TERMS),
        ("常见差错用语", TermKind.COMMON_ERROR, COMMON_ERRORS),
        ("省定稿源单位", TermKind.APPROVED_SOURCE, APPROVED_SOURCES),
        ("允许链接的域名", TermKind.ALLOWED_DOMAIN, ALLOWED_DOMAINS),
    ):
        dictionary = dictionary_create(
            actor=supervisor, organization=province, name=name, kind=kind
        )
        terms_import(actor=supervisor, dictionary=dictionary, rows=rows)
    return 1


POST_TEXTS = {
    "draft": (
        "【反诈提醒】截止到11月20日，今年全市共劝阻电信网络诈骗受害群众1200余人次。"
        "冬季网购高峰到来，请广大市民不轻信陌生来电，不点击不明链接，"
        "按装“国家反诈中心”App。反诈工作既使取得成效，也仍需再接再励。"
    ),
    "head": (
        "自2026年12月1日起，市公安局户籍业务窗口工作日办理时间调整为"
        "上午8:30至12:00、下午14:00至17:30。"
    ),
    "head_edit": (
        "自2026年12月1日起，市公安局户籍业务窗口工作日办理时间调整为"
        "上午8:30至12:00、下午14:00至17:30；周六上午9:00至12:00提供预约服务，"
        "法定节假日按市政府通知执行。咨询电话：0871-6300110。"
    ),
    "secrecy": (
        "即日起至2027年2月底，市公安局交警支队在全市开展冬季道路交通安全集中整治，"
        "重点查处酒驾醉驾、超员超速、疲劳驾驶等违法行为。请广大驾驶人安全文明出行。"
    ),
    "override": (
        "11月19日18时许，青岚县石门镇境内发生一起两车相撞的道路交通事故。"
        "经核实，伤亡人数为1人受伤，伤者已送医救治，无生命危险。事故原因正在调查中。"
    ),
    "approved": (
        "#平安校园# 11月18日，市公安局反诈民警走进明湖区第一中学，"
        "通过案例讲解、情景互动等方式，为800余名师生上了一堂生动的反诈宣传课。"
    ),
    "published": (
        "即日起，市民可通过“苍澜公安”微信公众号“一键挪车”功能，"
        "线上联系临时停放车辆的驾驶人挪车，全天候受理，无需拨打电话等候。"
    ),
}
OVERRIDE_REASON = "伤亡情况已经青岚县交警大队和县卫生健康局核实，并经县政府同意发布。"
CHANGES_COMMENT = "请补充周末预约和节假日安排，并注明咨询电话。"


def _posts(users, dept) -> int:
    """demo-operator's posts, one at each stage of review."""
    from moderation.models import Importance, Post
    from moderation.services.posts import post_create, post_submit, post_update
    from moderation.services.publication import post_mark_published
    from moderation.services.review import post_approve, post_request_changes

    if Post.objects.filter(organization=dept, title=POST_TITLES["draft"]).exists():
        return 0
    operator = users["demo-operator"]
    head = users["demo-depthead"]
    secrecy = users["demo-secrecy"]
    weibo = _account(dept, "weibo", name="苍澜公安")
    wechat = _account(dept, "wechat_subscription")
    targets = [weibo.pk, wechat.pk]

    def create(key, importance=Importance.GENERAL, column_tag=""):
        return post_create(
            actor=operator,
            organization=dept,
            title=POST_TITLES[key],
            text=POST_TEXTS[key],
            account_ids=targets,
            importance=importance,
            column_tag=column_tag,
        )

    # A draft with common errors the live pre-check marks while it is being written.
    create("draft", column_tag="反诈提醒")

    # Sent back by the department head, edited, resubmitted: the reviewer sees a diff.
    post = create("head")
    post_submit(post=post, actor=operator)
    post_request_changes(post=post, actor=head, comment=CHANGES_COMMENT)
    post_update(post=post, actor=operator, text=POST_TEXTS["head_edit"])
    post_submit(post=post, actor=operator)

    # Approved by the department head, waiting for the confidentiality review.
    post = create("secrecy")
    post_submit(post=post, actor=operator)
    post_approve(post=post, actor=head)

    # An important item with a soft pre-check hit, overridden with a reason; the
    # department head approved, the leader in charge is next.
    post = create("override", importance=Importance.IMPORTANT)
    post_submit(
        post=post, actor=operator, overrides={"sensitive:伤亡人数": OVERRIDE_REASON}
    )
    post_approve(post=post, actor=head, comment="情况属实，同意。")

    # Fully approved: the sign-off sheet is issued.
    post = create("approved", column_tag="平安校园")
    post_submit(post=post, actor=operator)
    post_approve(post=post, actor=head)
    post_approve(post=post, actor=secrecy, comment="不涉密。")

    # Approved and published on Weibo.
    post = create("published")
    post_submit(post=post, actor=operator)
    post_approve(post=post, actor=head)
    post_approve(post=post, actor=secrecy)
    post_mark_published(
        post=post,
        actor=operator,
        account=weibo,
        url=f"https://weibo.com/{weibo.platform_account_id}/PdemoYJNC1",
    )
    return 1


def _directive(users, province, dept) -> int:
    """Issued by the province supervisor three hours ago to the province's Weibo and
    WeChat accounts: Weibo's one-hour deadline has passed (overdue unless
    confirmed), WeChat's one working day has not. Two targets are confirmed."""
    from moderation.models import DirectiveTarget, RepostDirective
    from moderation.services.directives import directive_issue, target_confirm

    if RepostDirective.objects.filter(
        organization=province, title=DIRECTIVE_TITLE
    ).exists():
        return 0
    directive = directive_issue(
        actor=users["demo-supervisor"],
        organization=province,
        title=DIRECTIVE_TITLE,
        source_url=DIRECTIVE_URL,
        platform_codes=["weibo", "wechat_subscription"],
        note="请各地各部门政务微博、微信公众号按时限转发，并回填转发链接。",
        issued_at=timezone.now() - timedelta(hours=3),
    )
    targets = DirectiveTarget.objects.filter(directive=directive).select_related(
        "account", "organization"
    )
    wechat = targets.get(account=_account(dept, "wechat_subscription"))
    target_confirm(
        target=wechat,
        actor=users["demo-operator"],
        repost_url="https://mp.weixin.qq.com/s/demo-canglan-police-fire-notice",
    )
    city_gov = Organization.objects.get(name="苍澜市人民政府")
    city_weibo = targets.filter(organization=city_gov, platform__code="weibo").first()
    if city_weibo is not None:  # confirmed after the deadline: recorded as late
        target_confirm(
            target=city_weibo,
            actor=users["demo-city-operator"],
            repost_url=f"https://weibo.com/{city_weibo.account.platform_account_id}/Pdemo01",
        )
    return 1


def _flag(dept) -> int:
    """A platform collector reports a Douyin post that no review approved."""
    from moderation.models import PublishedPost
    from moderation.services.publication import published_post_report

    if PublishedPost.objects.filter(platform_post_id=FLAG_POST_ID).exists():
        return 0
    douyin = _account(dept, "douyin")
    published_post_report(
        actor=None,
        account=douyin,
        platform_post_id=FLAG_POST_ID,
        text="今晚八点直播：带你走进苍澜市公安局110指挥中心，揭秘接处警全过程！",
        url=f"https://www.douyin.com/video/{FLAG_POST_ID}",
        published_at=timezone.now() - timedelta(hours=20),
    )
    return 1
