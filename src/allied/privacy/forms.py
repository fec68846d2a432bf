from django import forms

from allied.privacy.models import DataSubjectRequest


class PrivacyRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="What would you like?", choices=DataSubjectRequest.Kind.choices, widget=forms.RadioSelect
    )
    email = forms.CharField(
        label="E-mail address",
        required=False,
        max_length=254,
        help_text="The address you used with us, or that a shop gave us for your parcels. We send a code to it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Phone number",
        required=False,
        max_length=32,
        help_text="Optional: add it to include parcels delivered to this number. We text a code to it.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    details = forms.CharField(
        label="Details",
        required=False,
        max_length=4000,
        help_text="For a correction: what is wrong and what it should be.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # A honeypot: hidden from people, filled in by bots.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class VerifyCodesForm(forms.Form):
    email_code = forms.CharField(label="Code from the e-mail", required=False, max_length=12)
    phone_code = forms.CharField(label="Code from the text message", required=False, max_length=12)

    def __init__(self, *args: object, request: DataSubjectRequest, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not request.email:
            del self.fields["email_code"]
        if not request.phone:
            del self.fields["phone_code"]
        for field in self.fields.values():
            field.required = True
            field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})


class RequestCloseForm(forms.Form):
    outcome = forms.CharField(
        label="What was done (sent to the person)", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
