"""The write side of policy: loading the catalogue, publishing rule sets (maker-checker), quoting,
budgets and progress reports on the plan's measures."""

from __future__ import annotations

import datetime
import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from huanxin.accounts.models import District, User
from huanxin.accounts.roles import BUDGET_HOLDERS, MEASURE_REPORTERS, PROGRAMME_SETTERS, RULE_EDITORS
from huanxin.core import audit
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import has_role, organisations_for
from huanxin.policy import ledger, queries
from huanxin.policy.domain import CATALOGUE_DIR, CatalogueError, InputError, RuleSet, Term, load_rule_set
from huanxin.policy.models import (
    Measure,
    Programme,
    ProgressReport,
    ResponsibleUnit,
    RuleSetVersion,
    StoredDecision,
)

PROGRAMMES_FILE = Path(__file__).resolve().parent / "data" / "programmes.toml"


def _authorise(actor: User, programme: Programme, roles: tuple[str, ...], *, code: str, message: str) -> None:
    """Refuse an actor who lacks ``roles``, or holds them only for a district: programmes are city-wide."""
    if not has_role(actor, *roles):
        raise ForbiddenError(message, code=code)
    if not queries.covers_programme(actor, programme, *roles):
        raise ForbiddenError(
            "您的权限范围仅限所在区；全市项目的规则、预算和设置须由市级人员办理", code="programme_out_of_scope"
        )


def content_digest(text: str) -> str:
    """The digest that identifies a catalogue file's exact text."""
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=256)
def compiled(content: str) -> RuleSet:
    """Compile a stored catalogue text once per process (rule sets are immutable once stored)."""
    return load_rule_set(content)


