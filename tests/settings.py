"""Test settings: development mode, a fast password hasher, and mail kept in memory."""

import os
import tempfile

os.environ.setdefault("ALLIED_DEBUG", "1")
os.environ.setdefault("ALLIED_VAR_DIR", tempfile.mkdtemp(prefix="allied-test-"))

from allied.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

# A file, not memory, so worker and server processes started by tests share the test database.
if DATABASES["default"]["ENGINE"] == "allied.core.db.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
