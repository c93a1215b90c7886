"""Media accounts: profile URL parsing, the state a filing records, platforms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from common.errors import ValidationFailed
from registry.models import MediaAccount, Platform

MAX_URL_LENGTH = 500


@dataclass(frozen=True)
class ParsedUrl:
    platform: Platform
    account_id: str  # "" when the platform has no URL patterns (own app, other)
    profile_url: str  # canonical when the platform has a template


def _match(platform: Platform, url: str) -> str | None:
    for pattern in platform.url_patterns or []:
        try:
            found = re.match(pattern, url)
        except re.error:  # a bad pattern in the data must not break filing
            continue
        if found and found.groupdict().get("account_id"):
            return found.group("account_id")
    return None


_HOST_OF_PATTERN = re.compile(r"^\^https\?://(?P<host>.+?)/")


def url_on_platform(platform: Platform, url: str) -> bool:
    """Whether a web address (a post, a repost) lies on the platform's own site: its
    host matches the host part of one of the platform's profile URL patterns. A
    platform without patterns (an own app, other) accepts any web address."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    hosts = []
    for pattern in platform.url_patterns or []:
        found = _HOST_OF_PATTERN.match(pattern)
        if found:
            hosts.append(found.group("host"))
    if not hosts:
        return True
    for host_pattern in hosts:
        try:
            if re.fullmatch(host_pattern, host):
                return True
        except re.error:  # a bad pattern in the data must not break confirmation
            continue
    return False


def _url_error(message, code="url_unrecognised") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"profile_url": [message]})


def parse_profile_url(
    url: str, *, platform: Platform | None = None, platforms: list[Platform] | None = None
) -> ParsedUrl:
    """Platform and canonical account id of a pasted profile URL.

    With `platform`, the URL must belong to it (a platform without URL patterns, such
    as an own app, accepts any web address and leaves the id to the user). Without,
    the first platform whose patterns match wins. Raises ValidationFailed with a
    `profile_url` field error otherwise.
    """
    url = (url or "").strip()
    if not url:
        raise _url_error(_("Paste the account's profile URL."), "url_missing")
    if len(url) > MAX_URL_LENGTH or not re.match(r"^https?://\S+$", url):
        raise _url_error(_("This is not a web address (it must start with http:// or https://)."))
    if platforms is None:
        platforms = list(Platform.objects.filter(is_active=True))
    if platform is not None:
        account_id = _match(platform, url)
        if account_id:
            return ParsedUrl(platform, account_id, _canonical(platform, account_id, url))
        if not platform.url_patterns:
            return ParsedUrl(platform, "", url)
        other = next((p for p in platforms if p.pk != platform.pk and _match(p, url)), None)
        if other is not None:
            raise _url_error(
                _("This is a profile URL on %(other)s, not on %(chosen)s.")
                % {"other": other.name, "chosen": platform.name},
                "url_other_platform",
            )
        raise _url_error(
            _("This is not a %(platform)s profile URL we recognise. Copy the address of the "
              "account's home page, or enter the account id by hand.")
            % {"platform": platform.name}
        )
    for candidate in platforms:
        account_id = _match(candidate, url)
        if account_id:
            return ParsedUrl(candidate, account_id, _canonical(candidate, account_id, url))
    raise _url_error(
        _("We do not recognise this address as an account profile on any platform. Check it, "
          "or choose the platform and enter the account id by hand.")
    )


def _canonical(platform: Platform, account_id: str, url: str) -> str:
    if platform.profile_url_template:
        return platform.profile_url_template.format(account_id=account_id)
    return url


def account_state(account: MediaAccount, *, operator_ids: list[int] | None = None) -> dict:
    """What a filing records as before/after. `operator_ids` saves the query when the
    caller knows them."""
    if operator_ids is None:
        operator_ids = sorted(account.operators.values_list("pk", flat=True))
    return {
        "display_name": account.display_name,
        "platform": account.platform.code,
        "platform_account_id": account.platform_account_id,
        "profile_url": account.profile_url,
        "organization": account.organization_id,
        "supervising_organization": account.supervising_organization_id,
        "category": account.category,
        "verification": account.verification,
        "status": account.status,
        "liaison": account.liaison_id,
        "operators": sorted(operator_ids),
    }


PLATFORM_FIELDS = (
    "code", "name", "name_en", "url_patterns", "profile_url_template", "max_post_length",
    "sort_order", "is_active",
)


def _platform_state(platform: Platform) -> dict:
    return {name: getattr(platform, name) for name in PLATFORM_FIELDS}


@transaction.atomic
def platform_save(*, actor, platform: Platform) -> Platform:
    """Add or change a platform (system administrators, in the admin). Patterns are
    checked to compile and to capture `account_id`."""
    problems = []
    for pattern in platform.url_patterns or []:
        try:
            compiled = re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.append(_("Not a valid pattern: %(p)s (%(e)s)") % {"p": pattern, "e": exc})
            continue
        if "account_id" not in compiled.groupindex:
            problems.append(_("The pattern has no (?P<account_id>...) group: %(p)s") % {"p": pattern})
    if problems:
        raise ValidationFailed(" ".join(problems), fields={"url_patterns": problems})
    before = None
    if platform.pk:
        before = _platform_state(Platform.objects.select_for_update().get(pk=platform.pk))
    platform.full_clean()
    platform.save()
    audit_record(
        actor=actor,
        action="platform.created" if before is None else "platform.updated",
        target=platform,
        before=before,
        after=_platform_state(platform),
        platform_wide=True,
    )
    return platform
