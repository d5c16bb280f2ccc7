import os
from typing import Any

import django
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


class TolerantWSGIRequest(WSGIRequest):
    def _set_content_type_params(self, meta: dict[str, Any]) -> None:
        try:
            # A private Django method the stubs do not declare.
            super()._set_content_type_params(meta)  # type: ignore[misc]
        except ValueError:
            # Django refuses an RFC 2231 parameter naming an unknown charset
            # (`charset*=bogus''x`) while it builds the request, before any middleware or view
            # can answer: a 500 on every URL, provider callbacks included. Keep the media type,
            # drop its parameters; the view then reads or refuses the body as usual.
            self.content_type = meta.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
            self.content_params = {}


class Handler(WSGIHandler):
    request_class = TolerantWSGIRequest


django.setup(set_prefix=False)  # as get_wsgi_application() does
application = Handler()
