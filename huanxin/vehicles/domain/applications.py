"""Car subsidy applications, the pure part: what an evidence file really is, the automatic checks' results, and
the legal clocks (accept, decide, pay) counted in working days on the platform calendar with 补正 pausing them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from huanxin.core.domain.workdays import WorkCalendar

# ---------------------------------------------------------------- evidence files

EVIDENCE_KINDS = {
    "id_card": "身份证",
    "scrap_certificate": "报废机动车回收证明",
    "transfer_invoice": "二手车销售统一发票（转让旧车）",
    "deregistration": "机动车注销证明书",
    "new_car_invoice": "新车购车发票（机动车销售统一发票）",
    "new_registration": "新车机动车登记证书或行驶证",
    "business_licence": "营业执照（单位申请）",
    "transport_permit": "道路运输证（营运货车）",
}

# The types an evidence file may be, decided from its first bytes only (never its name or declared type).
FILE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


def sniff_file_type(content: bytes) -> str | None:
    """The content type the bytes really are (JPEG, PNG or PDF), or None for anything else."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def claimed_type(file_name: str, declared: str) -> str | None:
    """What the upload says it is: its declared content type when that is one we know, else its extension."""
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in FILE_TYPES:
        return declared
    lower = (file_name or "").lower()
    for content_type, extensions in (
        ("image/jpeg", (".jpg", ".jpeg")),
        ("image/png", (".png",)),
        ("application/pdf", (".pdf",)),
    ):
        if lower.endswith(extensions):
            return content_type
    return None


# ---------------------------------------------------------------- automatic checks

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
# A check that does not apply to this applicant (a resident-only limit, for an organisation) is listed as such
# rather than left out, so the reviewer sees that it was not forgotten.
NOT_APPLICABLE = "not_applicable"
RESULT_NAMES = {PASS: "通过", FAIL: "不通过", UNKNOWN: "无法判断", NOT_APPLICABLE: "不适用"}


@dataclass(frozen=True)
class Check:
    """One automatic check: a stable code, its Chinese title, its result and the reason in Chinese."""

    code: str
    title: str
    result: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "title": self.title, "result": self.result, "message": self.message}


def overall(checks: Sequence[Check]) -> str:
    """Fail when any check fails, unknown when any cannot tell, pass otherwise."""
    results = {c.result for c in checks}
    if FAIL in results:
        return FAIL
    if UNKNOWN in results:
        return UNKNOWN
    return PASS


# ---------------------------------------------------------------- decisions

REFUSAL_REASONS = {
    "rule_not_met": "不符合补贴政策条件",
    "vehicle_history": "旧车登记信息不符合要求",
    "certificate_mismatch": "报废证明与车辆或申请人不符",
    "not_deregistered": "旧车尚未注销登记",
    "new_car_not_eligible": "新车不符合补贴车型要求",
    "already_subsidised": "已享受过汽车补贴或车辆已补贴",
    "truck_not_covered": "旧车不是国四营运重型货车或不在申请单位名下",
    "evidence_missing": "材料不全或补正逾期",
    "evidence_false": "材料不真实",
    "other": "其他原因",
}
APPROVAL_REASONS = {"all_checks_passed": "各项核验通过", "checked_by_hand": "经人工核验符合条件"}

# ---------------------------------------------------------------- the legal clocks


@dataclass(frozen=True)
class ClockLimits:
    """Working days allowed for each stage (a programme setting)."""

    accept_days: int = 3
    decide_days: int = 15
    pay_days: int = 30


@dataclass(frozen=True)
class Pause:
    """A 补正 period: from the day it was asked to the day the material came (None: still waiting)."""

    stage: str
    start: datetime.date
    end: datetime.date | None


@dataclass(frozen=True)
class Stage:
    """One clock: when it started, its due day (extended by the working days paused), whether it stopped."""

    code: str
    title: str
    started_on: datetime.date | None
    due_on: datetime.date | None
    done_on: datetime.date | None
    paused: bool
    paused_days: int

    @property
    def overdue_on(self) -> bool:
        return self.due_on is not None and self.done_on is not None and self.done_on > self.due_on


@dataclass(frozen=True)
class Clock:
    stages: tuple[Stage, ...]
    expected_payment_on: datetime.date | None
    # Years the clock counts through whose official holiday table is not loaded: the dates above are then
    # Monday–Friday guesses, and staff are told so (never silently).
    uncovered_years: tuple[int, ...]

    @property
    def current(self) -> Stage | None:
        return next((s for s in self.stages if s.started_on is not None and s.done_on is None), None)


STAGE_TITLES = {"accept": "受理", "decide": "审核决定", "pay": "拨付到账"}


def paused_working_days(calendar: WorkCalendar, pauses: Sequence[Pause], stage: str, today: datetime.date) -> int:
    """Working days a stage's clock stood still: from the day 补正 was asked to the day the material came."""
    total = 0
    for pause in pauses:
        if pause.stage == stage:
            total += calendar.working_days_between(pause.start, pause.end or today)
    return total


def compute_clock(
    *,
    calendar: WorkCalendar,
    limits: ClockLimits,
    submitted_on: datetime.date | None,
    accepted_on: datetime.date | None,
    decided_on: datetime.date | None,
    paid_on: datetime.date | None,
    approved: bool | None,
    pauses: Sequence[Pause],
    today: datetime.date,
) -> Clock:
    """The three clocks of one application as of ``today``; a stage's due day moves on by every working day
    its clock was paused for 补正 (a pause still open counts up to today). No clock runs before submission
    (``submitted_on`` None: an application prepared for a resident who has not confirmed it yet)."""
    uncovered: set[int] = set()

    def due(start: datetime.date | None, days: int, stage: str) -> tuple[datetime.date | None, int]:
        if start is None:
            return None, 0
        paused = paused_working_days(calendar, pauses, stage, today)
        end = calendar.add_working_days(start, days + paused)
        for year in range(start.year, end.year + 1):
            if year not in calendar.years:
                uncovered.add(year)
        return end, paused

    def open_pause(stage: str) -> bool:
        return any(p.stage == stage and p.end is None for p in pauses)

    accept_due, accept_paused = due(submitted_on, limits.accept_days, "accept")
    decide_due, decide_paused = due(accepted_on, limits.decide_days, "decide")
    pay_start = decided_on if approved else None
    pay_due, _ = due(pay_start, limits.pay_days, "pay")
    stages = (
        Stage(
            "accept", STAGE_TITLES["accept"], submitted_on, accept_due, accepted_on, open_pause("accept"), accept_paused
        ),
        Stage(
            "decide", STAGE_TITLES["decide"], accepted_on, decide_due, decided_on, open_pause("decide"), decide_paused
        ),
        Stage("pay", STAGE_TITLES["pay"], pay_start, pay_due, paid_on, False, 0),
    )
    if approved is False or submitted_on is None:
        expected = None
    elif paid_on is not None:
        expected = paid_on
    elif pay_due is not None:
        expected = pay_due
    else:
        # Not decided yet: the latest day the law allows, counting the stages still ahead.
        base = decide_due or calendar.add_working_days(accept_due or submitted_on, limits.decide_days)
        expected = calendar.add_working_days(base, limits.pay_days)
        for year in range(submitted_on.year, expected.year + 1):
            if year not in calendar.years:
                uncovered.add(year)
    return Clock(stages, expected, tuple(sorted(uncovered)))
