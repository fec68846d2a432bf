"""Cookie consent through its doors: the banner's forms, the cookie settings page, the privacy
signals a browser sends, and the helper and statistics other code reads."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client, RequestFactory
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.privacy.consent import COOKIE_MAX_AGE, COOKIE_NAME, COOKIE_SALT, consent_allows
from allied.privacy.models import ConsentRecord
from allied.privacy.selectors import consent_statistics, notice_current
from allied.privacy.services.consent import consent_record

pytestmark = pytest.mark.django_db

CHOICE_URL = "/privacy/cookies/choice"
SETTINGS_URL = "/privacy/cookies"
BANNER_QUESTION = 'value="accept"'


def cookie_payload(client: Client) -> dict[str, Any]:
    return signing.loads(client.cookies[COOKIE_NAME].value, salt=COOKIE_SALT)


def request_with(client: Client, **headers: str) -> Any:
    """A request carrying the client's cookies (and these headers), as a view would see it."""
    request = RequestFactory().get("/", headers=headers)
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return request


# The banner ---------------------------------------------------------------------------------------


def test_a_first_visit_shows_the_banner_and_sets_no_consent_cookie(client: Client) -> None:
    response = client.get("/")

    page = response.content.decode()
    assert 'aria-labelledby="consent-banner-title"' in page
    assert '<button type="submit" name="choice" value="reject" class="consent-answer">Reject all</button>' in page
    assert '<button type="submit" name="choice" value="accept" class="consent-answer">Accept all</button>' in page
    assert "<summary>Choose</summary>" in page
    assert 'href="/privacy/cookies"' in page  # the footer's Cookie settings
    assert COOKIE_NAME not in response.cookies
    assert "Sec-GPC" in response["Vary"]
    assert not ConsentRecord.objects.exists()


def test_reject_all_records_a_refusal_and_returns_to_the_page(client: Client) -> None:
    response = client.post(CHOICE_URL, {"choice": "reject", "next": "/track/?code=x"})

    assert response.status_code == 302
    assert response["Location"] == "/track/?code=x"
    record = ConsentRecord.objects.get()
    assert (record.preferences, record.analytics, record.source) == (False, False, "banner")
    assert record.notice_version == notice_current()
    assert record.user is None
    morsel = response.cookies[COOKIE_NAME]
    assert morsel["samesite"] == "Lax"
    assert morsel["max-age"] == COOKIE_MAX_AGE
    assert morsel["httponly"] is True
    assert not morsel["secure"]  # the test server is plain http
    assert cookie_payload(client) | {"t": 0} == {
        "id": record.anonymous_id.hex,
        "p": False,
        "a": False,
        "s": "banner",
        "t": 0,
    }
    assert BANNER_QUESTION not in client.get("/").content.decode()
    assert consent_allows(request_with(client), "preferences") is False
    assert consent_allows(request_with(client), "analytics") is False


def test_without_next_the_answer_returns_to_the_page_the_banner_was_on(client: Client) -> None:
    response = client.post(CHOICE_URL, {"choice": "reject"}, headers={"Referer": "http://testserver/track/AES-1"})

    assert response["Location"] == "http://testserver/track/AES-1"


def test_a_referer_from_another_site_is_not_followed(client: Client) -> None:
    response = client.post(CHOICE_URL, {"choice": "reject"}, headers={"Referer": "https://evil.example/x"})

    assert response["Location"] == "/"
    assert ConsentRecord.objects.count() == 1


def test_accept_all_allows_every_optional_category(client: Client) -> None:
    client.post(CHOICE_URL, {"choice": "accept", "next": "/"})

    record = ConsentRecord.objects.get()
    assert (record.preferences, record.analytics) == (True, True)
    assert cookie_payload(client)["p"] is True
    assert cookie_payload(client)["a"] is True
    assert consent_allows(request_with(client), "analytics") is True
    assert consent_allows(request_with(client), "preferences") is True


def test_choose_allows_only_the_ticked_categories(client: Client) -> None:
    client.post(CHOICE_URL, {"choice": "custom", "category": ["analytics"], "next": "/"})

    record = ConsentRecord.objects.get()
    assert (record.preferences, record.analytics) == (False, True)
    assert consent_allows(request_with(client), "preferences") is False
    assert consent_allows(request_with(client), "analytics") is True


