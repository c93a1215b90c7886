"""Audit codes read as labels: every action recorded anywhere has a registered label,
the audit pages show labels (codes stay as tooltips), the system actor reads "System"."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from audit.labels import action_label, registered_actions, target_type_label
from audit.models import AuditEvent
from audit.services import audit_record
from moderation.services.review import Decision

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "tests", "node_modules", "migrations", ".git", "var", "static", "docs"}
AUDIT_CALLS = {"audit_record", "audit_record_bulk", "audit_security_event"}
# Actions built with an f-string: the source text of the expression -> its values.
FSTRING_FAMILIES = {
    "f'moderation.post_{decision}'": [
        f"moderation.post_{d}" for d in (Decision.APPROVE, Decision.REJECT, Decision.REQUEST_CHANGES)
    ],
}


def _source_files():
    for path in ROOT.rglob("*.py"):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def _string_assignments(tree, name: str) -> list[ast.expr]:
    """Values assigned to `name` anywhere in `tree` (a function or a module)."""
    values = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            values.append(node.value)
    return values


def _resolve(expr, scopes, where) -> set[str]:
    """The action strings an `action=` expression can take. Literals, conditionals,
    names assigned literals (in the calling function or the module), dict lookups of
    module-level dict literals and the known f-string families are understood; any
    other expression fails, so a new kind of action code gets a look (and a label)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _resolve(expr.body, scopes, where) | _resolve(expr.orelse, scopes, where)
    if isinstance(expr, ast.JoinedStr):
        text = ast.unparse(expr)
        assert text in FSTRING_FAMILIES, f"{where}: add the values of {text} to FSTRING_FAMILIES"
        return set(FSTRING_FAMILIES[text])
    if isinstance(expr, ast.Name):
        for scope in scopes:
            values = _string_assignments(scope, expr.id)
            if values:
                return set().union(*(_resolve(v, scopes, where) for v in values))
        passed = _passed_by_callers(expr.id, scopes, where)
        if passed is not None:
            return passed
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        for value in _string_assignments(scopes[-1], expr.value.id):
            if isinstance(value, ast.Dict):
                return set().union(*(_resolve(v, scopes, where) for v in value.values))
    raise AssertionError(f"{where}: cannot tell which actions `{ast.unparse(expr)}` records")


def _passed_by_callers(name: str, scopes, where) -> set[str] | None:
    """A helper that records `action` from its own parameter: the values its callers
    in the same module pass (positionally or by keyword)."""
    function, module = scopes[0], scopes[-1]
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    keyword_only = [a.arg for a in function.args.kwonlyargs]
    if name not in params and name not in keyword_only:
        return None
    functions = [n for n in ast.walk(module) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    found: set[str] = set()
    calls = 0
    for call in ast.walk(module):
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == function.name):
            continue
        calls += 1
        keyword = [k.value for k in call.keywords if k.arg == name]
        if keyword:
            value = keyword[0]
        else:
            index = params.index(name) if name in params else len(call.args)
            assert index < len(call.args), f"{where}: a call of {function.name} omits {name}"
            value = call.args[index]
        caller = [f for f in functions if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)]
        innermost = sorted(caller, key=lambda f: f.lineno)[-1:]
        found |= _resolve(value, [*innermost, module], f"{where} via line {call.lineno}")
    assert calls, f"{where}: {function.name} records `{name}` but nothing in its module calls it"
    return found


def recorded_actions() -> dict[str, str]:
    """Every action code passed to audit_record / audit_record_bulk -> where."""
    found: dict[str, str] = {}
    for path in _source_files():
        module = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(module) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in AUDIT_CALLS:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            [action] = [k.value for k in node.keywords if k.arg == "action"] or [None]
            assert action is not None, f"{where}: {name} without action="
            enclosing = [
                f for f in functions
                if f.lineno <= node.lineno <= (f.end_lineno or f.lineno) and f.name not in AUDIT_CALLS
            ]
            innermost = sorted(enclosing, key=lambda f: f.lineno)[-1:]
            for code in _resolve(action, [*innermost, module], where):
                found.setdefault(code, where)
    return found


