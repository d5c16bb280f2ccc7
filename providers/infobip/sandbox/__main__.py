"""Run the Infobip Numbers API sandbox from a shell.

``python -m providers.infobip.sandbox --port 8047 --api-key sandbox-infobip-key``
"""

from __future__ import annotations

import argparse
import contextlib
import logging

from .config import ERROR_SHAPES, SandboxSettings
from .server import DEFAULT_API_KEY, DEFAULT_PREFIXES, InfobipSandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m providers.infobip.sandbox", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8047)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument(
        "--prefix",
        action="append",
        dest="prefixes",
        help=f"API path prefix, repeatable (default: {' and '.join(DEFAULT_PREFIXES)})",
    )
    parser.add_argument("--error-shape", choices=ERROR_SHAPES, default="request_error")
    parser.add_argument("--purchase-status", type=int, choices=(200, 201), default=200)
    parser.add_argument("--max-limit", type=int, default=100)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    sandbox = InfobipSandbox(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        prefixes=tuple(args.prefixes or DEFAULT_PREFIXES),
        settings=SandboxSettings(
            error_shape=args.error_shape,
            purchase_status=args.purchase_status,
            max_limit=args.max_limit,
        ),
    )
    print(
        f"Infobip sandbox on http://{args.host}:{args.port} "
        f"(API: {', '.join(sandbox.prefixes)}; control: /sandbox)"
    )
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()


if __name__ == "__main__":
    main()
