"""``huanxin catalogue load``: load the programme catalogue files idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huanxin.accounts.models import User
from huanxin.core.errors import DomainError
from huanxin.policy.domain import CATALOGUE_DIR
from huanxin.policy.services import load_catalogue

OUTCOMES = {"created": "已发布（首个版本）", "unchanged": "未变化", "pending": "已提交新版本，待另一人审批"}


class Command(BaseCommand):
    help = "规则目录：load 加载目录文件（可重复运行；修改过的文件成为待审批的新版本）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="加载规则目录文件")
        load.add_argument("--dir", default=str(CATALOGUE_DIR), help="目录文件所在文件夹")
        load.add_argument("--actor", help="提交修改的用户名（修改过的文件记为此人提交）")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options.get("actor"):
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"用户不存在：{options['actor']}")
        try:
            results = load_catalogue(actor=actor, directory=Path(options["dir"]))
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        for result in results:
            self.stdout.write(f"{result.code}@{result.version}: {OUTCOMES[result.outcome]}")
