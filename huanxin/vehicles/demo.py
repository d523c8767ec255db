# ruff: noqa: E501 - the demo file is a table, one row a line
"""Demo vehicles: a handful of cars and trucks with their histories, imported as the traffic police's file would
be (through the same service), so the VIN search and the mandatory-scrapping list show something; one of them scrapped by the demo scrapping
enterprise, with its certificate; one 国四 operating heavy truck of the demo haulier (a declaring enterprise in
accounts.demo) scrapped and deregistered too, so its declarant can walk the bj-truck-2024 application."""

from __future__ import annotations

import csv
import datetime
import io

from stdnum.cn import ric, uscc

from huanxin.accounts.demo import DEMO_RESIDENT_ID, DEMO_RESIDENT_NAME
from huanxin.accounts.models import Organisation, OrganisationKind, User
from huanxin.core.domain.identifiers import vin_check_digit
from huanxin.vehicles import scrapping, services
from huanxin.vehicles.application_services import import_nev_catalogue
from huanxin.vehicles.domain.certificates import AssemblyInput
from huanxin.vehicles.models import ScrapCertificate, Vehicle

# The demo scrapping enterprise (accounts.demo: 北京顺达报废汽车回收拆解有限公司).
SCRAPPER_USCC = "91110113MA01HX0E0P"
# The demo haulier that owns the trucks (accounts.demo: 北京京运物流有限公司, a declaring enterprise).
HAULIER_USCC = "91110112MA01DHX727"

HEADER = [
    "业务类型", "车辆识别代号", "业务日期", "车辆类型", "使用性质", "燃料种类", "排量（毫升）", "排放标准",
    "所有人类型", "所有人名称", "所有人证件号码", "登记区", "检验结果", "行驶里程（公里）", "注销原因",
]  # fmt: skip


def _vin(sixteen: str) -> str:
    draft = sixteen[:8] + "0" + sixteen[8:]
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def _resident_id(body: str) -> str:
    return next(body + digit for digit in "0123456789X" if ric.is_valid(body + digit))


def _uscc(body: str) -> str:
    return body + uscc.calc_check_digit(body)


# Printed by ``huanxin demo`` so a tester can paste them into the VIN search.
DEMO_VINS = {
    "private_car": _vin("LSVAB23C" + "DM000101"),
    "taxi": _vin("LFV2A21K" + "JA000102"),
    "taxi_due": _vin("LFV2A21K" + "KA000103"),
    "truck_bj": _vin("LGBH52E0" + "EY000104"),
    "truck_old": _vin("LGBH52E0" + "BY000105"),
    "nev": _vin("LRW3E7EA" + "KC000106"),
    "deregistered": _vin("LSVAB23C" + "9M000107"),
    "scrapped": _vin("LSVAB23C" + "BM000108"),
    "truck_renewal": _vin("LGBH52E0" + "EY000109"),
}
SCRAPPED_ON = datetime.date(2025, 11, 20)


def _rows() -> list[list[str]]:
    v = DEMO_VINS
    li, zhao, wang = (
        _resident_id("11010519800312123"),
        _resident_id("11010819751120045"),
        _resident_id("11010819900101567"),
    )
    taxi_company, haulier = _uscc("91110105MA01DHX71"), HAULIER_USCC
    r = "注册登记"
    return [
        [r, v["private_car"], "2010-03-15", "private_small", "非营运", "汽油", "1598", "国四", "个人", "李明", li, "朝阳区", "", "", ""],
        ["转移登记", v["private_car"], "2018-06-20", "", "", "", "", "", "个人", "赵芳", zhao, "海淀区", "", "", ""],
        ["检验", v["private_car"], "2024-03-10", "", "", "", "", "", "", "", "", "", "合格", "186000", ""],
        [r, v["taxi"], "2018-01-10", "taxi_small", "营运", "汽油", "1798", "国五", "单位", "北京京城出租汽车有限公司", taxi_company, "东城区", "", "", ""],
        ["检验", v["taxi"], "2025-01-08", "", "", "", "", "", "", "", "", "", "合格", "512000", ""],
        [r, v["taxi_due"], "2019-06-01", "taxi_small", "营运", "插电式混合动力", "1498", "国六", "单位", "北京京城出租汽车有限公司", taxi_company, "东城区", "", "", ""],
        [r, v["truck_bj"], "2014-05-20", "truck_heavy", "营运", "柴油", "11596", "国四", "单位", "北京京运物流有限公司", haulier, "通州区", "", "", ""],
        ["检验", v["truck_bj"], "2025-05-12", "", "", "", "", "", "", "", "", "", "合格", "640000", ""],
        [r, v["truck_old"], "2011-03-01", "truck_heavy", "营运", "柴油", "9726", "国三", "单位", "北京京运物流有限公司", haulier, "通州区", "", "", ""],
        [r, v["nev"], "2019-08-01", "private_small", "非营运", "纯电动", "", "", "个人", "王静", wang, "大兴区", "", "", ""],
        [r, v["deregistered"], "2009-04-02", "private_small", "非营运", "汽油", "1984", "国三", "个人", "李明", li, "朝阳区", "", "", ""],
        ["注销登记", v["deregistered"], "2024-09-30", "", "", "", "", "", "", "", "", "", "", "", "报废"],
        # The demo resident's own old car: scrapped by the demo scrapping enterprise and then deregistered, so the
        # resident can walk the car scrap-and-replace application from their phone.
        # The haulier's truck to renew under bj-truck-2024: scrapped and deregistered below.
        [r, v["truck_renewal"], "2014-09-16", "truck_heavy", "营运", "柴油", "11596", "国四", "单位", "北京京运物流有限公司", haulier, "通州区", "", "", ""],
        [r, v["scrapped"], "2011-05-10", "private_small", "非营运", "汽油", "1598", "国四", "个人", DEMO_RESIDENT_NAME, DEMO_RESIDENT_ID, "朝阳区", "", "", ""],
    ]  # fmt: skip


