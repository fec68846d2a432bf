from django import forms

from allied.website.models import ContactPreference, PageStatus, Service

PHONE_HELP = "Optional unless you would like a call. E.g. 0300 1234567 or +92 300 1234567."


class InquiryForm(forms.Form):
    """A service inquiry. The contact details are checked again by `lead_submit`, which names each problem."""

    name = forms.CharField(label="Your name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="E-mail address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label="Phone",
        max_length=30,
        required=False,
        help_text=PHONE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    company = forms.CharField(
        label="Company or brand",
        max_length=160,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    relationship = forms.CharField(
        label="Your role", max_length=120, required=False, help_text="E.g. founder, operations manager."
    )
    service = forms.ChoiceField(label="What are you interested in?", choices=Service.choices)
    message = forms.CharField(
        label="Your message",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Tell us about your products, how many orders you ship a month and where.",
    )
    contact_preference = forms.ChoiceField(
        label="How should we contact you?",
        choices=ContactPreference.choices,
        initial=ContactPreference.EMAIL,
        widget=forms.RadioSelect,
    )


class FeedbackForm(forms.Form):
    name = InquiryForm.base_fields["name"]
    email = InquiryForm.base_fields["email"]
    phone = InquiryForm.base_fields["phone"]
    relationship = forms.CharField(
        label="How do you know us?",
        max_length=120,
        required=False,
        help_text="E.g. I received a parcel, I am a partner, I work with you.",
    )
    message = forms.CharField(label="Your feedback", max_length=4000, widget=forms.Textarea(attrs={"rows": 6}))
    contact_preference = InquiryForm.base_fields["contact_preference"]


class PageForm(forms.Form):
    title = forms.CharField(max_length=120)
    slug = forms.CharField(
        label="Address",
        max_length=60,
        help_text="The page is at /address/. Lower-case letters, digits and hyphens.",
    )
    meta_description = forms.CharField(
        label="Description for search engines", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    body = forms.CharField(
        label="Content",
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text="Markdown: # heading, ## subheading, **bold**, - list item, [link text](https://…). HTML is "
        "shown as text.",
    )
    show_in_nav = forms.BooleanField(label="Show in the site's menu", required=False)
    nav_order = forms.IntegerField(label="Menu position", min_value=0, max_value=1000, initial=100)
    status = forms.ChoiceField(choices=PageStatus.choices, initial=PageStatus.DRAFT)


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(label="Move to", choices=[])
    note = forms.CharField(
        label="Note (optional)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, choices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = choices


class LeadNoteForm(forms.Form):
    note = forms.CharField(label="Note", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
