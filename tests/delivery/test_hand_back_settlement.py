"""Settling a flagged hand-back on `/ops/hand-backs/`: a dispatcher or finance operator records the
cash received later, the parcels returned and what is written off with a reason, once, audited;
bad input is a form error with nothing stored; the rider sees the outcome on their hand-back page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from allied.accounts.roles import Role
from allied.core.models import AuditEntry
from allied.delivery.models import HandBack, HandBackSettlement, Route, RouteStatus
from tests.delivery.factories import HubFactory, RiderFactory

pytestmark = pytest.mark.django_db
PAGE = "/ops/hand-backs/"


@pytest.fixture
def short(operator_org, member) -> HandBack:
    """Yesterday's hand-back of a rider: Rs 500 and 2 parcels short."""
    rider_user = member(operator_org, Role.RIDER).user
    hub = HubFactory()
    day = timezone.localdate() - timedelta(days=1)
    route = Route.objects.create(
        hub=hub,
        rider=RiderFactory(user=rider_user, hub=hub),
        date=day,
        status=RouteStatus.DONE,
        starts_at=timezone.now(),
        ends_at=timezone.now(),
    )
    return HandBack.objects.create(
        route=route,
        expected_cash=Decimal("3000.00"),
        handed_cash=Decimal("2500.00"),
        expected_parcels=3,
        handed_parcels=1,
        expected_codes=["AES-AAAA-BBBB-CCCC-1", "AES-AAAA-BBBB-CCCC-2", "AES-AAAA-BBBB-CCCC-3"],
        flagged=True,
        at=timezone.now() - timedelta(hours=20),
        recorded_by="rider@aes.example",
    )


@pytest.fixture
def dispatcher(operator_org, member, client_for) -> Client:
    return client_for(member(operator_org, Role.DISPATCHER))


def settle(client: Client, hand_back: HandBack, **values: str):
    return client.post(PAGE, {"hand_back": hand_back.pk, "cash_received": "0", "parcels_returned": "0"} | values)


def test_a_shortfall_is_settled_once_audited_and_leaves_the_list(short: HandBack, dispatcher: Client) -> None:
    assert "Needs attention (1)" in dispatcher.get(PAGE).content.decode()

    answer = settle(dispatcher, short, cash_received="500", parcels_returned="1", reason="One parcel lost in the rain")

    assert answer.status_code == 302
    settlement = HandBackSettlement.objects.get(hand_back=short)
    assert (settlement.cash_received, settlement.cash_written_off) == (Decimal("500.00"), Decimal("0.00"))
    assert (settlement.parcels_returned, settlement.parcels_written_off) == (1, 1)
    assert settlement.settled_by_label
    page = dispatcher.get(PAGE).content.decode()
    assert "Needs attention (0)" in page
    assert "Rs 500.00 received later; 1 parcel returned to the hub; 1 parcel written off" in page
    audit = AuditEntry.objects.get(action="delivery.hand_back_settled")
    assert audit.changes["parcels_written_off"] == 1

    again = settle(dispatcher, short, reason="twice")
    assert again.status_code == 200
    assert "already settled" in again.content.decode()
    assert HandBackSettlement.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cash_received": "-1"}, "greater than or equal to 0"),
        ({"cash_received": "500.01", "reason": "x"}, "At most the shortfall, Rs 500.00."),
        ({"parcels_returned": "3", "reason": "x"}, "At most the parcels missing, 2."),
        ({"cash_received": "200"}, "Say what is written off."),
        ({"cash_received": "abc"}, "Enter a number."),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_stored(
    short: HandBack, dispatcher: Client, values: dict[str, str], message: str
) -> None:
    answer = settle(dispatcher, short, **values)

    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert not HandBackSettlement.objects.exists()
    assert not AuditEntry.objects.filter(action="delivery.hand_back_settled").exists()


def test_finance_may_settle_and_a_rider_or_a_partner_may_not(
    short: HandBack, operator_org, partner_a, member, client_for
) -> None:
    rider = Client()
    rider.force_login(short.route.rider.user)
    assert rider.get(PAGE).status_code == 403
    assert client_for(member(partner_a, Role.OWNER)).get(PAGE).status_code == 403

    finance = client_for(member(operator_org, Role.FINANCE))
    answer = settle(finance, short, cash_received="0", reason="Rider left AES; cash and parcels written off")
    assert answer.status_code == 302
    assert HandBackSettlement.objects.get().cash_written_off == Decimal("500.00")


def test_the_rider_sees_the_outcome_and_the_board_marks_it_settled(short: HandBack, dispatcher: Client) -> None:
    settle(dispatcher, short, cash_received="500", parcels_returned="2")
    rider = Client()
    rider.force_login(short.route.rider.user)

    page = rider.get("/ops/rider/hand-back/").content.decode()

    assert "Earlier differences" in page
    assert "Rs 500.00 received later; 2 parcels returned to the hub" in page
    board = dispatcher.get(f"/ops/dispatch/?hub={short.route.hub.code}&date={short.route.date:%Y-%m-%d}")
    assert "Settled" in board.content.decode()
