"""Webhooks: the operator's systems (CRM, accounting, provisioning) receive voipdesk's events,
signed per the Standard Webhooks convention, retried with backoff, each under an id to dedupe."""
