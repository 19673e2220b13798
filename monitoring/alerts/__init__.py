"""Alerts (docs/rules.md §10): owners are told when a store stops taking orders during its
business hours, the moment the system can know it.

The flow, file by file:
`events` (the event names and the pure state machine over one store's polls) ->
`evaluation` (run when polls arrive: locks the stores' alert state, reads their new polls,
finds evidence polls with the engine's business intervals, records deliveries once) ->
`silence` (the one-minute check for open stores with no evidence poll for more than H) ->
`delivery` (a worker posts the signed JSON or sends the email; retries with backoff) ->
`webhooks` (subscriptions: create, delete, list; private addresses refused in production).

Incidents (docs/rules.md §13): `incidents` (opened and resolved by the evaluation;
acknowledged, annotated, listed) -> `policies` (an owner's escalation policy) ->
`escalation` (pure: which step is due) -> `escalation_check` (after writes, in the
workers' sweep and minute check: each step recorded once, delivered by `delivery`).

Idempotence: a delivery is unique per (webhook, store, event, episode), inserted with
ON CONFLICT DO NOTHING, and only the request that inserted it queues it; a delivery is
sent by whoever claims its attempt with one UPDATE. So two workers, two requests or a
load repeated never deliver an event twice."""
