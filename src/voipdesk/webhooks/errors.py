"""Refusals of the webhooks area, each with a stable code."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.webhooks.rules import STATE_LABELS


class EndpointNotFound(NotFound):
    code = "webhook-endpoint-not-found"
    message = "No webhook endpoint has this id."


class DeliveryNotFound(NotFound):
    code = "webhook-delivery-not-found"
    message = "No webhook delivery has this id."


class InvalidEndpoint(InvalidInput):
    code = "invalid-webhook-endpoint"
    message = "This webhook endpoint is not valid."


class DeliveryTransitionRefused(Conflict):
    code = "webhook-delivery-transition-refused"
    message = "A delivery that is %(state)s cannot be sent again."
    labels = {"state": STATE_LABELS}


class EndpointDisabled(Conflict):
    code = "webhook-endpoint-disabled"
    message = "This endpoint is disabled: enable it before sending to it again."
