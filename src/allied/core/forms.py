from django import forms

from allied.core.errors import DomainError


def form_add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a domain error on the form: on the fields it names, or above the form."""
    placed = False
    for field_error in error.errors:
        if field_error.field in form.fields:
            form.add_error(field_error.field, field_error.message)
            placed = True
    if not placed:
        form.add_error(None, error.detail)
