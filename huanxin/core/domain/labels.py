"""Chinese names for the fields people and clients send, used to word error messages.

A message is read by a person, so it names a field the way the page does (成交价), never by its name in
code (``price_fen``); the name in code stays in the machine-readable part of the error (``field``). One
glossary for every door (the API's validation errors, the rule engine's input errors), so the same field
is called the same everywhere. A test checks that every input field of the API has an entry here.
"""

from __future__ import annotations

import re
from typing import Final

FIELD_LABELS: Final[dict[str, str]] = {
    # People and organisations
    "phone": "手机号",
    "password": "密码",
    "name": "名称",
    "short_name": "简称",
    "resident_id": "身份证号",
    "district": "所在区",
    "kind": "类型",
    "uscc": "统一社会信用代码",
    "destination_uscc": "接收方统一社会信用代码",
    "address": "地址",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "account_name": "账户名称",
    "bank_name": "开户银行",
    "bank_account": "银行账号",
    # Settlement's payees and payment orders
    "account_number": "银行账号",
    "payee_kind": "收款人类型",
    "source_kind": "支付来源",
    "source_ref": "来源编号",
    "reference": "收款人标识",
    "amount_fen": "金额",
    "organisation_id": "机构",
    "user_id": "用户",
    "token_id": "接口令牌",
    # Programmes, rules and the plan's measures
    "programme": "补贴项目",
    "code": "代码",
    "status": "状态",
    "stage": "办理环节",
    "state": "状态",
    "content": "规则目录内容",
    "note": "备注",
    "reason": "原因",
    "description": "说明",
    "allocations": "各区预算",
    "total_fen": "金额",
    "limit": "每页条数",
    "limits": "限额",
    "opens_at": "开始时间",
    "closes_at": "截止时间",
    "unit": "责任单位",
    "period": "期间",
    "period_id": "清算周期",
    "narrative": "进展情况",
    "indicators": "指标",
    "parent": "上级",
    # Catalogue and prices
    "q": "搜索词",
    "brand": "品牌",
    "model": "型号",
    "category": "品类",
    "categories": "经营品类",
    "product": "产品型号",
    "product_id": "产品型号",
    "merchant": "商户",
    "merchant_id": "商户",
    "price_fen": "成交价",
    "effective_from": "生效日期",
    "file": "文件",
    "file_format": "文件格式",
    "import_id": "导入批次",
    # Qualifications, redemptions and returns
    "store_id": "门店",
    "store_ids": "门店",
    "enrolment_id": "报名",
    "qualification_id": "资格",
    "redemption_id": "核销记录",
    "serial": "序列号/IMEI",
    "take_back": "回收旧机",
    "take_back_id": "回收旧机",
    "condition": "状况",
    "to_recycler": "交回收企业",
    "refund_fen": "退款金额",
    "new_price_fen": "退货后成交价",
    "confirmed_subsidy_fen": "已确认的补贴金额",
    "hold_id": "暂扣记录",
    "expires_at": "失效时间",
    # Settlement
    "number": "编号",
    # Traceability
    "codes": "追溯码",
    "events": "事件",
    "event_time": "事件时间",
    "action": "操作",
    "outputs_g": "拆解产物重量",
    # Audit and calendar queries
    "actor": "操作人",
    "object_type": "对象类型",
    "object_id": "对象编号",
    "since": "起始日期",
    "until": "截止日期",
    "today": "日期",
    "start": "起始日期",
    "end": "截止日期",
    "days": "工作日天数",
    "offset": "起始位置",
    # Car subsidy applications (vehicles)
    "programme_code": "补贴项目",
    "application_id": "申请",
    "rule_version": "规则版本",
    "run_id": "补差清单",
    "evidence_id": "申请材料",
    "batch": "批次",
    "consent_note": "申请人授权说明",
    "old_vin": "旧车车辆识别代号",
    "new_vin": "新车车辆识别代号",
    "certificate_number": "报废机动车回收证明编号",
    "transfer_invoice_number": "旧车转让发票号码",
    "new_invoice_number": "新车发票号码",
    "new_car_price_fen": "新车价格",
    "new_energy": "新车能源类型",
    "new_model_code": "新车车辆型号",
    "new_displacement_ml": "新车排量（毫升）",
    "new_weight_class": "新车重量类别",
    "new_refrigerated": "新车是否冷藏车",
    "new_truck_price_fen": "新车价格",
    "due_on": "截止日期",
    "approve": "是否批准",
    "reason_code": "决定理由",
    # The rule engine's inputs (the quote contract, docs POLICY)
    "energy_grade": "能效等级",
    "water_grade": "水效等级",
    "purchased_on": "购买日期",
    "history": "此前补贴记录",
    "other_region_categories": "外省已补贴品类",
    "old_vehicle": "旧车",
    "new_vehicle": "新车",
    "fuel": "燃料类型",
    "registered_on": "注册登记日期",
    "owned_since": "取得日期",
    "energy": "能源类型",
    "displacement_l": "排量（升）",
    "in_nev_catalogue": "是否在新能源汽车目录内",
    "applied_on": "申请日期",
    "old_bike": "旧电动自行车",
    "new_bike": "新电动自行车",
    "registered_in_beijing_on": "在京登记日期",
    "battery": "电池类型",
    "deregistered_on": "注销日期",
    "battery_health_assessed": "是否已做电池检测",
    "in_catalogue": "是否在产品目录内",
    "same_owner": "是否同一车主",
    "old_truck": "旧货车",
    "new_truck": "新货车",
    "emission_standard": "排放标准",
    "weight_class": "车型吨位",
    "refrigerated": "是否冷藏车",
    "processed_year": "拆解年度",
    "units": "拆解设备",
    "subtype": "细分类型",
    "screen_in": "屏幕尺寸（英寸）",
    "load_kg": "洗涤容量（千克）",
    "volume_l": "容积（升）",
    "cooling_w": "制冷量（瓦）",
    "count": "数量",
    "principal_fen": "贷款本金",
    "disbursed_on": "放款日期",
    "term_months": "贷款期限（月）",
    "sale_fen": "本次销售额",
    "seller_prior_12m_fen": "卖方此前 12 个月销售额",
    "seller_month_fen": "卖方本月销售额",
    # The scrapping check's inputs (机动车强制报废标准规定)
    "vehicle_type": "车辆类型",
    "as_of": "评估日期",
    "mileage_km": "行驶里程",
    "missed_inspection_cycles": "未取得检验合格标志的检验周期数",
    "passes_safety": "是否符合安全技术标准",
    "passes_emission": "是否符合排放标准",
    # The vehicle registry (VIN search, traffic police import, mandatory-scrapping list)
    "vin": "车辆识别代号",
    "good_rows_only": "仅导入无误的行",
    "bj_truck_only": "仅国四营运重型货车",
    # Scrapping (报废机动车回收证明, five major assemblies, traction battery)
    "intake_on": "回收日期",
    "owner_id_number": "所有人证件号码",
    "certificate_id": "回收证明",
    "destination": "去向",
    "assemblies": "五大总成去向",
    "assembly": "总成",
    "receiver_name": "接收单位",
    "battery_code": "动力蓄电池编码",
    "recycler_id": "接收企业",
    # Reverse invoicing (反向开票)
    "seller_name": "出售者姓名",
    "seller_id_number": "出售者身份证号码",
    "items": "收购物品",
    "weight_g": "重量（克）",
    "invoice_id": "反向发票",
    "month": "月份",
    # Recycling network and pickups
    "opening_hours": "营业时间",
    "capacity_per_month": "处理能力",
    "licence_id": "资质证书",
    "site_id": "站点",
    "active": "启用",
    "format": "格式",
}

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_label(path: str) -> str:
    """The Chinese name of a field path ("old_vehicle.registered_on" → "旧车的注册登记日期", "units[2].count"
    → "拆解设备第 3 项的数量"); "" when a part has no name in the glossary, so the caller words the message
    without one rather than show the name in code."""
    words: list[str] = []
    for match in _PART.finditer(path):
        name, index = match.groups()
        if index is not None:
            if not words:
                return ""
            words[-1] += f"第 {int(index) + 1} 项"
            continue
        label = FIELD_LABELS.get(name)
        if label is None:
            return ""
        words.append(label)
    return "的".join(words)


def field_named(path: str) -> str:
    """How a message names the field at ``path``: its Chinese name, else "该字段" (the error's ``field`` still
    says which one)."""
    return field_label(path) or "该字段"
