"""REST API: the caller's API tokens (list, revoke one or all, sign out) and the
security administrator's revocation of a person's tokens."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tokens
from accounts.models import User
from common.errors import NotFound


class TokenInfoSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The first 8 characters of the token.")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField()


class TokenRevokeSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=8, min_length=8, required=False, help_text="First 8 characters."
    )
    all = serializers.BooleanField(required=False, default=False)


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()


class UserTokensRevokeSerializer(serializers.Serializer):
    user = serializers.IntegerField()


def _current_key(request) -> str:
    auth = getattr(request, "auth", None)
    return auth.token_key[:8] if isinstance(auth, AuthToken) else ""


class TokenListView(APIView):
    """The caller's unexpired API tokens (never the tokens themselves)."""

    @extend_schema(responses=TokenInfoSerializer(many=True))
    def get(self, request):
        current = _current_key(request)
        rows = [
            {
                "token": t.token_key[:8],
                "created": t.created,
                "expiry": t.expiry,
                "current": t.token_key[:8] == current,
            }
            for t in AuthToken.objects.filter(user=request.user).order_by("-created")[:100]
        ]
        return Response(TokenInfoSerializer(rows, many=True).data)


class TokenRevokeView(APIView):
    """Revoke one of the caller's tokens (by its first 8 characters), or all of them;
    with no body, the token of this request (signing out of the API)."""

    @extend_schema(request=TokenRevokeSerializer, responses=RevokedSerializer)
    def post(self, request):
        data = TokenRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["all"]:
            count = tokens.tokens_revoke_all(user=request.user, actor=request.user, reason="owner")
            return Response({"revoked": count})
        key = data.validated_data.get("token") or _current_key(request)
        token = AuthToken.objects.filter(user=request.user, token_key__startswith=key).first() if key else None
        if token is None:
            raise NotFound(_("No such token."))
        tokens.token_revoke(actor=request.user, token=token)
        return Response({"revoked": 1})


class UserTokensRevokeView(APIView):
    """The security administrator revokes every token of a person in their scope."""

    @extend_schema(request=UserTokensRevokeSerializer, responses=RevokedSerializer)
    def post(self, request):
        data = UserTokensRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(pk=data.validated_data["user"]).first()
        if user is None or user.pk == request.user.pk:
            raise NotFound(_("Not found."))
        count = tokens.tokens_revoke_all(user=user, actor=request.user, reason="security_admin")
        return Response({"revoked": count})
