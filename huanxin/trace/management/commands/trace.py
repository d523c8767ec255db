"""``huanxin trace verify`` checks every chain and checkpoint; ``huanxin trace checkpoint`` signs finished days."""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from huanxin.trace import integrity


class Command(BaseCommand):
    help = "一机一码：verify 核验全部链条与检查点；checkpoint 为已结束的日期签发检查点"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="核验全部链条与签名检查点")
        verify.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        checkpoint = sub.add_parser("checkpoint", help="签发检查点")
        checkpoint.add_argument(
            "--day", type=datetime.date.fromisoformat, help="指定日期（默认所有已结束且未签发的日期）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "checkpoint":
            if options.get("day"):
                result = integrity.publish_checkpoint(options["day"])
                self.stdout.write(
                    "当日无事件" if result is None else f"{result.day} {result.event_count} 个事件 根 {result.root}"
                )
            else:
                self.stdout.write(f"已签发 {integrity.publish_due_checkpoints()} 个检查点")
            return
        report = integrity.verify_all()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": report.ok,
                        "items": report.items,
                        "events": report.events,
                        "checkpoints": report.checkpoints,
                        "findings": [f.__dict__ for f in report.findings],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self.stdout.write(f"旧机 {report.items} 台，事件 {report.events} 个，检查点 {report.checkpoints} 个")
            for finding in report.findings:
                self.stdout.write(f"[{finding.kind}] {finding.reference}: {finding.detail}")
            self.stdout.write("核验通过" if report.ok else f"发现 {len(report.findings)} 处问题")
        if not report.ok:
            sys.exit(1)
