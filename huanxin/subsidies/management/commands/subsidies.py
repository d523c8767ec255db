"""``huanxin subsidies expire``: expire unused qualifications past their validity and release their holds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from huanxin.subsidies.services import expire_due


class Command(BaseCommand):
    help = "消费品以旧换新：expire 处理过期资格并释放冻结资金（可重复运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        expire = sub.add_parser("expire", help="处理过期资格")
        expire.add_argument("--batch", type=int, default=500, help="每批处理数量")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while True:
            done = expire_due(batch=options["batch"])
            total += done
            if done < options["batch"]:
                break
        self.stdout.write(f"已处理过期资格 {total} 个")
