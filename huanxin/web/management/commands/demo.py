"""``huanxin demo``: load the demo organisations, accounts and programmes (idempotent) and print how to sign in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from huanxin.accounts.demo import DEMO_PASSWORD
from huanxin.accounts.demo import load_demo as load_accounts
from huanxin.accounts.models import User
from huanxin.accounts.sms import demo_codes_path
from huanxin.policy.demo import load_demo as load_policy
from huanxin.policy.demo import load_demo_reports
from huanxin.recycling.demo import load_demo as load_recycling
from huanxin.settlement.demo import load_demo as load_settlement
from huanxin.subsidies.demo import load_demo as load_subsidies
from huanxin.trace.demo import load_demo as load_trace
from huanxin.vehicles.demo import DEMO_VINS
from huanxin.vehicles.demo import load_demo as load_vehicles
from huanxin.vehicles.models import ScrapCertificate


class Command(BaseCommand):
    help = "加载演示数据（可重复运行）并打印演示账户"

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = load_accounts()
        load_policy(User.objects.get(username="admin"))
        load_demo_reports(User.objects.get(username="reviewer"))
        load_subsidies(User.objects.get(username="admin"), User.objects.get(username="reviewer"))
        load_settlement(User.objects.get(username="finance"))
        load_trace()
        load_vehicles(User.objects.get(username="admin"))
        load_recycling()
        self.stdout.write("")
        self.stdout.write(f"演示账户 / demo accounts（密码 / password: {DEMO_PASSWORD}）")
        width = max(len(a[0]) for a in accounts)
        for login, role, organisation in accounts:
            self.stdout.write(f"  {login.ljust(width)}  {role}  {organisation}")
        # The staff VIN search (/vehicles/) takes a VIN typed or pasted: these have histories to show.
        self.stdout.write(f"演示车辆 VIN / demo vehicles: {' '.join(DEMO_VINS.values())}")
        # The scrapped demo car's certificate: its public check page opens without signing in.
        for number in ScrapCertificate.objects.filter(vehicle__vin=DEMO_VINS["scrapped"]).values_list(
            "number", flat=True
        ):
            self.stdout.write(f"演示报废机动车回收证明 / demo scrap certificate: {number}（/vehicles/check/{number}/）")
        if settings.HUANXIN_SMS_BACKEND == "huanxin.accounts.sms.LogSmsBackend":
            # The server log shows codes masked; the demo's codes are kept in a file for whoever runs it.
            self.stdout.write(f"短信验证码不发送，见 / SMS codes are not sent, see: {demo_codes_path()}")
        self.stdout.write("")
