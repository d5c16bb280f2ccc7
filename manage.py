#!/usr/bin/env python
import os
import sys

# Commands that only read the code, never the data, need no configured environment (e.g.
# `manage.py makemigrations --check` on a fresh checkout): they get the self-contained test
# settings. Everything else defaults to production settings, which refuse to start without
# SECRET_KEY and friends rather than touch a database nobody configured.
CODE_ONLY_COMMANDS = {"makemigrations", "help", "version"}


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    default = "config.settings.test" if command in CODE_ONLY_COMMANDS else "config.settings.base"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
