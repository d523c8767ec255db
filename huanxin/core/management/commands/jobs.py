"""``huanxin jobs list | run NAME | run-due [--loop]``: the periodic jobs without Celery."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huanxin.core.jobs import JOBS, JOBS_BY_NAME, run_due, run_job


class Command(BaseCommand):
    help = "定时任务：list 列出，run 运行一个，run-due 运行到期任务（--loop 持续运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="列出任务")
        run = sub.add_parser("run", help="立即运行一个任务")
        run.add_argument("name")
        due = sub.add_parser("run-due", help="运行到期的任务")
        due.add_argument("--loop", action="store_true", help="每分钟检查一次，直到被停止")
        due.add_argument("--interval", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for job in JOBS:
                self.stdout.write(f"{job.name:28} 每 {job.every}  {job.description}")
        elif action == "run":
            if options["name"] not in JOBS_BY_NAME:
                raise CommandError(f"没有这个任务：{options['name']}")
            outcome = run_job(options["name"])
            self.stdout.write("已在运行，跳过" if outcome is None else f"{outcome.status}: {outcome.detail}")
        else:
            while True:
                for name, result in run_due().items():
                    self.stdout.write(f"{name}: {result}")
                if not options["loop"]:
                    break
                self.stdout.flush()
                time.sleep(options["interval"])
