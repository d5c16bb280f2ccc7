"""pytest: SQLite unless DATABASE_URL is set (CI points it at PostgreSQL)."""

import os

for _key, _value in {
    "DEBUG": "false",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef0123456789",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LXRlc3Q=",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DATABASE_URL": "sqlite:///:memory:",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "ELKS_API_URL": "http://127.0.0.1:9/a1",
    "ELKS_USERNAME": "sandbox-master",
    "ELKS_PASSWORD": "sandbox-master-secret",
    "SECURE_SSL_REDIRECT": "false",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "CONN_MAX_AGE": "0",
}.items():
    os.environ.setdefault(_key, _value)

from config.settings.base import *  # noqa: E402

WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests use a private cache so a real Redis (when REDIS_URL is set) is not shared with the app.
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = "switchboard-test"
