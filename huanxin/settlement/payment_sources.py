"""Settlement's own source: the consumer-goods programme's merchant periods (``services.close_period``).

The bank's answer needs no word back to the subsidies app: the payable's status is what the merchant's
statement, the SLA board and reconciliation read, exactly as before payables had sources.
"""

from __future__ import annotations

from huanxin.settlement.sources import CONSUMER_SUBSIDY, register

PURPOSE = "以旧换新补贴清算款"

register(CONSUMER_SUBSIDY, label="消费品以旧换新（商户垫资清算）", purpose=PURPOSE)
