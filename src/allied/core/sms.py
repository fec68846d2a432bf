"""Text messages to people's phones behind one small interface, chosen by `ALLIED_SMS_BACKEND`.

A backend says who receives the message to deliver it (`provider`) and which of the privacy
notice's categories of service provider that is (`provider_category`), so the sender can write
the sharing register before the number leaves Allied. The console backend hands nothing to
anyone: it writes the message to the log, for development and tests.
"""

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("allied.sms")


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    body: str


class SmsError(Exception):
    """The gateway did not take the message."""


class SmsBackend(ABC):
    provider: str = ""  # who the message is handed to; "" when it never leaves Allied
    provider_category: str = ""  # a category of core.privacy.SERVICE_PROVIDERS

    @abstractmethod
    def send(self, message: SmsMessage) -> str:
        """Hand the message over; returns the provider's reference for it."""


class ConsoleSmsBackend(SmsBackend):
    """Writes each message to the log instead of sending it (the number shortened to its end)."""

    def send(self, message: SmsMessage) -> str:
        logger.info("SMS to …%s: %s", message.to[-4:], message.body)
        return ""


@cache
def _backend_class(path: str) -> type[SmsBackend]:
    return import_string(path)


def sms_backend() -> SmsBackend:
    return _backend_class(settings.ALLIED_SMS_BACKEND)()