def _deregistration(vin: str = DEMO_VINS["scrapped"]) -> bytes:
    """The traffic police's deregistration of a scrapped vehicle, a week after the intake (a second file: nothing
    may follow a deregistration, so it can only be imported once the vehicle is scrapped)."""
    row = ["注销登记", vin, (SCRAPPED_ON + datetime.timedelta(days=7)).isoformat()]
    return _csv([row + [""] * 11 + ["报废"]])


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def demo_file() -> bytes:
    return _csv(_rows())


DEMO_NEV_MODELS = [
    {"model_code": "BYD7005BEVA3", "manufacturer": "比亚迪汽车工业有限公司", "brand": "比亚迪"},
    {"model_code": "BJ7000C5D7-BEV", "manufacturer": "北京新能源汽车股份有限公司", "brand": "北京"},
    {"model_code": "TSL7000BEVBR1", "manufacturer": "特斯拉（上海）有限公司", "brand": "特斯拉"},
]


def load_demo(admin: User) -> None:
    """Idempotent: imports the demo file once (a second run would find every event recorded anyway), then has
    the demo scrapping enterprise scrap one car: its certificate and its five major assemblies."""
    if Vehicle.objects.filter(vin__in=list(DEMO_VINS.values())).count() < len(DEMO_VINS):
        services.import_registrations(actor=admin, file_name="演示-机动车登记数据.csv", content=demo_file())
    # A few models standing for the MIIT NEV catalogue, so that an NEV application can be decided in the demo
    # (without any catalogue the platform refuses to price an NEV); known models are left as they are.
    import_nev_catalogue(actor=admin, rows=DEMO_NEV_MODELS, batch="演示")
    scrapper = User.objects.filter(username="scrapper").first()
    enterprise = Organisation.objects.filter(kind=OrganisationKind.VEHICLE_SCRAPPER, uscc=SCRAPPER_USCC).first()
    if scrapper is None or enterprise is None:
        return
    _scrap_car(admin, scrapper, enterprise)
    _scrap_truck(admin, scrapper, enterprise)


def _scrap_car(admin: User, scrapper: User, enterprise: Organisation) -> None:
    """The demo resident's car: scrapped with its five major assemblies recorded, and deregistered, once."""
    if ScrapCertificate.objects.filter(vehicle__vin=DEMO_VINS["scrapped"]).exists():
        return
    certificate = scrapping.issue_certificate(
        actor=scrapper,
        enterprise=enterprise,
        vin=DEMO_VINS["scrapped"],
        owner_id_number=DEMO_RESIDENT_ID,
        intake_on=SCRAPPED_ON,
    )
    scrapping.record_assemblies(
        actor=scrapper,
        enterprise=enterprise,
        certificate_id=certificate.pk,
        assemblies=[
            AssemblyInput("engine", "remanufacturing", "北京京再发动机再制造有限公司"),
            AssemblyInput("steering", "smelting", "首钢京唐钢铁联合有限责任公司"),
            AssemblyInput("gearbox", "remanufacturing", "北京京再发动机再制造有限公司"),
            AssemblyInput("axles", "smelting", "首钢京唐钢铁联合有限责任公司"),
            AssemblyInput("frame", "smelting", "首钢京唐钢铁联合有限责任公司"),
        ],
    )
    services.import_registrations(actor=admin, file_name="演示-机动车注销登记.csv", content=_deregistration())


def _scrap_truck(admin: User, scrapper: User, enterprise: Organisation) -> None:
    """The haulier's 国四 truck: scrapped by the demo scrapping enterprise and deregistered, once."""
    vin = DEMO_VINS["truck_renewal"]
    if ScrapCertificate.objects.filter(vehicle__vin=vin).exists():
        return
    scrapping.issue_certificate(
        actor=scrapper, enterprise=enterprise, vin=vin, owner_id_number=HAULIER_USCC, intake_on=SCRAPPED_ON
    )
    services.import_registrations(actor=admin, file_name="演示-营运货车注销登记.csv", content=_deregistration(vin))
