"""Secret keys kept outside the database (MLPS 2.0 level 3: integrity and
confidentiality keys separate from the data they protect).

Each key comes from an environment variable (production: a secret store) or, failing
that, from a key file under the var directory, created on first use with mode 0600.
Someone who can write the database cannot read either.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path


def key_bytes(value: str, key_file: str | Path) -> bytes:
    """The key given in settings (`value`), else the one in `key_file` (created when
    missing)."""
    if value:
        return value.encode()
    return _from_file(str(key_file))


@lru_cache(maxsize=8)
def _from_file(path: str) -> bytes:
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            pass
        else:
            try:
                os.write(fd, secrets.token_hex(32).encode())
            finally:
                os.close(fd)
    return file.read_bytes().strip()