def test_the_scan_finds_the_known_actions():
    # The scanner itself must see the calls (a broken scan would pass vacuously).
    actions = recorded_actions()
    for code in (
        "filing.submitted",  # literal
        "filing.approved",  # module-level dict of transitions
        "media_account.opened",  # local variable
        "media_account.imported",  # module constant
        "moderation.post_request_changes",  # f-string family
        "moderation.repost_policy_update",  # conditional
        "media_account.seeded",  # audit_record_bulk in a management command
        "calendar.year_saved",
        "membership.granted",
        "supervision.activity_ingest",  # a helper's parameter, from its callers
    ):
        assert code in actions, code
    assert len(actions) >= 45


def test_every_recorded_action_has_a_label():
    missing = {code: where for code, where in recorded_actions().items() if code not in registered_actions()}
    assert not missing, f"register a label (audit.labels.register_action_labels) for: {missing}"
    with translation.override("en"):
        assert action_label("filing.submitted") == "Filing submitted"
        assert action_label("moderation.flag_raise") == "Flag raised"
        assert action_label("no.such_action") == "no.such_action"
        assert target_type_label("registry.filing") == "filing"
        assert target_type_label("gone.model") == "gone.model"


def _system_event(org):
    with transaction.atomic():
        return audit_record(actor=None, action="organization.updated", target=org)


def test_audit_page_shows_labels_and_the_system_actor(world):
    event = _system_event(world.mine.city)
    client = Client()
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/audit/").content.decode()
    assert event.actor_label == "system"  # stored as it was; only the display changes
    assert '<span title="organization.updated">Organization updated</span>' in html
    assert '<span title="membership.granted">Role granted</span>' in html
    assert "<code>" not in html
    assert "<td>System</td>" in html
    assert "<td>system</td>" not in html
    assert f'title="accounts.organization #{world.mine.city.pk}">Organization</span>' in html


def test_system_actor_is_translated(world):
    _system_event(world.mine.city)
    client = Client()
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/audit/").content.decode()
    with translation.override("zh-hans"):
        word = translation.gettext("System")
    assert f"<td>{word}</td>" in html


def test_export_has_a_label_beside_the_code(world):
    _system_event(world.mine.city)
    client = Client()
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/audit/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header = rows[0]
    assert header[4:6] == ["Action", "Action label"]
    by_code = {r[4]: r for r in rows[1:]}
    assert by_code["organization.updated"][5] == "Organization updated"
    assert by_code["membership.granted"][5] == "Role granted"
    assert any(r[1] == "System" and r[4] == "organization.updated" for r in rows[1:])
    assert AuditEvent.objects.filter(action="organization.updated", actor_label="system").exists()


def test_account_history_shows_labels_and_the_role_label(world):
    from tests.registry.helpers import active_account

    account = active_account(world.mine)
    client = Client()
    client.force_login(world.mine.users[Role.SUPERVISOR])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("registry:account_history", args=[account.pk])).content.decode()
    events = html.split('id="history-events"')[1]
    assert '<span title="filing.submitted">Filing submitted</span>' in events
    assert '<span title="media_account.opened">Account opened</span>' in events
    assert "<code>" not in events
    with translation.override("en"):
        role_label = str(Role.SUPERVISOR.label)
    assert f"({role_label})" in events and f"({Role.SUPERVISOR.value})" not in events
    assert f'title="registry.mediaaccount #{account.pk}">' in events


def test_api_carries_labels_beside_the_codes(client, world):
    from accounts.models import Membership, Role
    from accounts.services import membership_end

    m = Membership.objects.filter(user=world.mine.users[Role.LIAISON]).get()
    membership_end(actor=None, membership=m)
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    rows = client.get(
        "/api/v1/audit-events/?action=membership.ended", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["results"]
    assert rows, "the ended membership must be in the audit admin's trail"
    row = rows[0]
    assert row["action"] == "membership.ended"
    assert row["action_display"] != row["action"]
    assert row["target_type_display"] == "membership"
    assert row["actor_display"] == "System"
