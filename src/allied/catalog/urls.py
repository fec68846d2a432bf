"""Product pages, the same in the console and the portal (each shows the caller's products)."""

from django.urls import URLPattern, path

from allied.catalog import views


def _products(area: str) -> list[URLPattern]:
    return [
        path("products/", views.product_list, name=f"{area}_products"),
        path("products/new/", views.product_new, name=f"{area}_product_new"),
        path("products/import/", views.product_import, name=f"{area}_product_import"),
        path("products/export.csv", views.product_export, name=f"{area}_product_export"),
        path("products/<int:product_id>/", views.product_detail, name=f"{area}_product_detail"),
        path("products/<int:product_id>/edit/", views.product_edit, name=f"{area}_product_edit"),
        path("products/<int:product_id>/deactivate/", views.product_deactivate_view, name=f"{area}_product_deactivate"),
        path("products/<int:product_id>/reactivate/", views.product_reactivate_view, name=f"{area}_product_reactivate"),
    ]


ops = _products("ops")
portal = _products("portal")
