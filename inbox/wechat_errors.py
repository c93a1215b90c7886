"""What a failed WeChat customer-service send means, in the handler's words.

The reply keeps a stable code (`Reply.send_error_code`: the platform's errcode, or
one of ours) and the platform's own message; pages and the API show the explanation
below, translated (Chinese first), so the handler knows what to do next.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Codes of our own (the platform's are its numeric errcodes).
WINDOW_CLOSED = "window_closed"
NOT_CONFIGURED = "not_configured"
NETWORK = "network"
UNKNOWN_RESULT = "unknown_result"
TOKEN = "token"

# The AppID/AppSecret (or the server's address) refused when fetching a token.
CREDENTIAL_CODES = frozenset({"40013", "40125", "40243", "41002", "41004"})

_EXPLAINED = {
    "45015": _(
        "The follower's last message is more than 48 hours old, so the "
        "customer-service window is closed (45015): answer by another route and "
        "record it."
    ),
    "48001": _(
        "This account is not authorized for the customer-service API (48001): "
        "check the account's interface permissions on the WeChat platform."
    ),
    "43004": _(
        "The citizen no longer follows the account (43004): answer by another route."
    ),
    "40003": _("The citizen's OpenID is not valid for this account (40003)."),
    "45047": _(
        "The limit of customer-service messages to this follower is reached "
        "(45047): answer by another route."
    ),
    "40164": _(
        "This platform's server address is not on the account's IP whitelist "
        "(40164): add it on the WeChat platform."
    ),
    WINDOW_CLOSED: _(
        "The 48-hour WeChat window closed before the reply could be sent: "
        "answer by another route and record it."
    ),
    NOT_CONFIGURED: _(
        "The account has no AppSecret for sending: enter it in the "
        "account's WeChat settings, or answer by another route."
    ),
    NETWORK: _("WeChat could not be reached after several attempts."),
    UNKNOWN_RESULT: _(
        "The sending was interrupted and whether WeChat delivered the reply "
        "is unknown: check the account's messages on the WeChat platform "
        "before answering again."
    ),
    TOKEN: _("WeChat kept refusing the access token."),
}


def explain(code: str, detail: str = "") -> str:
    """The handler's explanation of a send error code ("" for no error)."""
    if not code:
        return ""
    if code in _EXPLAINED:
        return str(_EXPLAINED[code])
    if code in CREDENTIAL_CODES:
        return str(
            _(
                "WeChat refused the AppID or AppSecret (%(code)s): check them in the "
                "account's WeChat settings."
            )
            % {"code": code}
        )
    return str(
        _("WeChat refused the reply (error %(code)s: %(detail)s).")
        % {"code": code, "detail": detail or "-"}
    )