def test_the_banner_answers_htmx_with_its_saved_notice_in_place(client: Client) -> None:
    response = client.post(CHOICE_URL, {"choice": "reject", "next": "/"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="consent-banner"' in page
    assert "only strictly necessary cookies are used" in page
    assert BANNER_QUESTION not in page
    assert COOKIE_NAME in response.cookies
    assert ConsentRecord.objects.count() == 1


def test_a_signed_in_choice_records_the_user_beside_the_browser(client: Client, partner_a: Any, member: Any) -> None:
    user = member(partner_a).user
    client.force_login(user)

    client.post(CHOICE_URL, {"choice": "accept", "next": "/portal/"})

    record = ConsentRecord.objects.get()
    assert record.user == user
    assert record.anonymous_id.hex == cookie_payload(client)["id"]


def test_consent_record_gives_a_new_browser_an_anonymous_id() -> None:
    record = consent_record(anonymous_id=None, preferences=True, analytics=False, source="banner", actor=Actor())

    assert isinstance(record.anonymous_id, uuid.UUID)
    assert record.user is None


def test_consent_record_turns_a_signal_into_a_refusal() -> None:
    record = consent_record(anonymous_id=None, preferences=True, analytics=True, source="gpc", actor=Actor())

    assert (record.preferences, record.analytics) == (False, False)


# The cookie settings page -------------------------------------------------------------------------


def test_the_settings_page_says_no_choice_was_made_yet(client: Client) -> None:
    response = client.get(SETTINGS_URL)

    assert response.status_code == 200
    assert "You have not chosen yet" in response.content.decode()
    assert 'id="consent-banner"' not in response.content.decode()  # the page itself asks


def test_changing_the_choice_later_records_a_new_row_and_shows_it_with_its_date(client: Client) -> None:
    client.post(CHOICE_URL, {"choice": "reject", "next": "/"})
    first = ConsentRecord.objects.get()

    response = client.post(SETTINGS_URL, {"choice": "custom", "category": ["preferences", "analytics"]})

    assert response.status_code == 302
    assert response["Location"] == "/privacy/cookies?saved=1"
    latest = ConsentRecord.objects.order_by("-id").first()
    assert latest is not None
    assert ConsentRecord.objects.count() == 2
    assert (latest.source, latest.preferences, latest.analytics) == ("settings", True, True)
    assert latest.anonymous_id == first.anonymous_id
    page = client.get(response["Location"]).content.decode()
    assert "Your choice is saved." in page
    assert "accepted all optional cookies" in page
    assert f"On {timezone.localtime(latest.at):%-d %B %Y}" in page
    assert consent_allows(request_with(client), "analytics") is True


# Bad input: an answer, nothing stored -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"choice": "custom", "category": ["marketing"], "next": "/"},
        {"choice": "accept", "next": "https://evil.example/"},
        {"choice": "accept", "next": "//evil.example/"},
        {"choice": "maybe", "next": "/"},
        {"next": "/"},
    ],
    ids=["unknown category", "next elsewhere", "next scheme-relative", "unknown choice", "no choice"],
)
@pytest.mark.parametrize("url", [CHOICE_URL, SETTINGS_URL])
def test_bad_input_is_refused_and_nothing_is_stored(client: Client, url: str, body: dict[str, Any]) -> None:
    response = client.post(url, body)

    assert response.status_code == 400
    assert "Your choice was not saved" in response.content.decode()
    assert not ConsentRecord.objects.exists()
    assert COOKIE_NAME not in response.cookies


def test_an_unknown_category_is_named_in_the_error(client: Client) -> None:
    response = client.post(CHOICE_URL, {"choice": "custom", "category": ["marketing"]})

    assert "marketing is not a cookie category." in response.content.decode()


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"}],
)
@pytest.mark.parametrize("url", [CHOICE_URL, SETTINGS_URL])
def test_a_choice_posted_from_another_site_is_refused(client: Client, url: str, headers: dict[str, str]) -> None:
    response = client.post(url, {"choice": "accept", "next": "/"}, headers=headers)

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


