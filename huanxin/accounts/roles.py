"""The vocabulary of who may do what: roles, kinds of organisation, and the groups of roles each capability
checks, defined once.

A group is named by what its members may do, and every app checks a group from here rather than listing
roles itself, so a new role is given a capability in one place. Each group holds what its roles need and no
more: a finance officer pays merchants but reads no resident's claims; a merchant clerk sells but reads no
audit trail.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    """What a user may do; checked by the services, never only by hiding a button."""

    CONSUMER = "consumer", "消费者"
    MERCHANT_CLERK = "merchant_clerk", "商户店员"
    MERCHANT_MANAGER = "merchant_manager", "商户负责人"
    RECYCLER = "recycler", "回收企业人员"
    DISMANTLER = "dismantler", "拆解企业人员"
    CAR_DEALER = "car_dealer", "汽车销售企业人员"
    DECLARANT = "declarant", "设备更新申报人员"
    SECOND_HAND_DEALER = "second_hand_dealer", "二手商品经营企业人员"
    INSPECTION_STAFF = "inspection_staff", "检验检测机构人员"
    REVIEWER = "reviewer", "审核人员"
    FINANCE_OFFICER = "finance_officer", "财政人员"
    SUPERVISOR = "supervisor", "监管人员"
    AUDITOR = "auditor", "审计监督人员"
    ADMINISTRATOR = "administrator", "系统管理员"


class OrganisationKind(models.TextChoices):
    """What an organisation is in the programme; it decides which roles its members may hold."""

    MERCHANT = "merchant", "销售企业"
    CAR_DEALER = "car_dealer", "汽车销售企业"
    RECYCLER = "recycler", "回收企业"
    DISMANTLER = "dismantler", "拆解企业"
    VEHICLE_SCRAPPER = "vehicle_scrapper", "报废机动车回收拆解企业"
    DECLARING_ENTERPRISE = "declaring_enterprise", "设备更新申报企业"
    PUBLIC_INSTITUTION = "public_institution", "设备更新申报事业单位"
    SECOND_HAND_DEALER = "second_hand_dealer", "二手商品经营企业"
    INSPECTION_BODY = "inspection_body", "检验检测机构"
    BANK = "bank", "银行"
    GOVERNMENT = "government", "政府部门"


# Which roles make sense in which kind of organisation; memberships outside this are refused.
ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganisationKind.MERCHANT: frozenset({Role.MERCHANT_CLERK, Role.MERCHANT_MANAGER}),
    OrganisationKind.CAR_DEALER: frozenset({Role.CAR_DEALER}),
    OrganisationKind.RECYCLER: frozenset({Role.RECYCLER}),
    OrganisationKind.DISMANTLER: frozenset({Role.DISMANTLER}),
    OrganisationKind.VEHICLE_SCRAPPER: frozenset({Role.DISMANTLER}),
    OrganisationKind.DECLARING_ENTERPRISE: frozenset({Role.DECLARANT}),
    OrganisationKind.PUBLIC_INSTITUTION: frozenset({Role.DECLARANT}),
    OrganisationKind.SECOND_HAND_DEALER: frozenset({Role.SECOND_HAND_DEALER}),
    OrganisationKind.INSPECTION_BODY: frozenset({Role.INSPECTION_STAFF}),
    OrganisationKind.BANK: frozenset({Role.FINANCE_OFFICER}),
    OrganisationKind.GOVERNMENT: frozenset(
        {Role.REVIEWER, Role.FINANCE_OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR}
    ),
}

Roles = tuple[Role, ...]

# ---------------------------------------------------------------- enterprises and their staff

# Sell at the till: redeem and return, see the merchant's sales, held sales, stores and filed prices.
MERCHANT_STAFF: Roles = (Role.MERCHANT_CLERK, Role.MERCHANT_MANAGER)
# Speak for the merchant: enrol in a programme, register stores, issue the tills' API tokens, read what the
# merchant is owed and paid (its statement and payables).
MERCHANT_MANAGERS: Roles = (Role.MERCHANT_MANAGER,)
# Record what happens to old items (一机一码): take-backs at the till, pickups, hand-overs, dismantling.
TRACE_RECORDERS: Roles = (Role.MERCHANT_CLERK, Role.MERCHANT_MANAGER, Role.RECYCLER, Role.DISMANTLER)
# Run a vehicle-scrapping enterprise's yard (报废机动车回收拆解企业; its staff hold the dismantler role): record
# the intake of a vehicle, issue its 报废机动车回收证明, record the five major assemblies and hand the traction
# battery of a new-energy vehicle to a battery recycler.
VEHICLE_SCRAPPING_STAFF: Roles = (Role.DISMANTLER,)
# Buy scrap from individuals and issue them reverse invoices (反向开票): the staff of a recycler, a dismantler or a
# vehicle-scrapping enterprise; the service also checks that the organisation holds one of the three
# qualifications on the purchase date.
REVERSE_INVOICE_ISSUERS: Roles = (Role.RECYCLER, Role.DISMANTLER)
# Members of a non-government organisation: each sees its own organisation's record and licences (a bank's
# staff hold the finance officer role).
ORGANISATION_MEMBERS: Roles = (
    Role.MERCHANT_CLERK,
    Role.MERCHANT_MANAGER,
    Role.RECYCLER,
    Role.DISMANTLER,
    Role.CAR_DEALER,
    Role.DECLARANT,
    Role.SECOND_HAND_DEALER,
    Role.INSPECTION_STAFF,
    Role.FINANCE_OFFICER,
)

# ---------------------------------------------------------------- government

# Every government role: reads programmes, the plan's measures, organisations and price filings of their
# districts (or the whole city), and catalogue import reports.
GOVERNMENT_STAFF: Roles = (Role.REVIEWER, Role.FINANCE_OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)
# Oversee residents and what they do: residents' profiles, qualifications, sales, held sales and enrolments of
# their districts, the staff search by resident ID, the budget-burn board, and every trace item.
OVERSIGHT_STAFF: Roles = (Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)
# Decide on merchants' enrolments and held sales in their districts.
REVIEWERS: Roles = (Role.REVIEWER,)
# Propose and approve a programme's rule set; open and close a programme (city-wide grants only).
RULE_EDITORS: Roles = (Role.REVIEWER, Role.ADMINISTRATOR)
PROGRAMME_SETTERS: Roles = (Role.REVIEWER, Role.ADMINISTRATOR)
# Allocate a programme's budget to districts and move it between them (city-wide grants only).
BUDGET_HOLDERS: Roles = (Role.FINANCE_OFFICER, Role.ADMINISTRATOR)
# Report progress on the plan's measures for the responsible unit they belong to.
MEASURE_REPORTERS: Roles = (Role.REVIEWER, Role.ADMINISTRATOR)
# Keep the product catalogue: import product lists.
CATALOGUE_KEEPERS: Roles = (Role.ADMINISTRATOR, Role.REVIEWER)
# Set the city's price checks at checkout.
PRICE_RULE_SETTERS: Roles = (Role.ADMINISTRATOR,)
# Read the budget burn board (pools by district, holds and spend by category; no resident's data): those who
# oversee the programme and the finance officers who hold its budget.
BUDGET_WATCHERS: Roles = (Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR, Role.FINANCE_OFFICER, Role.ADMINISTRATOR)
# Read settlement: every payable, the finance board, the reconciliation report.
FINANCE_READERS: Roles = (Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADMINISTRATOR)
# Pay: assemble and approve payment batches, produce bank files, import bank results.
FINANCE_OFFICERS: Roles = (Role.FINANCE_OFFICER,)
# Read the vehicle registry: the VIN search with a vehicle's full history (owner masked) and the mandatory
# scrapping list, for the vehicles of their districts (or the whole city, for a city-wide grant).
VEHICLE_REGISTRY_READERS: Roles = (Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)
# Keep the vehicle registry: import the traffic police's registration data (city-wide grants only: the file
# covers the whole city).
VEHICLE_REGISTRY_KEEPERS: Roles = (Role.ADMINISTRATOR, Role.REVIEWER)
# Enrol organisations, grant roles, issue any token.
ADMINISTRATORS: Roles = (Role.ADMINISTRATOR,)

# ---------------------------------------------------------------- the audit trail

# The whole trail, every district and organisation.
AUDIT_WHOLE_LOG: Roles = (Role.AUDITOR, Role.ADMINISTRATOR)
# The trail of their districts (or the whole city, for a city-wide grant).
AUDIT_BY_DISTRICT: Roles = (Role.REVIEWER, Role.SUPERVISOR)
# The trail of the organisations they speak for (a merchant's manager, not its clerks).
AUDIT_BY_ORGANISATION: Roles = (
    Role.MERCHANT_MANAGER,
    Role.RECYCLER,
    Role.DISMANTLER,
    Role.CAR_DEALER,
    Role.DECLARANT,
    Role.SECOND_HAND_DEALER,
    Role.INSPECTION_STAFF,
)
# The audit page: those who read more than their own actions.
AUDIT_PAGE: Roles = (Role.AUDITOR, Role.ADMINISTRATOR, Role.REVIEWER, Role.SUPERVISOR)

# Prepare a resident's car subsidy application with their consent (一站式, measure 十五): staff of a car dealer,
# or of a licensed vehicle-scrapping enterprise (the service checks the organisation's kind).
CAR_APPLICATION_PREPARERS: Roles = (Role.CAR_DEALER, Role.DISMANTLER)

# Apply for an operating-truck renewal subsidy (bj-truck-2024) for the organisation that owns the trucks: the
# declarants of a declaring enterprise (the service checks the organisation's kind).
TRUCK_APPLICANTS: Roles = (Role.DECLARANT,)
