"""Personal information at rest (MLPS 2.0 level 3: confidentiality of personal data).

Phone numbers (and any ID number added later) are stored encrypted with a key kept
outside the database (`PII_KEY`, or the key file `PII_KEY_FILE` created on first use
with mode 0600, see common/keys.py): Fernet (AES-128-CBC with HMAC-SHA256) from the
`cryptography` package. Someone who reads the database, or a backup of it, sees only
ciphertext. Pages and exports show the masked form (`138****5678`); the full number
is shown only through an audited reveal (accounts.services.phone_reveal).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from django.conf import settings
from django.db import models

from common.keys import key_bytes

PREFIX = "enc1:"


@lru_cache(maxsize=4)
def _fernet(key: bytes):
    from cryptography.fernet import Fernet

    derived = base64.urlsafe_b64encode(hashlib.sha256(b"govmedia-pii:" + key).digest())
    return Fernet(derived)


def _cipher():
    return _fernet(key_bytes(settings.PII_KEY, settings.PII_KEY_FILE))


def encrypt(value: str) -> str:
    if not value:
        return ""
    if value.startswith(PREFIX):
        return value
    return PREFIX + _cipher().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain value; a value written before encryption (no prefix) as it is."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    return _cipher().decrypt(stored[len(PREFIX):].encode()).decode()


def mask_phone(value: str) -> str:
    """`13812345678` -> `138****5678`; short numbers keep only their last two digits."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * max(len(value) - 2, 0) + value[-2:]


class EncryptedCharField(models.TextField):
    """A short text stored encrypted; reads give the plain value. It cannot be
    searched or compared in SQL (each write has its own IV): keep it to values nobody
    filters on, such as phone numbers."""

    def __init__(self, *args, max_plain_length: int = 64, **kwargs):
        self.max_plain_length = max_plain_length
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["max_plain_length"] = self.max_plain_length
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else (value if value is not None else "")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else (value or "")

    def formfield(self, **kwargs):
        from django import forms

        return forms.CharField(max_length=self.max_plain_length, required=not self.blank,
                               label=self.verbose_name)
