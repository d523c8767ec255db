"""``huanxin demo``: load the demo organisations and accounts (idempotent) and print how to sign in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from huanxin.accounts.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "加载演示数据（可重复运行）并打印演示账户"

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = load_demo()
        self.stdout.write("")
        self.stdout.write(f"演示账户 / demo accounts（密码 / password: {DEMO_PASSWORD}）")
        width = max(len(a[0]) for a in accounts)
        for login, role, organisation in accounts:
            self.stdout.write(f"  {login.ljust(width)}  {role}  {organisation}")
        self.stdout.write("")
