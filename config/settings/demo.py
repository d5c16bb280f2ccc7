"""`make demo`: SQLite, eager Celery, console email and the built-in 46elks sandbox.

Only environment defaults are set here; everything else comes from base.
"""

import os
from pathlib import Path

_DEMO_DIR = Path(__file__).resolve().parent.parent.parent / ".demo"
_DEMO_DIR.mkdir(exist_ok=True)

SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8046"))
INFOBIP_SANDBOX_PORT = int(os.environ.get("INFOBIP_SANDBOX_PORT", "8047"))
for _key, _value in {
    "DEBUG": "true",
    # Demo-only keys: never used outside `make demo`.
    "SECRET_KEY": "demo-insecure-secret-key-not-for-production-0123456789abcdef",
    "FIELD_ENCRYPTION_KEY": "ZGVtby1vbmx5LWtleS1kZW1vLW9ubHkta2V5LWRlbW8=",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"sqlite:///{_DEMO_DIR / 'db.sqlite3'}",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "ELKS_API_URL": f"http://127.0.0.1:{SANDBOX_PORT}/a1",
    "ELKS_USERNAME": "sandbox-master",
    "ELKS_PASSWORD": "sandbox-master-secret",
    "INFOBIP_BASE_URL": f"http://127.0.0.1:{INFOBIP_SANDBOX_PORT}",
    "INFOBIP_API_KEY": "sandbox-infobip-key",
    "MEDIA_ROOT": str(_DEMO_DIR / "media"),
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
}.items():
    os.environ.setdefault(_key, _value)

from config.settings.base import *  # noqa: E402

SANDBOX_DB = os.environ.get("SANDBOX_DB", str(_DEMO_DIR / "sandbox.sqlite3"))