def test_a_choice_posted_from_this_site_is_taken(client: Client) -> None:
    response = client.post(
        CHOICE_URL,
        {"choice": "accept", "next": "/"},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 302
    assert ConsentRecord.objects.count() == 1


@pytest.mark.parametrize(
    "forged",
    [
        signing.dumps({"id": uuid.uuid4().hex, "p": True, "a": True, "s": "banner", "t": 0}, salt="another purpose"),
        signing.dumps(
            {"id": uuid.uuid4().hex, "p": True, "a": True, "s": "banner", "t": 0},
            key="not the site's key",
            salt=COOKIE_SALT,
        ),
        '{"id": "0", "p": true, "a": true, "s": "banner"}',
    ],
    ids=["other salt", "other key", "unsigned"],
)
def test_a_forged_consent_cookie_counts_as_no_choice(client: Client, forged: str) -> None:
    client.cookies[COOKIE_NAME] = forged

    page = client.get("/").content.decode()

    assert BANNER_QUESTION in page
    assert consent_allows(request_with(client), "analytics") is False


def test_an_edited_consent_cookie_counts_as_no_choice(client: Client) -> None:
    client.post(CHOICE_URL, {"choice": "reject", "next": "/"})
    value = client.cookies[COOKIE_NAME].value
    payload, _, signature = value.partition(":")
    edited = signing.b64_encode(signing.b64_decode(payload.encode()).replace(b'"a":false', b'"a":true')).decode()
    client.cookies[COOKIE_NAME] = f"{edited}:{signature}"

    assert consent_allows(request_with(client), "analytics") is False
    assert BANNER_QUESTION in client.get("/").content.decode()


# Privacy signals ----------------------------------------------------------------------------------


def test_gpc_is_a_refusal_recorded_once_per_browser(client: Client) -> None:
    first = client.get("/", headers={"Sec-GPC": "1"})

    page = first.content.decode()
    assert "Global Privacy Control signal, and we honour it" in page
    assert BANNER_QUESTION not in page
    record = ConsentRecord.objects.get()
    assert (record.source, record.preferences, record.analytics) == ("gpc", False, False)
    assert cookie_payload(client)["s"] == "gpc"

    again = client.get("/", headers={"Sec-GPC": "1"})

    assert ConsentRecord.objects.count() == 1
    assert COOKIE_NAME not in again.cookies
    assert 'id="consent-banner"' not in again.content.decode()


def test_gpc_overrides_an_earlier_acceptance(client: Client) -> None:
    client.post(CHOICE_URL, {"choice": "accept", "next": "/"})

    client.get("/", headers={"Sec-GPC": "1"})

    assert consent_allows(request_with(client, **{"Sec-GPC": "1"}), "analytics") is False
    assert list(ConsentRecord.objects.order_by("id").values_list("source", flat=True)) == ["banner", "gpc"]
    page = client.get(SETTINGS_URL, headers={"Sec-GPC": "1"}).content.decode()
    assert "Global Privacy Control signal" in page
    assert 'name="choice"' not in page


def test_a_choice_posted_while_gpc_is_sent_is_refused_and_not_stored(client: Client) -> None:
    client.get("/", headers={"Sec-GPC": "1"})

    response = client.post(CHOICE_URL, {"choice": "accept", "next": "/"}, headers={"Sec-GPC": "1"})

    assert response.status_code == 409
    assert list(ConsentRecord.objects.values_list("source", flat=True)) == ["gpc"]


def test_once_gpc_stops_the_visitor_is_asked(client: Client) -> None:
    client.get("/", headers={"Sec-GPC": "1"})

    assert BANNER_QUESTION in client.get("/").content.decode()
    assert consent_allows(request_with(client), "analytics") is False


def test_do_not_track_is_ignored_when_the_setting_is_off(client: Client, settings: Any) -> None:
    settings.ALLIED_HONOUR_DNT = False

    page = client.get("/", headers={"DNT": "1"}).content.decode()

    assert BANNER_QUESTION in page
    assert not ConsentRecord.objects.exists()


def test_do_not_track_is_a_refusal_when_the_setting_is_on(client: Client, settings: Any) -> None:
    settings.ALLIED_HONOUR_DNT = True
    client.post(CHOICE_URL, {"choice": "accept", "next": "/"})

    page = client.get("/", headers={"DNT": "1"}).content.decode()
    client.get("/", headers={"DNT": "1"})

    assert "Do Not Track signal, and we honour it" in page
    assert list(ConsentRecord.objects.order_by("id").values_list("source", flat=True)) == ["banner", "dnt"]
    assert consent_allows(request_with(client, DNT="1"), "preferences") is False


def test_consent_allows_refuses_to_guess_an_unknown_category(client: Client) -> None:
    with pytest.raises(ValueError, match="marketing"):
        consent_allows(request_with(client), "marketing")


# Statistics ---------------------------------------------------------------------------------------


def test_consent_statistics_count_choices_and_sources_since_a_moment() -> None:
    def record(source: str, preferences: bool, analytics: bool) -> ConsentRecord:
        return consent_record(
            anonymous_id=None, preferences=preferences, analytics=analytics, source=source, actor=Actor()
        )

    record("banner", True, True)
    record("banner", False, False)
    record("settings", False, True)
    record("gpc", False, False)
    old = record("banner", True, True)
    ConsentRecord.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))

    stats = consent_statistics(since=timezone.now() - timedelta(days=30))

    assert stats.total == 4
    assert stats.by_choice == {"accepted all": 1, "refused all": 2, "some categories": 1}
    assert stats.by_source == {"banner": 2, "settings": 1, "gpc": 1, "dnt": 0}
