"""Pre-check dictionaries. Every change bumps the dictionary's version, which is what
tells the in-process matcher cache (moderation.prechecks) to rebuild."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import Action, require
from audit.services import audit_record
from common.errors import ValidationFailed
from moderation.models import Dictionary, Severity, Term, TermKind


def _require_supervisor(actor, organization) -> str:
    from accounts.models import Role
    from accounts.scoping import roles_of

    role = require(actor, Action.CHANGE, organization) if actor is not None else ""
    if actor is not None:
        held = roles_of(actor)
        if Role.SUPERVISOR not in held and Role.SYSTEM_ADMIN not in held:
            from common.errors import PermissionDenied

            raise PermissionDenied(
                _("Only supervisors keep pre-check dictionaries."), code="not_supervisor"
            )
    return role


@transaction.atomic
def dictionary_create(*, actor, organization, name: str, kind: str) -> Dictionary:
    role = _require_supervisor(actor, organization)
    if kind not in TermKind.values:
        raise ValidationFailed(_("Unknown dictionary kind."), fields={"kind": [_("Unknown kind.")]})
    dictionary = Dictionary(organization=organization, org_path=organization.path,
                            name=name, kind=kind)
    dictionary.full_clean()
    dictionary.save()
    audit_record(actor=actor, action="moderation.dictionary_create", target=dictionary,
                 organization=organization, role=role, after={"name": name, "kind": kind})
    return dictionary


def _bump(dictionary: Dictionary) -> None:
    # updated_at joins the version in the matcher's cache key, so a reused id (SQLite
    # after a rollback) can never match a stale automaton.
    Dictionary.objects.filter(pk=dictionary.pk).update(version=F("version") + 1,
                                                       updated_at=timezone.now())


def _clean_term(term: str, suggestion: str, severity: str) -> tuple[str, str, str]:
    term = (term or "").strip()
    if not term:
        raise ValidationFailed(_("A term cannot be empty."), fields={"term": [_("Required.")]})
    if len(term) > 200 or len(suggestion or "") > 200:
        raise ValidationFailed(_("A term has at most 200 characters."),
                               fields={"term": [_("Too long.")]})
    if severity not in Severity.values:
        raise ValidationFailed(_("Unknown severity."), fields={"severity": [_("Unknown.")]})
    return term, (suggestion or "").strip(), severity


@transaction.atomic
def term_add(*, actor, dictionary: Dictionary, term: str, suggestion: str = "",
             severity: str = Severity.SOFT, note: str = "") -> Term:
    role = _require_supervisor(actor, dictionary.organization)
    term, suggestion, severity = _clean_term(term, suggestion, severity)
    if Term.objects.filter(dictionary=dictionary, term=term).exists():
        raise ValidationFailed(_("This term is already in the dictionary."),
                               code="duplicate_term", fields={"term": [_("Already present.")]})
    row = Term.objects.create(dictionary=dictionary, term=term, suggestion=suggestion,
                              severity=severity, note=note[:200])
    _bump(dictionary)
    audit_record(actor=actor, action="moderation.term_add", target=dictionary,
                 organization=dictionary.organization, role=role,
                 after={"term": term, "suggestion": suggestion, "severity": severity})
    return row


@transaction.atomic
def term_remove(*, actor, term: Term) -> None:
    dictionary = term.dictionary
    role = _require_supervisor(actor, dictionary.organization)
    before = {"term": term.term, "suggestion": term.suggestion, "severity": term.severity}
    term.delete()
    _bump(dictionary)
    audit_record(actor=actor, action="moderation.term_remove", target=dictionary,
                 organization=dictionary.organization, role=role, before=before)


@transaction.atomic
def terms_import(*, actor, dictionary: Dictionary, rows: list[tuple[str, str, str]]) -> int:
    """Add many terms at once (set-based); terms already present are left alone."""
    role = _require_supervisor(actor, dictionary.organization)
    clean = {}
    for term, suggestion, severity in rows:
        t, s, sev = _clean_term(term, suggestion, severity)
        clean[t] = (s, sev)
    created = Term.objects.bulk_create(
        [Term(dictionary=dictionary, term=t, suggestion=s, severity=sev)
         for t, (s, sev) in clean.items()],
        ignore_conflicts=True, batch_size=2000,
    )
    _bump(dictionary)
    audit_record(actor=actor, action="moderation.terms_import", target=dictionary,
                 organization=dictionary.organization, role=role,
                 after={"count": len(created)})
    return len(created)
