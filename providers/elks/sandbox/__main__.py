"""Run the 46elks sandbox from a shell.

``python -m providers.elks.sandbox --port 8046 --db sandbox.sqlite3 --username U --password P``
"""

from __future__ import annotations

import argparse
import contextlib
import logging

from .config import SandboxConfig
from .server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m providers.elks.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8046)
    parser.add_argument("--db", default=":memory:", help="SQLite file (state survives restarts)")
    parser.add_argument("--username", default="sandbox-master")
    parser.add_argument("--password", default="sandbox-master-secret")
    parser.add_argument("--balance", type=int, default=100_000_000, help="1/10000 SEK")
    parser.add_argument("--numbers-per-country", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--event-delay", type=float, default=1.0, help="seconds between steps")
    parser.add_argument("--callback-backoff", type=float, default=2.0)
    parser.add_argument("--callback-attempts", type=int, default=5)
    parser.add_argument("--fail-suffix", default="13", help="recipients ending so fail; '' = none")
    parser.add_argument("--public-url", default=None, help="base URL used in callback payloads")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    config = SandboxConfig(
        page_size=args.page_size,
        event_delay=args.event_delay,
        callback_backoff=args.callback_backoff,
        callback_attempts=args.callback_attempts,
        fail_suffix=args.fail_suffix or None,
        public_url=args.public_url,
    )
    server = SandboxServer(
        host=args.host,
        port=args.port,
        db=args.db,
        master_username=args.username,
        master_password=args.password,
        balance=args.balance,
        numbers_per_country=args.numbers_per_country,
        config=config,
    )
    print(f"46elks sandbox on http://{args.host}:{args.port}/a1 (control: /sandbox), db={args.db}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
