"""Gates on a signed-in session: the second factor, then the forced password change.

The forced password change: after a reset by the security administrator, or when
the password is older than PASSWORD_MAX_AGE_DAYS, every page leads to the password
page until the person has chosen a new one."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.passwords import change_required


class PasswordPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and change_required(user)
            and not self._exempt(request.path)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "password_change_required",
                        "detail": _(
                            "Your password must be changed before you continue."
                        ),
                    },
                    status=403,
                )
            target = reverse("accounts:password_change")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        exempt = (
            reverse("accounts:password_change"),
            reverse("accounts:logout"),
            "/accounts/second-factor/",
            "/static/",
            "/i18n/",
            "/captcha/",
        )
        return path.startswith(exempt)


class SecondFactorMiddleware:
    """A session signed in with a password alone, for a person who needs a second
    factor (accounts.second_factor), reaches only the enrolment and verification
    pages (after django_otp's OTPMiddleware, which gives `user.is_verified()`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts.second_factor import has_second_factor, second_factor_required

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not self._exempt(request.path)
            and not user.is_verified()
            and second_factor_required(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "second_factor_required",
                        "detail": _("Sign in with your second factor first."),
                    },
                    status=403,
                )
            name = "accounts:otp_verify" if has_second_factor(user) else "accounts:otp_enrol"
            return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        exempt = (
            "/accounts/second-factor/",
            reverse("accounts:logout"),
            reverse("accounts:login"),
            "/static/",
            "/i18n/",
        )
        return path.startswith(exempt)
