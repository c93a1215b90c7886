"""A small demo tree for screenshots and manual UI checks, when `seed_demo` is absent.

Run with: GOVMEDIA_VAR_DIR=/tmp/ui_var .venv/bin/python manage.py shell -c \
    "import tools.ui_demo_data as d; d.build()"
Creates user `demo-supervisor` (password DEMO_PASSWORD) at the province, with the
supervisor, auditor and security-administrator roles. Safe to run twice.
"""

from __future__ import annotations

from datetime import date

from accounts import services
from accounts.models import Level, Organization, OrgKind, Role, User

DEMO_PASSWORD = "Demo-password-2026!"
G, S, D, INST = (
    OrgKind.GOVERNMENT,
    OrgKind.SUPERVISING_OFFICE,
    OrgKind.DEPARTMENT,
    OrgKind.INSTITUTION,
)


def _org(parent, name, kind, level, code):
    return services.organization_create(
        actor=None, parent=parent, name=name, kind=kind, level=level, region_code=code
    )


def _user(org, username, display, roles):
    user = services.user_create(
        actor=None,
        organization=org,
        username=username,
        password=DEMO_PASSWORD,
        display_name=display,
    )
    for role in roles:
        extra = {}
        if role == Role.OUTSOURCED_OPERATOR:
            extra = {
                "agreement_signed_on": date(2026, 1, 5),
                "agreement_document": "保密协议-2026-001",
            }
        services.membership_grant(
            actor=None, user=user, organization=org, role=role, **extra
        )
    return user


def build():
    if User.objects.filter(username="demo-supervisor").exists():
        print("demo data already present")
        return
    P, C, X = Level.PROVINCE, Level.CITY, Level.COUNTY
    province = _org(None, "东江省人民政府", G, P, "330000")
    office = _org(province, "东江省人民政府办公厅", S, P, "330000")
    _org(province, "东江省公安厅", D, P, "330000")
    _org(province, "东江省教育厅", D, P, "330000")
    _org(province, "东江省卫生健康委员会", D, P, "330000")
    city = _org(province, "临川市人民政府", G, C, "330100")
    _org(city, "临川市人民政府办公室", S, C, "330100")
    police = _org(city, "临川市公安局", D, C, "330100")
    _org(city, "临川市文化广电旅游局", D, C, "330100")
    _org(city, "临川市融媒体中心", INST, C, "330100")
    county = _org(city, "青石县人民政府", G, X, "330122")
    _org(county, "青石县教育局", D, X, "330122")
    _org(county, "青石县市场监督管理局", D, X, "330122")
    for i, name in enumerate(["南湖区人民政府", "北岭县人民政府", "西岸县人民政府"]):
        _org(city, name, G, X, f"3301{23 + i}")
    city2 = _org(province, "云溪市人民政府", G, C, "330200")
    _org(city2, "云溪市公安局", D, C, "330200")

    _user(office, "demo-supervisor", "王晓明", [Role.SUPERVISOR, Role.AUDITOR])
    _user(province, "demo-secadmin", "赵丽", [Role.SECURITY_ADMIN])
    _user(province, "demo-auditadmin", "钱进", [Role.AUDIT_ADMIN])
    _user(city, "demo-city-leader", "周建国", [Role.PRINCIPAL_LEADER])
    _user(city, "demo-city-deputy", "吴芳", [Role.LEADER_IN_CHARGE])
    _user(city, "demo-city-liaison", "郑磊", [Role.LIAISON])
    _user(police, "demo-operator", "李娜", [Role.OPERATOR])
    _user(police, "demo-outsourced", "陈伟", [Role.OUTSOURCED_OPERATOR])
    _user(
        police,
        "demo-head",
        "张强",
        [Role.DEPARTMENT_HEAD, Role.CONFIDENTIALITY_REVIEWER],
    )
    # The supervisor sees access and audit data too when they also hold those roles.
    sup = User.objects.get(username="demo-supervisor")
    services.membership_grant(
        actor=None, user=sup, organization=province, role=Role.AUDIT_ADMIN
    )
    services.membership_grant(
        actor=None, user=sup, organization=province, role=Role.SECURITY_ADMIN
    )
    print("demo data created:", Organization.objects.count(), "organizations")
