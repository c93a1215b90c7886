"""Encryption of the secrets the inbox keeps (WeChat tokens and AES keys).

SECURITY: Fernet (the `cryptography` package: AES-128-CBC + HMAC-SHA256) with keys
from the settings (`INBOX_FERNET_KEYS`, environment), never from the database: a
database dump alone does not reveal the secrets. Several keys allow rotation
(MultiFernet: the first encrypts, all decrypt).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.INBOX_FERNET_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode() if token else ""
