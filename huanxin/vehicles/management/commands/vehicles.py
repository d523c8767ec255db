"""``huanxin vehicles scrap-check --input '<json>'``: the mandatory-scrapping standard (2012);
``huanxin vehicles scrap-list [--as-of YYYY-MM-DD] [--district CODE] [--type CODE] [--bj-truck-only]``: the
registry's vehicles that must be scrapped or will within a year, and the trucks bj-truck-2024 covers (JSON Lines)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from huanxin.core.errors import DomainError
from huanxin.core.jsoncli import MalformedInput, answer, dumps
from huanxin.vehicles import queries
from huanxin.vehicles.domain.scrapping import VEHICLE_TYPES, ScrapInputError, check_scrapping
from huanxin.vehicles.models import Vehicle
from huanxin.vehicles.services import BEIJING


class Command(BaseCommand):
    help = "机动车相关工具：scrap-check 按《机动车强制报废标准规定》判断是否应当报废；scrap-list 列出强制报废清单"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("scrap-check", help="判断是否达到强制报废标准")
        check.add_argument("--input", dest="raw_input", help="一个 JSON 输入；'-' 表示从标准输入读取")
        check.add_argument("--file", help="JSON Lines 文件，每行一个输入")
        listing = sub.add_parser("scrap-list", help="强制报废清单（全市，JSON Lines，每行一辆车，最后一行为汇总）")
        listing.add_argument("--as-of", dest="as_of", help="评估日期 YYYY-MM-DD，默认今天（北京时间）")
        listing.add_argument("--district", default="", help="登记区代码，如 110105")
        listing.add_argument("--type", dest="vehicle_type", default="", help="车辆类型代码，如 truck_heavy")
        listing.add_argument("--bj-truck-only", action="store_true", help="只列 bj-truck-2024 覆盖的国四营运重型货车")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "scrap-list":
            self._scrap_list(options)
            return

        def decide(payload: dict[str, Any]) -> dict[str, Any]:
            try:
                return check_scrapping(payload)
            except ScrapInputError as exc:
                raise MalformedInput.of(exc) from None

        answer(decide, options, self.stdout)

    def _scrap_list(self, options: dict[str, Any]) -> None:
        try:
            as_of = (
                datetime.date.fromisoformat(options["as_of"])
                if options["as_of"]
                else timezone.localdate(timezone=BEIJING)
            )
        except ValueError:
            raise CommandError("--as-of 应为 YYYY-MM-DD 格式的日期") from None
        if options["vehicle_type"] and options["vehicle_type"] not in VEHICLE_TYPES:
            raise CommandError(f"未知的车辆类型：{options['vehicle_type']}")
        try:
            entries = list(
                queries.scrap_list(
                    Vehicle.objects.all(),
                    as_of=as_of,
                    district=options["district"],
                    vehicle_type=options["vehicle_type"],
                    bj_truck_only=options["bj_truck_only"],
                )
            )
        except DomainError as refused:
            # An evaluation day outside the range the list takes, as the API refuses it: a message, no traceback.
            raise CommandError(refused.detail) from None
        for entry in entries:
            vehicle = entry.vehicle
            self.stdout.write(
                dumps(
                    {
                        "vin": vehicle.vin,
                        "district": vehicle.district_id,
                        "vehicle_type": vehicle.vehicle_type,
                        "use": vehicle.use,
                        "emission_standard": vehicle.emission_standard,
                        "registered_on": vehicle.registered_on.isoformat(),
                        "status": entry.status,
                        "must_scrap": entry.outlook.must_scrap,
                        "service_life_ends_on": (
                            entry.outlook.service_life_ends_on.isoformat()
                            if entry.outlook.service_life_ends_on
                            else None
                        ),
                        "bj_truck_2024": entry.outlook.bj_truck_2024,
                    }
                )
            )
        summary = [row.__dict__ for row in queries.summarise(entries)]
        self.stdout.write(dumps({"as_of": as_of.isoformat(), "count": len(entries), "summary": summary}))
