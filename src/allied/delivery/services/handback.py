"""Settling a flagged hand-back: a rider's end of day whose cash or parcels fell short. A dispatcher
or a finance operator records what became of each shortfall (cash brought later, parcels found
and returned to the hub, the rest written off with a reason), once, audited; a settled hand-back
no longer needs attention, and the rider sees the outcome on their hand-back page."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from allied.accounts.policy import DELIVERY_MANAGE, FINANCE_MANAGE, Actor, actor_can
from allied.core.audit import audit_record
from allied.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from allied.delivery.models import HandBack, HandBackSettlement


def may_settle(actor: Actor) -> bool:
    """AES dispatch or AES finance; never a partner, never a rider."""
    return actor.is_operator and (actor_can(actor, DELIVERY_MANAGE) or actor_can(actor, FINANCE_MANAGE))


def require_settler(actor: Actor) -> None:
    if not may_settle(actor):
        raise PermissionDenied(
            "Settling hand-backs is AES dispatch's or finance's (delivery.manage or finance.manage)."
        )


def hand_backs_needing_attention(actor: Actor) -> QuerySet[HandBack]:
    """Flagged hand-backs nobody has settled yet, oldest first."""
    require_settler(actor)
    return (
        HandBack.objects.filter(flagged=True, settlement__isnull=True)
        .select_related("route__rider__user", "route__hub")
        .order_by("at", "pk")
    )


def hand_backs_settled(actor: Actor, *, limit: int = 50) -> list[HandBack]:
    """The latest settled hand-backs, newest settlement first."""
    require_settler(actor)
    return list(
        HandBack.objects.filter(settlement__isnull=False)
        .select_related("route__rider__user", "route__hub", "settlement")
        .order_by("-settlement__at", "-pk")[:limit]
    )


def access_hand_back(actor: Actor, hand_back_id: int, *, for_update: bool) -> HandBack:
    require_settler(actor)
    hand_backs = HandBack.objects.select_related("route__rider__user", "route__hub")
    if for_update:
        hand_backs = hand_backs.select_for_update(of=("self",))
    hand_back = hand_backs.filter(pk=hand_back_id).first()
    if hand_back is None:
        raise NotFound("No such hand-back.")
    return hand_back


@dataclass(frozen=True)
class SettlementInput:
    cash_received: Decimal = Decimal("0")  # cash the rider brought after the hand-back
    parcels_returned: int = 0  # parcels found and returned to the hub
    reason: str = ""  # why what is left is written off


def _errors(hand_back: HandBack, data: SettlementInput) -> list[FieldError]:
    errors: list[FieldError] = []
    cash_short = max(hand_back.cash_short, Decimal("0"))
    parcels_short = max(hand_back.parcels_short, 0)
    if data.cash_received < 0:
        errors.append(FieldError("cash_received", "Cash received is not negative."))
    elif data.cash_received > cash_short:
        errors.append(FieldError("cash_received", f"At most the shortfall, Rs {cash_short:,.2f}."))
    if data.parcels_returned < 0:
        errors.append(FieldError("parcels_returned", "Parcels returned are not negative."))
    elif data.parcels_returned > parcels_short:
        errors.append(FieldError("parcels_returned", f"At most the parcels missing, {parcels_short}."))
    if len(data.reason) > 500:
        errors.append(FieldError("reason", "At most 500 characters."))
    if errors:
        return errors
    written_off = data.cash_received < cash_short or data.parcels_returned < parcels_short
    surplus = hand_back.cash_short < 0 or hand_back.parcels_short < 0
    if (written_off or surplus) and not data.reason.strip():
        what = "what is written off" if written_off else "why more was handed over than expected"
        errors.append(FieldError("reason", f"Say {what}."))
    return errors


@transaction.atomic(savepoint=False)
def hand_back_settle(*, hand_back: HandBack, data: SettlementInput, actor: Actor) -> HandBackSettlement:
    """Settle a flagged hand-back, once: the cash received later (at most the cash short), the
    parcels returned (at most those missing), and the rest written off with a reason. Locks the
    hand-back, so two people settling it at once settle it once; the second is told so."""
    hand_back = access_hand_back(actor, hand_back.pk, for_update=True)
    if not hand_back.flagged:
        raise Conflict("This hand-back matched what was expected: there is nothing to settle.")
    if HandBackSettlement.objects.filter(hand_back=hand_back).exists():
        raise Conflict("This hand-back is already settled.")
    errors = _errors(hand_back, data)
    if errors:
        raise ValidationFailed("Nothing was settled: fix these fields.", errors=errors)
    cash_short = max(hand_back.cash_short, Decimal("0"))
    parcels_short = max(hand_back.parcels_short, 0)
    settlement = HandBackSettlement.objects.create(
        hand_back=hand_back,
        cash_received=data.cash_received,
        cash_written_off=cash_short - data.cash_received,
        parcels_returned=data.parcels_returned,
        parcels_written_off=parcels_short - data.parcels_returned,
        reason=data.reason.strip(),
        settled_by=actor.user if actor.user is not None and actor.user.pk else None,
        settled_by_label=actor.label,
        at=timezone.now(),
    )
    audit_record(
        action="delivery.hand_back_settled",
        actor=actor,
        target=hand_back,
        changes={
            "cash_short": str(cash_short),
            "cash_received": str(settlement.cash_received),
            "cash_written_off": str(settlement.cash_written_off),
            "parcels_short": parcels_short,
            "parcels_returned": settlement.parcels_returned,
            "parcels_written_off": settlement.parcels_written_off,
        },
    )
    return settlement
