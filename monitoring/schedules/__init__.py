"""Scheduled range reports (docs/rules.md §11): an owner asks for a range report every
week (Monday 00:00 to Monday 00:00) or every month (the 1st to the next 1st), in a zone
of their choosing, delivered to a webhook (signed as alerts are) or an email address.

The flow, file by file: `periods` (a period's bounds in the schedule's zone) ->
`subscriptions` (create, list and delete schedules within the caller's access) ->
`sending` (the workers' sweep: a period that has ended gets its range report, once; a
finished report its delivery, tried as alerts' are, through monitoring.alerts.delivery).
State lives in the database (`models`), so schedules survive restarts, and every step
claims what it takes, so two worker clusters never send a period twice."""
