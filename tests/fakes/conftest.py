"""The fakes' fixtures, for tests beside them; a test elsewhere imports the one it uses
(`from tests.fakes.shopify import fake_shopify`)."""

from tests.fakes.shopify import fake_shopify  # noqa: F401
