"""The privacy notice's generated sections: a version's frozen data map and settings, put in plain
words. Every data category, purpose, legal basis and service-provider category the privacy registry
knows has words here (tests/privacy/test_notice_pages.py checks it), so the published notice can
name everything the map contains."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from allied.core.privacy import DataMapEntry
from allied.privacy.models import NoticeVersion

CATEGORY_WORDS: dict[str, str] = {
    "user.name": "names",
    "user.contact.email": "e-mail addresses",
    "user.contact.phone_number": "phone numbers",
    "user.contact.address": "postal addresses",
    "user.contact.address.street": "street addresses",
    "user.contact.address.city": "towns and cities",
    "user.contact.address.postal_code": "postcodes",
    "user.location.precise": "map positions of addresses and of deliveries",
    "user.device.ip_address": "the network part of IP addresses",
    "user.device.cookie_id": "a random identifier stored in a cookie",
    "user.account.settings": "account settings, such as language and notification choices",
    "user.authorization.credentials": "passwords, kept only as one-way hashes",
    "user.behavior.browsing_history": "when an account was last used",
    "user.privacy_preferences": "privacy choices, such as cookie consent",
    "user.workplace": "the company someone works for",
    "user.job_title": "a person's role or job title",
    "user.unique_id": "identifiers we assign",
    "user.content": "free text such as delivery instructions, order notes and proof of delivery",
    "user.financial": "payment details, such as cash collected on delivery",
}


@dataclass(frozen=True)
class Purpose:
    title: str
    why: str


PURPOSE_WORDS: dict[str, Purpose] = {
    "account_access": Purpose(
        "Your account", "So that you can sign in to the console or the partner portal, and we know it is you."
    ),
    "preferences": Purpose(
        "Your preferences", "So that Allied speaks your language and reaches you only in the ways you picked."
    ),
    "security": Purpose(
        "Security and accountability",
        "So that every change can be traced to whoever made it, and misuse can be spotted and stopped.",
    ),
    "order_fulfillment": Purpose(
        "Fulfilling orders",
        "So that the orders a brand sends us can be picked, packed, shipped and followed up.",
    ),
    "last_mile_delivery": Purpose(
        "Delivering parcels",
        "So that a rider or courier can find the recipient, call them when needed and prove the hand-over.",
    ),
    "customer_contact": Purpose(
        "Answering you", "So that we can reply to a question or a service inquiry you sent us."
    ),
    "payments": Purpose(
        "Payments", "So that cash collected on delivery reaches the brand it belongs to, and is accounted for."
    ),
    "website_analytics": Purpose(
        "Running the website", "So that the website works and stays fast; measuring its use needs your consent."
    ),
}

LEGAL_BASIS_WORDS: dict[str, str] = {
    "consent": "your consent, which you may withdraw whenever you like",
    "contract": "the contract: without it we could not provide the service asked for",
    "legal_obligation": "a duty the law puts on us",
    "vital_interests": "protecting someone's life or health",
    "public_task": "a task carried out in the public interest",
    "legitimate_interests": "our legitimate interest, weighed against your rights",
}

RECIPIENT_WORDS: dict[str, str] = {
    "delivery_partners": "delivery partners: the courier companies that carry parcels on our behalf",
    "payment_processors": "payment processors that move money for cash on delivery and payouts",
    "hosting_providers": "cloud hosting providers that run our servers and keep our databases",
    "store_platforms": "the store platforms a brand connected to Allied, for that brand's own orders only",
}

# The date a retention period counts from, as the notice says it.
_DATE_WORDS = {
    "at": "the moment it was recorded",
    "created_at": "it was created",
    "updated_at": "its last change",
    "occurred_at": "the event",
    "received_at": "it was received",
    "requested_at": "it was requested",
    "accepted_at": "it was accepted",
    "revoked_at": "it was withdrawn",
    "expires_at": "it expired",
    "closed_at": "it was closed",
    "finished_at": "it was finished",
    "last_login": "the last sign-in",
    "date_joined": "the account was opened",
}


def category_words(category: str) -> str:
    return CATEGORY_WORDS.get(category, category)


def purpose_words(purpose: str) -> Purpose:
    return PURPOSE_WORDS.get(purpose, Purpose(purpose.replace("_", " ").capitalize(), ""))


def legal_basis_words(basis: str) -> str:
    return LEGAL_BASIS_WORDS.get(basis, basis.replace("_", " "))


def recipient_words(recipient_category: str) -> str:
    return RECIPIENT_WORDS.get(recipient_category, recipient_category.replace("_", " "))


def _date_words(name: str) -> str:
    owner, _, field = name.rpartition("'s ")
    words = _DATE_WORDS.get(field, field.replace("_", " "))
    return f"{words} (of the {owner})" if owner else words


def retention_words(description: str) -> str:
    """`while the stop is open, then 90 days after task's updated_at` → `... after its last change (of the task)`."""
    head, separator, dates = description.rpartition(" after ")
    if not separator:
        return description
    return f"{head} after " + ", or else after ".join(_date_words(name) for name in dates.split(", else "))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class PurposeSection:
    key: str
    title: str
    why: str
    categories: list[str]
    legal_bases: list[str]
    retention: list[str]
    recipients: list[str]


@dataclass(frozen=True)
class NoticeSections:
    purposes: list[PurposeSection]
    recipients: list[str]
    recipient_keys: list[str]
    honours_do_not_track: bool
    request_days: int


def notice_sections(version: NoticeVersion) -> NoticeSections:
    """The generated part of a version, from its own snapshot: an old version reads as it was published."""
    entries: list[dict[str, Any]] = sorted(version.data_map, key=lambda e: (e["purpose"], e["model_label"], e["field"]))
    by_purpose: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_purpose.setdefault(entry["purpose"], []).append(entry)
    order = [key for key in PURPOSE_WORDS if key in by_purpose] + sorted(by_purpose.keys() - PURPOSE_WORDS.keys())
    purposes = []
    for key in order:
        group = by_purpose[key]
        words = purpose_words(key)
        purposes.append(
            PurposeSection(
                key=key,
                title=words.title,
                why=words.why,
                categories=sorted(_unique(category_words(e["category"]) for e in group)),
                legal_bases=_unique(legal_basis_words(e["legal_basis"]) for e in group),
                retention=sorted(_unique(retention_words(e["retention"]) for e in group)),
                recipients=_unique(recipient_words(r) for r in sorted({r for e in group for r in e["shared_with"]})),
            )
        )
    recipient_keys = sorted({r for e in entries for r in e["shared_with"]})
    snapshot = version.settings_snapshot or {}
    return NoticeSections(
        purposes=purposes,
        recipients=[recipient_words(r) for r in recipient_keys],
        recipient_keys=recipient_keys,
        honours_do_not_track=bool(snapshot.get("honours_do_not_track", False)),
        request_days=int(snapshot.get("request_days", 30)),
    )


def change_lines(version: NoticeVersion) -> list[str]:
    """A version's change summary, one change a line."""
    return [line.strip() for line in version.change_summary.splitlines() if line.strip()]


def data_map_record(entry: DataMapEntry) -> dict[str, Any]:
    """One line of the records of processing, as the JSON and CSV exports and the API give it."""
    app, _, model = entry.model_label.partition(".")
    return {
        "app": app,
        "model": model,
        "field": entry.field,
        "category": entry.category,
        "category_words": category_words(entry.category),
        "purpose": entry.purpose,
        "legal_basis": entry.legal_basis,
        "retention": entry.retention,
        "shared_with": list(entry.shared_with),
    }
