from typing import cast

from django import forms

from allied.inventory.models import ADJUSTMENT_REASONS


class PutAwayForm(forms.Form):
    code = forms.CharField(
        label="Product (scan or type SKU / barcode)",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-scanner": "", "autofocus": True}),
    )
    quantity = forms.IntegerField(min_value=1, initial=1)
    from_bin = forms.CharField(label="From bin", max_length=32)
    to_bin = forms.CharField(label="To bin", max_length=32, widget=forms.TextInput(attrs={"data-scanner": ""}))


class AdjustForm(forms.Form):
    code = forms.CharField(
        label="Product (SKU or barcode)", max_length=64, widget=forms.TextInput(attrs={"data-scanner": ""})
    )
    bin = forms.CharField(max_length=32)
    delta = forms.IntegerField(label="Change in units (negative removes)")
    reason = forms.ChoiceField(choices=[])
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["reason"]).choices = [(r.value, r.label) for r in ADJUSTMENT_REASONS]


class CountForm(forms.Form):
    code = forms.CharField(
        label="Product (SKU or barcode)", max_length=64, widget=forms.TextInput(attrs={"data-scanner": ""})
    )
    bin = forms.CharField(max_length=32)
    counted = forms.IntegerField(label="Units counted", min_value=0)


class InboundForm(forms.Form):
    reference = forms.CharField(max_length=64, help_text="Your purchase order or delivery note number.")
    expected_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "TEE-BLK-M, 40\nCAP-RED, 12"}),
        help_text="One product per line: SKU, quantity.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
