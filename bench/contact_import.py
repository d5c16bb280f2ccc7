"""Contact import throughput: `import_run` on a 100,000-row CSV against PostgreSQL.

    .venv/bin/python bench/contact_import.py                 # about a minute
    .venv/bin/python bench/contact_import.py --rows 20000 --keep-db

What it does: drops, creates and migrates its own database (`switchboard_bench_contacts` on
BENCH_PG, default postgres://postgres@127.0.0.1:5432; loopback only), creates one tenant with
5,000 existing contacts and 1,000 opt-outs, writes a CSV (UTF-8 with BOM, semicolons, quoted
fields, national and international numbers, about 2% invalid numbers, 2% repeats, a few blank
lines), and times
  1. the import of a fresh file (creates, some updates, rejections),
  2. a second run of the same (finished) import (must do nothing),
  3. a re-import of the same file (everything is an update now).
The task is called in-process inside the tenant scope, as the Celery task does. Prints rows/s
and seconds; asserts only that the counts add up.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_CONTACTS_DB", "switchboard_bench_contacts")
if "127.0.0.1" not in PG_SERVER and "localhost" not in PG_SERVER:
    sys.exit(f"refusing a non-loopback address: {PG_SERVER}")

ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdefghijklmnopqrstu",
    "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktMDA=",
    "ALLOWED_HOSTS": "127.0.0.1",
    "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
    "CELERY_BROKER_URL": "memory://",
    "ELKS_API_URL": "http://127.0.0.1:9/a1",
    "ELKS_USERNAME": "bench",
    "ELKS_PASSWORD": "bench",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
}


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    env = {**os.environ, **ENV}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def write_csv(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Returns what the file holds: rows, invalid numbers, repeats."""
    rnd = random.Random(seed)
    invalid = repeats = 0
    used: list[str] = []
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("Mobil;Förnamn;Efternamn;Stad;Kundnummer\n")
        for i in range(rows):
            roll = rnd.random()
            if roll < 0.02:
                phone = rnd.choice(["12345", "not a number", "", "+4600"])
                invalid += 1
            elif roll < 0.04 and used:
                phone = rnd.choice(used)
                repeats += 1
            else:
                digits = f"{i:08d}"
                phone = f"07{digits}" if roll < 0.8 else f"+467{digits[0]} {digits[1:]}"
                used.append(phone)
            city = rnd.choice(["Malmö", "Lund", '"Göteborg; Hisingen"', "Umeå"])
            out.write(f"{phone};Förnamn{i};Efternamn{i};{city};K{i}\n")
            if i % 25_000 == 0:
                out.write("\n")
    return {"rows": rows, "invalid": invalid, "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print(f"creating and migrating {DB_NAME} …", flush=True)
    recreate_database()
    media = tempfile.mkdtemp(prefix="bench-contacts-")
    os.environ.update({**ENV, "MEDIA_ROOT": media})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    from django.core.files.uploadedfile import UploadedFile
    from django.db import connection
    from django_scopes import scope

    from accounts.models import Tenant
    from messaging.contacts.imports import import_run, import_upload
    from messaging.contacts.models import Contact, ContactImport, ContactList
    from messaging.models import OptOut

    tenant = Tenant.objects.create(
        name="Bench", slug="bench", status=Tenant.Status.ACTIVE, usage_limit=10**9
    )
    path = Path(media) / "contacts.csv"
    facts = write_csv(path, args.rows)
    size = path.stat().st_size
    print(
        f"CSV: {facts['rows']:,} rows, {size / 1e6:.1f} MB, {facts['invalid']:,} invalid, "
        f"{facts['repeats']:,} repeats, BOM + semicolons",
        flush=True,
    )

    with scope(tenant=tenant.pk):
        # Existing contacts (5%, updated by the import) and opted-out numbers (1%).
        Contact.objects.bulk_create(
            [
                Contact(tenant=tenant, phone=f"+467{i:08d}", name="Existing")
                for i in range(0, args.rows, 20)
            ],
            ignore_conflicts=True,
        )
        OptOut.objects.bulk_create(
            [
                OptOut(tenant=tenant, phone=f"+467{i:08d}", kind="out")
                for i in range(5, args.rows, 100)
            ]
        )
        target = ContactList.objects.create(tenant=tenant, name="Bench list")
        mapping = {"0": "phone", "1": "first_name", "2": "last_name", "3": "field:city"}
        mapping["4"] = "field:customer"

        def run_once(label: str) -> ContactImport:
            with path.open("rb") as fh:
                upload = UploadedFile(fh, name=path.name, size=path.stat().st_size)
                started = import_upload(tenant=tenant, user=None, upload=upload)
            ContactImport.objects.filter(pk=started.pk).update(
                mapping=mapping, default_country="SE", target_list=target, status="queued"
            )
            t0 = time.perf_counter()
            import_run(import_id=started.pk)
            seconds = time.perf_counter() - t0
            started.refresh_from_db()
            assert started.status == "done", started.error
            total = started.created_count + started.updated_count + started.rejected_count
            assert total == started.processed_rows == started.total_rows
            print(
                f"{label}: {started.total_rows:,} rows in {seconds:.1f} s = "
                f"{started.total_rows / seconds:,.0f} rows/s · created {started.created_count:,}"
                f" · updated {started.updated_count:,} · rejected {started.rejected_count:,}",
                flush=True,
            )
            return started

        first = run_once("1. fresh import      ")
        t0 = time.perf_counter()
        assert import_run(import_id=first.pk) == 0
        print(f"2. re-run when done : {time.perf_counter() - t0:.3f} s (no-op)")
        run_once("3. same file again  ")
        print(
            f"contacts now: {Contact.objects.count():,}; list members: {target.contacts.count():,}"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    # [attr-defined] pg_version exists on the PostgreSQL backend only, which this bench requires.
    print(f"PostgreSQL {connection.pg_version} · {os.cpu_count()} cores · load average {load}")  # type: ignore[attr-defined]  # pg_version: PostgreSQL connections only
    if not args.keep_db:
        drop_database()


if __name__ == "__main__":
    main()
