from typing import Any

from django import forms
from django.db.models import QuerySet
from pydantic import ValidationError as PydanticValidationError

from allied.accounts.models import Organization
from allied.catalog.models import Product
from allied.catalog.product_csv import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, split_barcodes
from allied.catalog.schemas import PRODUCT_FIELDS, ProductUpsertSchema, schema_field_errors


def _number(label: str, **attrs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, widget=forms.NumberInput(attrs={"min": 0, **attrs}))


class ProductForm(forms.Form):
    """The product form of both areas. Its values are checked by the API's schema, so a page and an
    API call accept exactly the same products; operators creating a product also choose the partner."""

    partner = forms.ModelChoiceField(queryset=Organization.objects.none(), to_field_name="slug", empty_label=None)
    sku = forms.CharField(label="SKU", max_length=64, help_text="Letters, digits and . _ / -; unique in the catalog.")
    name = forms.CharField(max_length=200)
    barcodes = forms.CharField(
        required=False, max_length=2000, help_text="EAN, UPC or your own codes; separate several with commas or spaces."
    )
    weight_grams = _number("Weight (g)")
    length_mm = _number("Length (mm)")
    width_mm = _number("Width (mm)")
    height_mm = _number("Height (mm)")
    declared_value = forms.DecimalField(
        required=False, min_value=0, decimal_places=None, help_text="For insurance and customs."
    )
    currency = forms.CharField(max_length=3, initial="PKR", help_text="Three letters, such as PKR or USD.")
    tracks_lots = forms.BooleanField(required=False, label="Track lot numbers")
    tracks_expiry = forms.BooleanField(required=False, label="Track expiry dates")
    is_active = forms.BooleanField(required=False, initial=True, label="Active (untick to retire the product)")

    def __init__(self, *args: Any, partners: QuerySet[Organization] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if partners is None:
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
        self.product_values: dict[str, Any] = {}

    @classmethod
    def initial_for(cls, product: Product) -> dict[str, Any]:
        initial = {name: getattr(product, name) for name in PRODUCT_FIELDS}
        initial["barcodes"] = " ".join(product.barcodes)
        return initial

    def clean_barcodes(self) -> list[str]:
        return split_barcodes(self.cleaned_data.get("barcodes") or "")

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        values = {name: data[name] for name in PRODUCT_FIELDS if name in data and data[name] is not None}
        try:
            self.product_values = ProductUpsertSchema.model_validate(values, strict=False).model_dump()
        except PydanticValidationError as error:
            for field_error in schema_field_errors(error):
                if field_error.field in self.fields and field_error.field not in self.errors:
                    self.add_error(field_error.field, field_error.message)
        return data


class ProductImportForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Organization.objects.none(), to_field_name="slug", label="Import into partner"
    )
    file = forms.FileField(
        label="CSV file",
        help_text=f"Up to {MAX_IMPORT_BYTES // 1024 // 1024} MB and {MAX_IMPORT_ROWS:,} products.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    import_valid_rows = forms.BooleanField(required=False, label="Import the valid rows, skip the rows with errors")

    def __init__(self, *args: Any, partners: QuerySet[Organization] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if partners is None:
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
