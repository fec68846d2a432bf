"""The public website at the site root (its CMS pages last, after every other app's paths), and
the CMS and leads pipeline in the console."""

from django.urls import URLPattern, path

from allied.website.views import cms, leads, public

ops: list[URLPattern] = [
    path("website/pages/", cms.page_list, name="ops_website_pages"),
    path("website/pages/new", cms.page_new, name="ops_website_page_new"),
    path("website/pages/preview", cms.page_preview, name="ops_website_page_preview"),
    path("website/pages/<int:page_id>/", cms.page_edit, name="ops_website_page"),
    path("leads/", leads.lead_list, name="ops_leads"),
    path("leads/<int:lead_id>/", leads.lead_detail, name="ops_lead"),
]
portal: list[URLPattern] = []
site: list[URLPattern] = [
    path("", public.home, name="website_home"),
    path("contact/", public.contact, name="website_contact"),
    path("feedback/", public.feedback, name="website_feedback"),
    # Any other single-segment path may be a CMS page: this pattern must come after every other app's.
    path("<slug:page_slug>/", public.page, name="website_page"),
]
