import pytest

from allied.core import carriers
from allied.core.carriers import (
    Carrier,
    CarrierKind,
    carrier_adapter_register,
    carrier_choices,
    carrier_get,
    carrier_name,
    carrier_register,
    carriers_all,
)
from allied.core.errors import ValidationFailed
from allied.couriers.pathao import PathaoAdapter
from allied.couriers.steadfast import SteadfastAdapter


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test stay in the test: the registry starts from a copy of the built-ins."""
    monkeypatch.setattr(carriers, "_carriers", dict(carriers._carriers))


def test_built_in_carriers_are_registered_with_their_kind() -> None:
    assert [(c.code, c.name, c.kind) for c in carriers_all()][:4] == [
        ("aes_riders", "AES riders", CarrierKind.OWN_FLEET),
        ("tcs", "TCS", CarrierKind.COURIER),
        ("leopards", "Leopards Courier", CarrierKind.COURIER),
        ("mp", "M&P", CarrierKind.COURIER),
    ]
    assert {"pathao", "steadfast"} <= {c.code for c in carriers_all()}


def test_the_couriers_app_attaches_its_adapters_and_only_those() -> None:
    assert carrier_get("pathao").adapter is PathaoAdapter
    assert carrier_get("steadfast").adapter is SteadfastAdapter
    assert {c.code for c in carriers_all() if c.adapter is not None} == {"pathao", "steadfast"}


def test_carrier_get_finds_a_carrier_by_code() -> None:
    assert carrier_get("leopards") == Carrier("leopards", "Leopards Courier", CarrierKind.COURIER)


def test_an_unknown_code_is_a_validation_error_on_the_named_field() -> None:
    with pytest.raises(ValidationFailed) as raised:
        carrier_get("TCS", field="manifest.carrier")

    assert "No carrier 'TCS'" in raised.value.detail
    assert [(e.field, e.code) for e in raised.value.errors] == [("manifest.carrier", "unknown_carrier")]
    assert "tcs" in raised.value.errors[0].message


def test_choices_pair_codes_with_names_for_forms() -> None:
    assert carrier_choices()[:2] == [("aes_riders", "AES riders"), ("tcs", "TCS")]
    assert len(carrier_choices()) == len(carriers_all())


def test_carrier_name_falls_back_to_the_code_of_a_carrier_no_longer_registered() -> None:
    assert (carrier_name("mp"), carrier_name("gone_courier")) == ("M&P", "gone_courier")


@pytest.mark.usefixtures("fresh_registry")
def test_registering_again_is_harmless_but_a_reused_code_fails_loudly() -> None:
    same = carrier_register("tcs", "TCS", CarrierKind.COURIER)

    assert same is carrier_get("tcs")
    with pytest.raises(ValueError, match="already registered as TCS"):
        carrier_register("tcs", "Trax", CarrierKind.COURIER)
    with pytest.raises(ValueError, match="lower-case"):
        carrier_register("Trax Courier", "Trax", CarrierKind.COURIER)


@pytest.mark.usefixtures("fresh_registry")
def test_a_courier_app_registers_a_carrier_and_attaches_its_adapter_by_code() -> None:
    adapter = object()
    carrier_register("trax", "Trax", CarrierKind.COURIER)

    attached = carrier_adapter_register("trax", adapter)

    assert attached.adapter is adapter
    assert carrier_get("trax").adapter is adapter
    assert ("trax", "Trax") in carrier_choices()
    with pytest.raises(LookupError):
        carrier_adapter_register("nobody", adapter)
