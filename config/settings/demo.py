"""`make demo`: SQLite, in-process Celery, file email and the built-in sandboxes, DEBUG off.

Only environment defaults are set here; everything else comes from base. Everything that
depends on where the demo listens (public base URL, allowed hosts, sandbox ports, state
folder) is derived from one address: `manage.py demo --addr HOST:PORT`, else DEMO_ADDR, else
127.0.0.1:8000 (console/demo_address.py).

DEBUG stays off, as in production: a wrong URL shows the app's 404 page, not Django's debug
page listing every URL pattern. Only what needs HTTPS is relaxed (the demo serves plain HTTP).
"""

import os
import sys
from pathlib import Path
from typing import cast

from console.demo_address import DEFAULT_ADDR, addr_from_command_line, demo_address

_BASE_DIR = Path(__file__).resolve().parent.parent.parent

_addr = addr_from_command_line(sys.argv) or os.environ.get("DEMO_ADDR") or DEFAULT_ADDR
_demo = demo_address(_addr, environ=os.environ, base_dir=_BASE_DIR)
_demo.state_dir.mkdir(parents=True, exist_ok=True)

for _key, _value in {
    "DEBUG": "false",
    # Plain HTTP on a local address: no HTTPS redirect, no secure-only cookies, no HSTS.
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "SECURE_HSTS_PRELOAD": "false",
    # Demo-only keys: never used outside `make demo`.
    "SECRET_KEY": "demo-insecure-secret-key-not-for-production-0123456789abcdef",
    "FIELD_ENCRYPTION_KEY": "ZGVtby1vbmx5LWtleS1kZW1vLW9ubHkta2V5LWRlbW8=",
    "LOG_LEVEL": "WARNING",
    "ELKS_USERNAME": "sandbox-master",
    "ELKS_PASSWORD": "sandbox-master-secret",
    "INFOBIP_API_KEY": "sandbox-infobip-key",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    **_demo.environment(),
}.items():
    os.environ.setdefault(_key, _value)

from config.settings.base import *  # noqa: E402

# Where `manage.py demo` listens (it refuses to run under other settings); it starts the
# sandboxes where ELKS_API_URL and INFOBIP_BASE_URL point, which are derived above.
DEMO_ADDR = _demo.addr
DEMO_URL = _demo.local_url
DEMO_STATE_DIR = _demo.state_dir
SANDBOX_DB = os.environ.get("SANDBOX_DB", str(_demo.state_dir / "sandbox.sqlite3"))
# DEBUG is off, so WhiteNoise would serve only collected files: let it find them in place
# (static/ and the apps') as runserver would, with no collectstatic step in the demo.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Mail (invitations, resets) goes to files in the state folder, not the console: the demo
# password is fixed and printed with the logins.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(_demo.state_dir / "mail")
# The worker threads write while requests read: WAL lets readers go on during a write.
DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
# Not eager: `manage.py demo` runs a worker and beat in threads of its own process on the
# in-memory broker (console/demo_worker.py), so requests return while tasks run. Always that
# broker, even with REDIS_URL set.
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = False
LOGGING["loggers"] = {
    **cast(dict[str, object], LOGGING["loggers"]),
    # Only errors from runserver: no line per request in the demo's console.
    "django.server": {"level": "ERROR"},
    # The in-memory broker has no host name, which kombu warns about on every connection.
    "kombu.connection": {"level": "ERROR"},
}
