"""Django's error reports (the DEBUG page, its text version, mails to admins) without the secrets
Allied holds: configured in settings as DEFAULT_EXCEPTION_REPORTER and
DEFAULT_EXCEPTION_REPORTER_FILTER."""

import re
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from allied.core.secret_masking import SENSITIVE_NAMES, secrets_mask, secrets_present


class _MaskedRepr:
    """A traceback variable whose representation held a secret."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """What Django's filter hides, in development too, and besides: request parameters and local
    variables named like credentials (`client_secret`, `access_token`, `consumer_secret`, …) and
    any value that holds a secret the process knows."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|VAULT|CREDENTIAL|DATABASE_URL|REDIS_URL", flags=re.I
    )

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def _cleanse_by_name(self, values: Any) -> Any:
        cleansed = values.copy()
        for name in values:
            if SENSITIVE_NAMES.search(name):
                cleansed[name] = self.cleansed_substitute
            else:
                cleansed.setlist(name, [secrets_mask(str(item)) for item in values.getlist(name)])
        return cleansed

    def get_cleansed_multivaluedict(self, request: HttpRequest, multivaluedict: QueryDict) -> QueryDict:
        return self._cleanse_by_name(super().get_cleansed_multivaluedict(request, multivaluedict))

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        return self._cleanse_by_name(super().get_post_parameters(request))

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return secrets_mask(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        cleansed: dict[str, Any] = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if isinstance(name, str) and SENSITIVE_NAMES.search(name):
                cleansed[name] = self.cleansed_substitute
                continue
            try:
                text = repr(value)
            except Exception:
                text = ""
            cleansed[name] = _MaskedRepr(secrets_mask(text)) if secrets_present(text) else value
        return cleansed.items()


class SecretSafeExceptionReporter(ExceptionReporter):
    """Django's error report (the DEBUG page, the text version, mails to admins) with the query
    string cleansed like the POST parameters and, last, every known secret masked wherever it
    turned up: the exception message, a source line, a variable."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None:
            query = self.filter.get_cleansed_multivaluedict(self.request, self.request.GET)
            data["request_GET_items"] = query.items() if isinstance(query, QueryDict | MultiValueDict) else query
            data["request_insecure_uri"] = secrets_mask(data.get("request_insecure_uri", ""))
        return data

    # The page is already escaped; masking only swaps spans of its text for the mask.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(secrets_mask(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(secrets_mask(super().get_traceback_text()))  # noqa: S308
