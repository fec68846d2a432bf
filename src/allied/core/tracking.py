"""The one status model of a parcel's journey, for every leg: AES's own riders and courier
companies map onto it, the tracking page and the order timeline show it, and each status is a
domain event (`delivery.<status>`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TrackingStatus(models.TextChoices):
    """The one status model for every leg of a parcel, AES's own riders and couriers alike."""

    CREATED = "created", _("Created")
    PICKUP_SCHEDULED = "pickup_scheduled", _("Pickup scheduled")
    PICKED_UP = "picked_up", _("Picked up")
    AT_HUB = "at_hub", _("At hub")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    ATTEMPT_FAILED = "attempt_failed", _("Delivery attempt failed")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    RETURN_TO_ORIGIN = "return_to_origin", _("Returning to sender")
    RETURNED = "returned", _("Returned to sender")
    CANCELLED = "cancelled", _("Cancelled")
    EXCEPTION = "exception", _("Exception")
