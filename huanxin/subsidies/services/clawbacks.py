"""Clawbacks netted in settlement: the only code outside ``returns`` that changes a clawback.

A return of a paid sale leaves a clawback open (``returns.record_return``); settlement takes the clawbacks
of a period when it closes it, subtracting them from the merchants' payables. These are step functions, not
entry points: they run inside the caller's durable transaction (closing a period is one), write no audit
row of their own (the caller's records the close) and refuse to run outside a transaction.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import Count, Max, Sum

from huanxin.subsidies.models import Clawback
from huanxin.subsidies.queries import MerchantTally

# One statement on PostgreSQL: the update hands back the rows it netted and they are summed on the way out,
# so the clawbacks are read once, not aggregated and then updated. (The table has fillfactor 50, so the
# update stays heap-only and writes no index entries.)
_TAKE_SQL = (
    "WITH taken AS (UPDATE subsidies_clawback SET status = %s WHERE status = %s "
    "AND programme_id = %s AND created_at >= %s AND created_at < %s RETURNING merchant_id, amount_fen, id) "
    "SELECT merchant_id, count(*), sum(amount_fen)::bigint, max(id) FROM taken GROUP BY merchant_id"
)


def take_clawbacks(*, programme_id: int, start: datetime.datetime, end: datetime.datetime) -> list[MerchantTally]:
    """Net the programme's open clawbacks created in [start, end): mark them netted and return, per merchant,
    how many there were, their sum and the highest id. A step of the caller's transaction, not an entry point;
    a clawback is taken once (a second call finds none)."""
    _require_transaction()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _TAKE_SQL, [Clawback.Status.NETTED.value, Clawback.Status.OPEN.value, programme_id, start, end]
            )
            return [MerchantTally(merchant, count, total, top) for merchant, count, total, top in cursor.fetchall()]
    window = Clawback.objects.filter(
        status=Clawback.Status.OPEN, programme_id=programme_id, created_at__gte=start, created_at__lt=end
    )
    taken = [
        MerchantTally(row["merchant_id"], row["count"], row["total"], row["top"])
        for row in window.values("merchant_id").annotate(count=Count("pk"), total=Sum("amount_fen"), top=Max("pk"))
    ]
    window.update(status=Clawback.Status.NETTED)
    return taken


def _require_transaction() -> None:
    """Netting is only meaningful with the payables it is netted into: both commit together or neither."""
    if not connection.in_atomic_block:
        raise RuntimeError("take_clawbacks runs inside the settling transaction")
