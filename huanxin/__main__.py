"""The ``huanxin`` console command: Django's management commands with our settings."""

import os
import sys


def main() -> None:
    """Run a management command (``huanxin migrate``, ``huanxin demo``, ``huanxin quote`` …)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huanxin.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
