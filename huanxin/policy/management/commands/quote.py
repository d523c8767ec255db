"""``huanxin quote CODE --input '<json>' | --input - | --file cases.jsonl``: the quote contract of POLICY.md."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from huanxin.core.errors import NotFoundError
from huanxin.core.jsoncli import MalformedInput, answer
from huanxin.policy.domain import InputError, RuleSet
from huanxin.policy.services import decision_day, rule_set_for, shipped_rule_set


def _rule_set(code: str, payload: dict[str, Any]) -> RuleSet:
    """The published version from the database; the shipped file when there is no database yet."""
    day = decision_day(payload)
    try:
        return rule_set_for(code, day)
    except DatabaseError:
        return shipped_rule_set(code)


class Command(BaseCommand):
    help = "按规则判定补贴资格和金额（输出 JSON，每个输入一行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="补贴项目代码，如 cn-appliance-2025")
        parser.add_argument("--input", dest="raw_input", help="一个 JSON 输入；'-' 表示从标准输入读取")
        parser.add_argument("--file", help="JSON Lines 文件，每行一个输入；'-' 表示标准输入")

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["code"]

        def decide(payload: dict[str, Any]) -> dict[str, Any]:
            try:
                return _rule_set(code, payload).evaluate(payload).to_dict()
            except NotFoundError as exc:
                raise MalformedInput("unknown_programme", "programme", exc.detail) from None
            except InputError as exc:
                raise MalformedInput.of(exc) from None

        answer(decide, options, self.stdout)
