"""``huanxin import_products FILE --actor USER``: import a product list from the command line (large files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huanxin.accounts.models import User
from huanxin.catalogue.exports import import_report_xlsx
from huanxin.catalogue.services import import_products
from huanxin.core.errors import DomainError

SHOWN_REFUSALS = 20


class Command(BaseCommand):
    help = "导入产品目录（CSV 或 XLSX），与网页和接口使用同一服务；可重复运行，内容不变的行不会重复写入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="产品清单文件（.csv 或 .xlsx）")
        parser.add_argument("--actor", required=True, help="导入人的用户名（须为系统管理员或审核人员）")
        parser.add_argument("--report", help="将导入报告另存为此 XLSX 文件")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"用户不存在：{options['actor']}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            report = import_products(actor=actor, file_name=path.name, content=path.read_bytes())
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(
            f"导入 #{report.import_id}：数据行 {report.total_rows}，新增 {report.created}，更新 {report.updated}，"
            f"未变 {report.unchanged}，拒绝 {report.refused}"
        )
        for error in report.errors[:SHOWN_REFUSALS]:
            self.stdout.write(f"  第 {error.row} 行 {error.column_label}：{error.message}（{error.code}）")
        if len(report.errors) > SHOWN_REFUSALS:
            self.stdout.write(f"  …… 另有 {len(report.errors) - SHOWN_REFUSALS} 条，完整报告见网页或 --report")
        if options.get("report"):
            Path(options["report"]).write_bytes(import_report_xlsx(report))
            self.stdout.write(f"报告已保存：{options['report']}")
