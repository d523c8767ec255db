"""``huanxin vehicles scrap-check --input '<json>'``: the mandatory-scrapping standard (2012)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from huanxin.core.jsoncli import MalformedInput, answer
from huanxin.vehicles.domain.scrapping import ScrapInputError, check_scrapping


class Command(BaseCommand):
    help = "机动车相关工具：scrap-check 按《机动车强制报废标准规定》判断是否应当报废"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("scrap-check", help="判断是否达到强制报废标准")
        check.add_argument("--input", dest="raw_input", help="一个 JSON 输入；'-' 表示从标准输入读取")
        check.add_argument("--file", help="JSON Lines 文件，每行一个输入")

    def handle(self, *args: Any, **options: Any) -> None:
        def decide(payload: dict[str, Any]) -> dict[str, Any]:
            try:
                return check_scrapping(payload)
            except ScrapInputError as exc:
                raise MalformedInput.of(exc) from None

        answer(decide, options, self.stdout)