def _programme_meta() -> dict[str, dict[str, Any]]:
    return tomllib.loads(PROGRAMMES_FILE.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class LoadResult:
    code: str
    outcome: str  # "created", "unchanged", "pending"
    version: int


def load_catalogue(*, actor: User | None = None, directory: Path = CATALOGUE_DIR) -> list[LoadResult]:
    """Load every catalogue file idempotently.

    A programme's first file is published at once (bootstrap: there is nothing to compare it with). A
    changed file becomes a *pending* version that another person must approve before it decides
    anything; an unchanged file does nothing.
    """
    meta = _programme_meta()
    files = [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.toml"))]
    if actor is not None:
        # A named actor submits (or, for a new programme, publishes) rule versions: the same authority as
        # prepare_rule_set, checked for every file before anything is written. No actor is the operator's
        # bootstrap load from the shipped files.
        existing = {p.code: p for p in Programme.objects.all()}
        for _, text in files:
            rule_set, _ = _parse_catalogue(text)
            programme = existing.get(rule_set.code) or Programme(code=rule_set.code, family=rule_set.family)
            _authorise(
                actor,
                programme,
                RULE_EDITORS,
                code="ruleset_prepare_forbidden",
                message="只有审核人员或系统管理员可以提交规则修改",
            )
    return [_load_one(text, meta.get(stem, {}), actor) for stem, text in files]


def _parse_catalogue(text: str) -> tuple[RuleSet, str]:
    """Compile a catalogue text about to be stored, with its digest; a broken file is an error on ``content``."""
    try:
        rule_set = load_rule_set(text)
    except (CatalogueError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValidationFailed.for_field("content", "invalid_catalogue", f"规则文件无效：{exc}") from None
    return rule_set, content_digest(text)


def _load_one(text: str, meta: Mapping[str, Any], actor: User | None) -> LoadResult:
    rule_set, digest = _parse_catalogue(text)
    with transaction.atomic(durable=True):
        programme = Programme.objects.filter(code=rule_set.code).first()
        if programme is None:
            measure = Measure.objects.filter(number=meta["measure"]).first() if "measure" in meta else None
            programme = Programme.objects.create(
                code=rule_set.code,
                name=rule_set.name,
                family=rule_set.family,
                measure=measure,
                starts_on=meta.get("starts_on"),
                ends_on=meta.get("ends_on"),
                description=rule_set.description,
            )
            audit.record(
                actor=actor or "catalogue",
                action="policy.programme.create",
                target=programme,
                after={"code": programme.code, "name": programme.name, "measure": measure},
            )
        existing = RuleSetVersion.objects.filter(programme=programme, digest=digest).first()
        if existing is not None:
            return LoadResult(programme.code, "unchanged", existing.version)
        version = _create_version(programme, text, rule_set, digest, actor, publish_if_first=True)
    published = version.status == RuleSetVersion.Status.PUBLISHED
    return LoadResult(programme.code, "created" if published else "pending", version.version)


def _create_version(
    programme: Programme,
    text: str,
    rule_set: RuleSet,
    digest: str,
    actor: User | None,
    *,
    publish_if_first: bool,
    note: str = "",
) -> RuleSetVersion:
    """Store a new version; with ``publish_if_first`` the programme's first version is published at once."""
    latest = RuleSetVersion.objects.filter(programme=programme).order_by("-version").first()
    # One read answers both questions: is the version number higher, and is this the first version.
    publish = publish_if_first and latest is None
    if latest is not None and rule_set.version <= latest.version:
        raise ValidationFailed.for_field(
            "content",
            "version_not_increased",
            f"规则文件已修改，但 version 未提高：当前最新为第 {latest.version} 版，"
            f"请将 version 设为 {latest.version + 1} 或更高",
        )
    if rule_set.code != programme.code:
        raise ValidationFailed.for_field("content", "code_mismatch", "规则文件中的 code 与项目代码不一致")
    now = timezone.now()
    version = RuleSetVersion.objects.create(
        programme=programme,
        version=rule_set.version,
        digest=digest,
        content=text,
        source=rule_set.source[:300],
        effective_from=rule_set.effective_from,
        prepared_by=actor,
        note=note,
        status=RuleSetVersion.Status.PUBLISHED if publish else RuleSetVersion.Status.PENDING,
        decided_at=now if publish else None,
    )
    audit.record(
        actor=actor or "catalogue",
        action="policy.ruleset.publish_initial" if publish else "policy.ruleset.prepare",
        target=version,
        after={
            "version": version.version,
            "digest": digest,
            "effective_from": version.effective_from,
            "status": version.status,
        },
    )
    return version


def prepare_rule_set(*, actor: User, programme: Programme, content: str, note: str = "") -> RuleSetVersion:
    """Propose a changed catalogue file; it decides nothing until a second person approves it."""
    _authorise(
        actor,
        programme,
        RULE_EDITORS,
        code="ruleset_prepare_forbidden",
        message="只有审核人员或系统管理员可以提交规则修改",
    )
    rule_set, digest = _parse_catalogue(content)
    if RuleSetVersion.objects.filter(programme=programme, digest=digest).exists():
        raise ValidationFailed.for_field("content", "unchanged", "规则内容与已有版本完全相同")
    try:
        with transaction.atomic(durable=True):
            return _create_version(programme, content, rule_set, digest, actor, publish_if_first=False, note=note)
    except IntegrityError:
        raise ConflictError("该版本号已存在，请刷新后重试", code="ruleset_version_taken") from None


def decide_rule_set(*, actor: User, version: RuleSetVersion, approve: bool, note: str = "") -> RuleSetVersion:
    """Approve (publish) or reject a pending version. The preparer can never decide their own version."""
    _authorise(
        actor,
        version.programme,
        RULE_EDITORS,
        code="ruleset_approve_forbidden",
        message="只有审核人员或系统管理员可以审批规则",
    )
    if version.prepared_by_id == actor.pk:
        raise ForbiddenError("不能审批自己提交的规则修改（须由另一人审批）", code="four_eyes")
    new_status = RuleSetVersion.Status.PUBLISHED if approve else RuleSetVersion.Status.REJECTED
    with transaction.atomic(durable=True):
        now = timezone.now()
        changed = RuleSetVersion.objects.filter(pk=version.pk, status=RuleSetVersion.Status.PENDING).update(
            status=new_status, approved_by=actor, decided_at=now, note=note or version.note
        )
        if changed != 1:
            raise ConflictError("该版本已被处理", code="ruleset_not_pending")
        audit.record(
            actor=actor,
            action="policy.ruleset.approve" if approve else "policy.ruleset.reject",
            target=version,
            before={"status": RuleSetVersion.Status.PENDING},
            after={"status": new_status, "note": note},
        )
    version.refresh_from_db()
    return version


def published_version(programme_code: str, on: datetime.date | None = None) -> RuleSetVersion | None:
    """The published version in force on ``on`` (the latest effective one; today by default)."""
    day = on or timezone.localdate()
    queryset = RuleSetVersion.objects.filter(
        programme__code=programme_code, status=RuleSetVersion.Status.PUBLISHED
    ).order_by("-effective_from", "-version")
    return queryset.filter(effective_from__lte=day).first() or queryset.last()


def published_versions(programmes: Iterable[Programme], on: datetime.date | None = None) -> dict[int, RuleSetVersion]:
    """``published_version`` of several programmes in one query, by programme pk (absent: none published).

    The versions come with their programme, so ``version.label`` costs no further query.
    """
    day = on or timezone.localdate()
    published = RuleSetVersion.objects.filter(programme=OuterRef("pk"), status=RuleSetVersion.Status.PUBLISHED)
    # The same choice as published_version: the latest version in force on the day, else the earliest one.
    in_force = published.filter(effective_from__lte=day).order_by("-effective_from", "-version").values("pk")[:1]
    earliest = published.order_by("effective_from", "version").values("pk")[:1]
    chosen = Programme.objects.filter(pk__in=[p.pk for p in programmes]).annotate(
        version_pk=Coalesce(Subquery(in_force), Subquery(earliest))
    )
    versions = RuleSetVersion.objects.filter(pk__in=chosen.values("version_pk")).select_related("programme")
    return {version.programme_id: version for version in versions}


@dataclass(frozen=True)
class ProgrammeSummary:
    """What the public reads about a programme, all from its published rule version (none: nothing to say)."""

    programme: Programme
    version: RuleSetVersion | None
    rule_set: RuleSet | None

    @property
    def description(self) -> str:
        """The published version's own description (the programme row keeps the first version's text)."""
        return self.rule_set.description if self.rule_set is not None else ""

    @property
    def terms(self) -> tuple[Term, ...]:
        """Rates, caps, grades, dates and limits in plain Chinese, per category or per kind of purchase."""
        return self.rule_set.terms if self.rule_set is not None else ()

    @property
    def categories(self) -> list[dict[str, Any]]:
        """Each covered category with the most one item can get (None where the amount grows with the input)."""
        if self.rule_set is None:
            return []
        rows = []
        for code, name in self.rule_set.category_names.items():
            try:
                most: int | None = self.rule_set.max_amount_fen(code)
            except ValueError:
                most = None
            rows.append({"code": code, "name": name, "max_fen": most})
        return rows


def describe_programmes(programmes: Iterable[Programme], on: datetime.date | None = None) -> list[ProgrammeSummary]:
    """Summaries of ``programmes`` under the versions in force on ``on`` (today), in one query for the versions."""
    programmes = list(programmes)
    versions = published_versions(programmes, on)
    summaries = []
    for programme in programmes:
        version = versions.get(programme.pk)
        rule_set = compiled(version.content) if version is not None else None
        summaries.append(ProgrammeSummary(programme, version, rule_set))
    return summaries


def rule_set_for(programme_code: str, on: datetime.date | None = None) -> RuleSet:
    """The rule set that decides ``programme_code`` on a day; the shipped file when none is loaded."""
    version = published_version(programme_code, on)
    if version is not None:
        return compiled(version.content)
    return shipped_rule_set(programme_code)


def shipped_rule_set(programme_code: str) -> RuleSet:
    """The catalogue file shipped with the code for ``programme_code``; an unknown code is NotFoundError."""
    path = CATALOGUE_DIR / f"{programme_code}.toml"
    if not path.is_file():
        raise NotFoundError(f"未知的补贴项目：{programme_code}", code="unknown_programme")
    return compiled(path.read_text(encoding="utf-8"))


def decision_day(payload: Mapping[str, Any]) -> datetime.date | None:
    for key in ("purchased_on", "applied_on"):
        value = payload.get(key) if isinstance(payload, Mapping) else None
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                return None
    return None


def quote(*, programme_code: str, payload: Any, source: str = "api") -> dict[str, Any]:
    """Decide one input; the decision is stored with the version that made it. Malformed → InputError."""
    if not isinstance(payload, Mapping):
        raise InputError("invalid_type", "input", "输入应为 JSON 对象")
    rule_set = rule_set_for(programme_code, decision_day(payload))
    decision = rule_set.evaluate(payload).to_dict()
    StoredDecision.objects.create(
        programme_code=programme_code,
        rule_version=decision["rule_version"],
        input=dict(payload),
        output=decision,
        eligible=decision["eligible"],
        amount_fen=decision["amount_fen"],
        source=source,
    )
    return decision


@dataclass(frozen=True)
class PreviewRow:
    """One past input decided by the published rules (old) and by the draft (new); changed when they differ."""

    input: dict[str, Any]
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    changed: bool


def preview(version: RuleSetVersion, *, sample: int = 50) -> list[PreviewRow]:
    """Past inputs of the programme decided by the published version and by ``version``, side by side."""
    current = published_version(version.programme.code)
    old_rules = compiled(current.content) if current is not None and current.pk != version.pk else None
    new_rules = compiled(version.content)
    inputs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for stored in StoredDecision.objects.filter(programme_code=version.programme.code).order_by("-created_at")[
        : sample * 4
    ]:
        key = repr(sorted(stored.input.items()))
        if key not in seen:
            seen.add(key)
            inputs.append(stored.input)
        if len(inputs) >= sample:
            break
    rows = []
    for payload in inputs:
        old = _safe(old_rules, payload)
        new = _safe(new_rules, payload)
        changed = (
            old is None or new is None or (old["eligible"], old["amount_fen"]) != (new["eligible"], new["amount_fen"])
        )
        rows.append(PreviewRow(payload, old, new, changed))
    return rows


def _safe(rule_set: RuleSet | None, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    if rule_set is None:
        return None
    try:
        return rule_set.evaluate(payload).to_dict()
    except InputError as exc:
        return {"eligible": False, "amount_fen": 0, "error": exc.to_dict()["error"], "reasons": []}


# ---------------------------------------------------------------- programmes and budgets


def set_programme_status(*, actor: User, programme: Programme, status: str) -> Programme:
    """Open a draft programme or close an open one; nothing else."""
    _authorise(
        actor,
        programme,
        PROGRAMME_SETTERS,
        code="programme_status_forbidden",
        message="只有审核人员或系统管理员可以变更项目状态",
    )
    allowed: dict[str, str] = {
        Programme.Status.OPEN: Programme.Status.DRAFT,
        Programme.Status.CLOSED: Programme.Status.OPEN,
    }
    if status not in allowed:
        raise ValidationFailed.for_field("status", "invalid_choice", "状态只能改为进行中或已结束")
    with transaction.atomic(durable=True):
        if Programme.objects.filter(pk=programme.pk, status=allowed[status]).update(status=status) != 1:
            raise ConflictError("项目当前状态不允许此变更", code="programme_status_conflict")
        audit.record(
            actor=actor,
            action="policy.programme.status",
            target=programme,
            before={"status": allowed[status]},
            after={"status": status},
        )
    programme.status = status
    return programme


def set_budget(*, actor: User, programme: Programme, total_fen: int, allocations: Mapping[str, int]) -> Programme:
    """Set a programme's total budget and its split by district; the split must add up to the total.

    A district's allocation can never drop below what it has already held or spent.
    """
    _authorise(
        actor, programme, BUDGET_HOLDERS, code="budget_forbidden", message="只有财政人员或系统管理员可以调整预算"
    )
    errors: list[FieldError] = []
    # ``True`` is an int to Python: a flag must never become a budget of 1 fen.
    if type(total_fen) is not int:
        errors.append(FieldError("total_fen", "invalid_type", "类型不正确，应为以分为单位的整数"))
    elif total_fen < 0:
        errors.append(FieldError("total_fen", "negative", "总预算不能为负数"))
    known = set(District.objects.values_list("code", flat=True))
    for code, amount in allocations.items():
        if code not in known:
            errors.append(FieldError(f"allocations.{code}", "unknown_district", "行政区不存在"))
        elif type(amount) is not int:
            errors.append(FieldError(f"allocations.{code}", "invalid_type", "类型不正确，应为以分为单位的整数"))
        elif amount < 0:
            errors.append(FieldError(f"allocations.{code}", "negative", "分配额度不能为负数"))
    if not errors and sum(allocations.values()) != total_fen:
        errors.append(
            FieldError(
                "allocations",
                "sum_mismatch",
                f"各区分配合计 {sum(allocations.values())} 分，与总预算 {total_fen} 分不一致",
            )
        )
    if errors:
        raise ValidationFailed.from_errors(errors)
    try:
        with transaction.atomic(durable=True):
            before = ledger.allocate(programme, allocations)
            Programme.objects.filter(pk=programme.pk).update(total_budget_fen=total_fen)
            audit.record(
                actor=actor,
                action="policy.budget.set",
                target=programme,
                before={"total_fen": programme.total_budget_fen, "allocations": before},
                after={"total_fen": total_fen, "allocations": dict(allocations)},
            )
    except ledger.BelowCommitted as exc:
        raise ValidationFailed.for_field(
            f"allocations.{exc.district}",
            "below_committed",
            f"{exc.district} 已冻结和使用 {exc.committed_fen} 分，分配额度不能低于此数",
        ) from None
    programme.total_budget_fen = total_fen
    return programme


# ---------------------------------------------------------------- progress reports


def units_of(user: User) -> list[ResponsibleUnit]:
    """The responsible units this user reports for (through their government organisation)."""
    organisations = organisations_for(user, *MEASURE_REPORTERS)
    return list(ResponsibleUnit.objects.filter(organisation_id__in=organisations))


def submit_progress_report(
    *,
    actor: User,
    measure: Measure,
    unit: ResponsibleUnit,
    period: str,
    narrative: str,
    indicators: Mapping[str, Any],
) -> ProgressReport:
    """A responsible unit reports on one of its measures for a month; one report per unit and period."""
    if unit.organisation_id is None or unit.organisation_id not in organisations_for(actor, *MEASURE_REPORTERS):
        raise ForbiddenError("只有该责任单位的工作人员可以填报进展", code="not_unit_member")
    if not measure.unit_links.filter(unit=unit).exists():
        raise ForbiddenError("该单位不是此措施的责任单位", code="not_responsible")
    errors: list[FieldError] = []
    try:
        year, month = (int(part) for part in period.split("-"))
        period_start = datetime.date(year, month, 1)
    except ValueError:
        errors.append(FieldError("period", "invalid_period", "报告期格式应为 YYYY-MM"))
    else:
        if period_start > timezone.localdate():
            errors.append(FieldError("period", "future_period", "不能填报未来的报告期"))
    narrative = (narrative or "").strip()
    if not 10 <= len(narrative) <= 5000:
        errors.append(FieldError("narrative", "invalid_length", "进展情况应为10至5000字"))
    targets = {t["code"]: t for t in measure.targets}
    values: dict[str, int | float] = {}
    for code, value in indicators.items():
        if code not in targets:
            errors.append(FieldError(f"indicators.{code}", "unknown_indicator", "此措施没有该指标"))
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            errors.append(FieldError(f"indicators.{code}", "invalid_value", "指标值应为非负数"))
        else:
            values[code] = value
    if errors:
        raise ValidationFailed.from_errors(errors)
    try:
        with transaction.atomic(durable=True):
            report = ProgressReport.objects.create(
                measure=measure,
                unit=unit,
                period=f"{period_start:%Y-%m}",
                narrative=narrative,
                indicators=values,
                submitted_by=actor,
            )
            audit.record(
                actor=actor,
                action="policy.report.submit",
                target=report,
                after={
                    "measure": measure.number,
                    "unit": unit.short_name,
                    "period": report.period,
                    "indicators": values,
                },
            )
    except IntegrityError:
        raise ConflictError(f"{unit.short_name} 已填报 {period_start:%Y-%m} 的进展", code="report_exists") from None
    return report
