"""The public privacy notice, its history, the privacy officer's editor and the changed-notice bar,
through the pages."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.privacy import DATA_CATEGORIES, LEGAL_BASES, PURPOSES, SERVICE_PROVIDERS, data_map
from allied.privacy.models import NoticeAcknowledgement, NoticeVersion
from allied.privacy.notice_text import (
    CATEGORY_WORDS,
    LEGAL_BASIS_WORDS,
    PURPOSE_WORDS,
    RECIPIENT_WORDS,
    purpose_words,
    recipient_words,
)
from allied.privacy.selectors import notice_changed_for, notice_current
from allied.privacy.services.notice import notice_refresh, notice_text_publish

pytestmark = pytest.mark.django_db

NEW_TEXT = "Allied runs warehouses and deliveries for brands.\n\nWrite to **privacy@allied.example** with questions."


def _officer(member: Callable[..., Any], operator_org: Any) -> Any:
    return member(operator_org, Role.PRIVACY_OFFICER)


def _publish(text: str) -> NoticeVersion:
    return notice_text_publish(text=text, actor=Actor.system("tests"))


def test_every_term_of_the_privacy_registry_has_words_for_the_notice() -> None:
    assert CATEGORY_WORDS.keys() >= DATA_CATEGORIES
    assert PURPOSE_WORDS.keys() >= PURPOSES
    assert LEGAL_BASIS_WORDS.keys() >= LEGAL_BASES
    assert RECIPIENT_WORDS.keys() >= SERVICE_PROVIDERS


def test_the_notice_names_every_purpose_and_every_recipient_category_of_the_data_map(client) -> None:
    response = client.get("/privacy/")

    assert response.status_code == 200
    body = response.content.decode()
    entries = data_map()
    for purpose in {entry.purpose for entry in entries}:
        assert f'id="purpose-{purpose}"' in body
        assert purpose_words(purpose).title in body
    for recipient in {r for entry in entries for r in entry.shared_with}:
        assert recipient_words(recipient).capitalize() in body.replace("&#x27;", "'")
    assert "never sells personal data" in body


def test_the_notice_links_requests_states_their_deadline_and_its_version(client, settings) -> None:
    settings.ALLIED_PRIVACY_REQUEST_DAYS = 21
    version = notice_refresh()

    body = client.get("/privacy/").content.decode()

    assert 'href="/privacy/requests/new"' in body
    assert "within 21 days" in body
    assert f"(version {version.number})" in body
    assert 'href="/privacy/versions/"' in body


def test_the_notice_states_do_not_track_as_configured_and_a_change_publishes_a_version(client, settings) -> None:
    settings.ALLIED_HONOUR_DNT = False
    before = notice_refresh()
    assert "We do not act on the Do Not Track signal" in client.get("/privacy/").content.decode()

    settings.ALLIED_HONOUR_DNT = True
    after = notice_refresh()

    assert after.number == before.number + 1
    assert after.settings_snapshot["honours_do_not_track"] is True
    assert "honours do not track is now True" in after.change_summary
    body = client.get("/privacy/").content.decode()
    assert "We honour Do Not Track" in body
    assert "We do not act on the Do Not Track signal" not in body
    # The earlier version still reads as it was published.
    old = client.get(f"/privacy/versions/{before.number}/").content.decode()
    assert "We do not act on the Do Not Track signal" in old


def test_the_operators_markdown_is_rendered_and_raw_html_is_shown_as_text(client) -> None:
    _publish("Our **promise**, and [how to reach us](mailto:privacy@allied.example).\n\n<script>alert(1)</script>")

    body = client.get("/privacy/").content.decode()

    assert "<strong>promise</strong>" in body
    assert '<a href="mailto:privacy@allied.example">how to reach us</a>' in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_javascript_link_in_the_text_is_not_made_a_link(client) -> None:
    _publish("A [trick](javascript:alert(1)) that must not become a link in the notice, ever.")

    assert 'href="javascript:' not in client.get("/privacy/").content.decode()


def test_the_history_lists_every_version_with_its_changes_and_each_version_reads_as_it_was(client) -> None:
    first = notice_current()
    second = _publish(NEW_TEXT)

    history = client.get("/privacy/versions/").content.decode()
    assert f"/privacy/versions/{first.number}/" in history
    assert f"/privacy/versions/{second.number}/" in history
    assert "The introduction and contact text were revised." in history

    old = client.get(f"/privacy/versions/{first.number}/").content.decode()
    assert "This is an earlier version" in old
    assert "privacy@allied.example" in old
    assert "<strong>privacy@allied.example</strong>" not in old
    new = client.get(f"/privacy/versions/{second.number}/").content.decode()
    assert "<strong>privacy@allied.example</strong>" in new
    assert "This is an earlier version" not in new


def test_an_unknown_version_answers_404(client) -> None:
    notice_current()

    assert client.get("/privacy/versions/999/").status_code == 404


def test_the_officer_publishes_new_text_as_a_new_version(client_for, member, operator_org) -> None:
    officer = _officer(member, operator_org)
    client = client_for(officer)
    before = notice_current()

    response = client.post("/ops/privacy/notice/", {"text": NEW_TEXT}, follow=True)

    latest = NoticeVersion.objects.order_by("-number").first()
    assert latest is not None
    assert latest.number == before.number + 1
    assert latest.text.strip() == NEW_TEXT
    assert latest.published_by == officer.user.email
    assert f"Version {latest.number} of the privacy notice is published." in response.content.decode()


def test_publishing_the_same_text_again_publishes_nothing(client_for, member, operator_org) -> None:
    client = client_for(_officer(member, operator_org))
    current = notice_current()

    response = client.post("/ops/privacy/notice/", {"text": current.text}, follow=True)

    assert NoticeVersion.objects.count() == 1
    assert "No change, no new version" in response.content.decode()


def test_text_too_short_is_a_form_error_and_publishes_nothing(client_for, member, operator_org) -> None:
    client = client_for(_officer(member, operator_org))
    notice_current()

    response = client.post("/ops/privacy/notice/", {"text": "Too short."})

    assert response.status_code == 200
    assert "at least a sentence or two" in response.content.decode()
    assert NoticeVersion.objects.count() == 1


def test_empty_text_is_a_form_error(client_for, member, operator_org) -> None:
    client = client_for(_officer(member, operator_org))
    notice_current()

    response = client.post("/ops/privacy/notice/", {"text": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert NoticeVersion.objects.count() == 1


def test_the_preview_renders_the_text_safely_without_publishing(client_for, member, operator_org) -> None:
    client = client_for(_officer(member, operator_org))
    notice_current()

    response = client.post("/ops/privacy/notice/preview", {"text": "# Hello\n\n<b>raw</b>"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert '<div id="notice-preview"' in body
    assert "<h1>Hello</h1>" in body
    assert "&lt;b&gt;raw&lt;/b&gt;" in body
    assert "<html" not in body
    assert NoticeVersion.objects.count() == 1


def test_the_editor_is_the_privacy_officers(client_for, member, operator_org, partner_a) -> None:
    assert client_for(member(operator_org, Role.DISPATCHER)).get("/ops/privacy/notice/").status_code == 403
    assert client_for(member(partner_a, Role.OWNER)).post("/ops/privacy/notice/", {"text": NEW_TEXT}).status_code == 403
    assert NoticeVersion.objects.filter(text__contains="brands.").count() == 0


BAR = "Our privacy notice changed on"


def test_the_changed_notice_bar_shows_until_the_person_has_read_it(client_for, member, partner_a) -> None:
    owner = member(partner_a, Role.OWNER)
    client = client_for(owner)
    notice_current()
    _publish(NEW_TEXT)

    page = client.get("/portal/").content.decode()
    assert BAR in page
    assert 'href="/privacy/changes/"' in page

    changes = client.get("/privacy/changes/").content.decode()
    assert "The introduction and contact text were revised." in changes
    assert BAR not in changes

    current = notice_current()
    client.post("/privacy/changes/", {"version": current.number})

    assert NoticeAcknowledgement.objects.filter(user=owner.user, version=current).exists()
    assert BAR not in client.get("/portal/").content.decode()
    assert "You have read the current notice" in client.get("/privacy/changes/").content.decode()


def test_what_changed_lists_only_the_versions_after_the_last_one_read(client_for, member, partner_a) -> None:
    owner = member(partner_a, Role.OWNER)
    client = client_for(owner)
    client.post("/privacy/changes/", {"version": notice_current().number})
    newer = _publish(NEW_TEXT)

    changes = client.get("/privacy/changes/").content.decode()

    assert f"Version {newer.number}</a>" in changes
    assert f"Version {newer.number - 1}</a>" not in changes
    assert BAR in client.get("/portal/").content.decode()


def test_someone_who_joined_under_the_current_version_gets_no_bar(client_for, member, partner_a) -> None:
    _publish(NEW_TEXT)
    newcomer = member(partner_a, Role.OWNER)

    assert BAR not in client_for(newcomer).get("/portal/").content.decode()


def test_signed_out_visitors_get_no_bar_and_what_changed_needs_a_sign_in(client) -> None:
    _publish(NEW_TEXT)

    assert BAR not in client.get("/privacy/").content.decode()
    assert client.get("/privacy/changes/")["Location"].startswith("/accounts/login/")


def test_the_bar_costs_one_query_a_page(client_for, member, partner_a) -> None:
    owner = member(partner_a, Role.OWNER)
    client = client_for(owner)
    _publish(NEW_TEXT)

    with CaptureQueriesContext(connection) as queries:
        body = client.get("/portal/").content.decode()

    assert BAR in body
    notice_queries = [q["sql"] for q in queries.captured_queries if "privacy_notice" in q["sql"]]
    assert len(notice_queries) == 1, notice_queries


def test_notice_changed_for_answers_in_one_query(member, partner_a, django_assert_num_queries) -> None:
    owner = member(partner_a, Role.OWNER)
    _publish(NEW_TEXT)

    with django_assert_num_queries(1):
        assert notice_changed_for(owner.user.pk, joined=owner.user.date_joined) is not None


def test_acknowledging_needs_the_version_read(client_for, member, partner_a) -> None:
    owner = member(partner_a, Role.OWNER)
    client = client_for(owner)
    notice_current()

    for body in ({}, {"version": "nine"}, {"version": "999"}):
        assert client.post("/privacy/changes/", body).status_code == 400

    assert not NoticeAcknowledgement.objects.filter(user=owner.user).exists()


def test_acknowledging_an_older_version_leaves_the_newer_one_to_read(client_for, member, partner_a) -> None:
    owner = member(partner_a, Role.OWNER)
    client = client_for(owner)
    shown = notice_current()
    _publish(NEW_TEXT)  # published while the person was reading

    client.post("/privacy/changes/", {"version": shown.number})

    assert BAR in client.get("/portal/").content.decode()
