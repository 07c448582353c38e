"""Fleet health and alerts: the fleet view, alert rules, their evaluation and signed webhooks."""

from cloud.fleet.evaluation import Evaluation, evaluate, webhook_body
from cloud.fleet.rules import DEFAULT_RULES, AlertRuleSet, Condition, conditions
from cloud.fleet.service import Clock, FleetAlerts, RoundReport
from cloud.fleet.view import FleetOut, fleet
from cloud.fleet.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryRound,
    Post,
    deliver_due,
    sign,
    verify,
)

__all__ = [
    "DEFAULT_RULES",
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AlertRuleSet",
    "Clock",
    "Condition",
    "DeliveryRound",
    "Evaluation",
    "FleetAlerts",
    "FleetOut",
    "Post",
    "RoundReport",
    "conditions",
    "deliver_due",
    "evaluate",
    "fleet",
    "sign",
    "verify",
    "webhook_body",
]
