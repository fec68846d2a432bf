"""The public site's pages and the console's CMS: what visitors see, and how operators change it."""

import re

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client

from allied.accounts.policy import Actor
from allied.core.errors import PermissionDenied
from allied.core.models import AuditEntry
from allied.website.models import Page, PageStatus
from allied.website.services import page_create, page_update
from allied.website.views.public import shared_pages

pytestmark = pytest.mark.django_db


# The public site -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/services/", "/ecommerce/", "/fulfilment/", "/last-mile-delivery/",
                                  "/website-services/", "/about/", "/contact/", "/feedback/"])  # fmt: skip
def test_public_pages_answer_without_signing_in(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/track/"' in body, "the tracking lookup is one click away"
    assert 'href="/accounts/login/"' in body, "clients find sign-in"
    assert 'aria-label="Privacy"' in body, "the footer keeps a place for the privacy links"


def test_home_page_has_a_tracking_box_that_asks_the_tracking_page() -> None:
    body = Client().get("/").content.decode()

    assert 'action="/track/"' in body
    assert 'name="code"' in body


def test_reading_pages_sets_no_cookie_and_takes_one_query_once_rendered(django_assert_num_queries) -> None:
    shared_pages.forget()
    client = Client()
    for path in ("/", "/services/"):
        with django_assert_num_queries(2):  # the version of the pages; the menu and the page, together
            first = client.get(path)
        with django_assert_num_queries(1):  # the version of the pages
            again = client.get(path)

        for response in (first, again):
            assert response.status_code == 200
            assert not response.cookies, "no session and no CSRF cookie"
            assert response["Cache-Control"] == "public, max-age=60"
        assert _without_nonce(again.content) == _without_nonce(first.content)


def _nonce_of_page(response: HttpResponse) -> set[str]:
    return set(re.findall(r'nonce="([^"]*)"', response.content.decode()))


def _without_nonce(content: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', content)


def test_each_visit_gets_its_own_nonce_which_the_policy_names() -> None:
    answers = [Client().get("/") for _ in range(2)]

    nonces = [_nonce_of_page(answer) for answer in answers]
    assert all(len(nonce) == 1 for nonce in nonces)
    assert nonces[0] != nonces[1]
    for answer, [nonce] in zip(answers, nonces, strict=True):
        assert f"'nonce-{nonce}'" in answer["Content-Security-Policy"]


def test_the_banner_is_the_visitors_own_on_a_rendered_page() -> None:
    Client().get("/about/")  # rendered for a visitor who has not chosen

    with_gpc = Client(headers={"Sec-GPC": "1"})
    noted = with_gpc.get("/about/").content.decode()
    later = with_gpc.get("/about/").content.decode()
    asked = Client().get("/about/").content.decode()

    assert "Global Privacy Control" in noted
    assert "Reject all" not in noted
    assert 'id="consent-banner"' not in later, "the signal is noted once"
    assert "Reject all" in asked


def test_a_saved_page_is_on_the_site_at_once(admin_actor: Actor) -> None:
    about = Page.objects.get(slug="about")
    assert "About us" in Client().get("/about/").content.decode()

    page_update(page=about, title="Who we are", actor=admin_actor)

    assert "Who we are" in Client().get("/about/").content.decode()
    assert "Who we are" in Client().get("/").content.decode(), "the menu of every page follows"
    page_update(page=about, status=PageStatus.DRAFT, actor=admin_actor)
    assert Client().get("/about/").status_code == 404
    assert "Who we are" not in Client().get("/").content.decode()


def test_a_cms_page_shows_its_markdown_with_html_escaped(admin_actor: Actor) -> None:
    page_create(
        slug="careers",
        title="Careers",
        body="# Work with us\n\n**Riders** wanted. <script>alert(1)</script>",
        status=PageStatus.PUBLISHED,
        actor=admin_actor,
    )

    body = Client().get("/careers/").content.decode()

    assert "<h1>Work with us</h1>" in body
    assert "<strong>Riders</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_draft_is_not_on_the_site_and_neither_is_an_unknown_page(admin_actor: Actor) -> None:
    page_create(slug="prices", title="Prices", body="Soon.", actor=admin_actor)

    assert Client().get("/prices/").status_code == 404
    assert Client().get("/no-such-page/").status_code == 404


def test_pages_marked_for_the_menu_are_in_it_in_order(admin_actor: Actor) -> None:
    page_create(
        slug="careers", title="Careers", body="x", show_in_nav=True, nav_order=1, status="published", actor=admin_actor
    )

    body = Client().get("/").content.decode()
    nav = body[body.index('aria-label="Main"') : body.index("</nav>")]

    assert nav.index("Careers") < nav.index("Services") < nav.index("About us")
    assert "Fulfilment" not in nav


# The console's CMS ----------------------------------------------------------------------------------


def _form(**changes: object) -> dict[str, object]:
    return {
        "title": "Careers",
        "slug": "careers",
        "meta_description": "Jobs at AES",
        "body": "# Work with us",
        "nav_order": "100",
        "status": "draft",
    } | changes


def test_an_operator_writes_previews_and_publishes_a_page(admin_client: Client) -> None:
    created = admin_client.post("/ops/website/pages/new", _form())
    page = Page.objects.get(slug="careers")
    assert created.status_code == 302
    assert page.status == PageStatus.DRAFT
    assert Client().get("/careers/").status_code == 404

    preview = admin_client.post(
        "/ops/website/pages/preview", {"title": "Careers", "body": "## Riders wanted"}, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 200
    assert "<h2>Riders wanted</h2>" in preview.content.decode()
    assert "<html" not in preview.content.decode(), "only the preview panel"
    page.refresh_from_db()
    assert page.body == "# Work with us", "a preview saves nothing"

    published = admin_client.post(f"/ops/website/pages/{page.pk}/", _form(body="## Riders wanted", status="published"))
    assert published.status_code == 302
    assert "<h2>Riders wanted</h2>" in Client().get("/careers/").content.decode()


def test_every_change_to_a_page_is_audited(admin_actor: Actor) -> None:
    page = page_create(slug="careers", title="Careers", body="x", actor=admin_actor)
    page_update(page=page, title="Jobs", status="published", body="longer body", actor=admin_actor)
    page_update(page=page, title="Jobs", actor=admin_actor)  # nothing changes: nothing recorded

    entries = list(AuditEntry.objects.filter(object_type="website.page").order_by("id"))

    assert [e.action for e in entries] == ["website.page_created", "website.page_published"]
    assert entries[1].changes["title"] == {"old": "Careers", "new": "Jobs"}
    assert entries[1].changes["body"] == {"old_length": 1, "new_length": 11}
    assert entries[1].actor_label == admin_actor.label
    page.refresh_from_db()
    assert page.updated_by == admin_actor.user


@pytest.mark.parametrize("slug", ["ops", "portal", "api", "track", "accounts", "admin", "privacy", "static",
                                  "contact", "feedback", "me", "home"])  # fmt: skip
def test_a_reserved_address_is_refused_with_a_form_error(admin_client: Client, slug: str) -> None:
    response = admin_client.post("/ops/website/pages/new", _form(slug=slug))

    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == [f"/{slug}/ belongs to the site itself; choose another address."]
    assert not Page.objects.filter(slug=slug).exists()


@pytest.mark.parametrize(
    ("slug", "error"),
    [
        ("Bad Slug!", "Use lower-case letters, digits and single hyphens, e.g. last-mile."),
        ("about", "Another page has it."),
    ],
)
def test_a_bad_or_taken_address_is_refused(admin_client: Client, slug: str, error: str) -> None:
    before = Page.objects.count()

    response = admin_client.post("/ops/website/pages/new", _form(slug=slug))

    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == [error]
    assert Page.objects.count() == before


def test_a_page_without_a_title_or_content_is_refused(admin_client: Client) -> None:
    response = admin_client.post("/ops/website/pages/new", _form(title="", body=""))

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "body"}
    assert not Page.objects.filter(slug="careers").exists()


def test_only_those_who_manage_the_website_change_pages(support) -> None:
    support_actor = Actor(user=support.user, organization=support.organization, role=support.role)

    with pytest.raises(PermissionDenied), transaction.atomic():
        page_create(slug="careers", title="Careers", body="x", actor=support_actor)
