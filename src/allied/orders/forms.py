from django import forms

from allied.accounts.models import Organization


class OrderImportForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False)
    file = forms.FileField(
        label="CSV file", help_text="One row per order line; rows with the same external_id form one order."
    )
    import_valid_orders = forms.BooleanField(
        required=False, label="Import the valid orders, skip the orders with errors"
    )

    def __init__(self, *args: object, partners: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if partners is None:
            del self.fields["partner"]
        else:
            partner_field = self.fields["partner"]
            partner_field.queryset = partners  # type: ignore[attr-defined]
            partner_field.required = True
