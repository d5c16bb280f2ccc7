from config.stdlib_shadow import seat_numbers_app

seat_numbers_app()

from config.celery_app import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
