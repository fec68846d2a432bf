from django import forms

from allied.core.carriers import carrier_choices

SCANNER = {"autocomplete": "off", "autofocus": True, "data-scanner": "", "inputmode": "text"}


class ScanForm(forms.Form):
    code = forms.CharField(label="Scan barcode or type SKU", max_length=64, widget=forms.TextInput(attrs=SCANNER))
    bin = forms.CharField(label="Bin (optional)", max_length=32, required=False)


class ParcelForm(forms.Form):
    weight_grams = forms.IntegerField(label="Weight (g)", min_value=1)
    dimensions_mm = forms.CharField(label="Dimensions (mm, L×W×H)", max_length=40, required=False)


class ManifestForm(forms.Form):
    carrier = forms.ChoiceField(choices=carrier_choices)


class OrderScanForm(forms.Form):
    code = forms.CharField(label="Scan the order number", max_length=40, widget=forms.TextInput(attrs=SCANNER))


class TrackingScanForm(forms.Form):
    code = forms.CharField(
        label="Scan the parcel's tracking code", max_length=40, widget=forms.TextInput(attrs=SCANNER)
    )
