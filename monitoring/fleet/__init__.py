"""The fleet summary behind the home page: every store a caller can see,
its state now and its figures for the last day and week, worst first.

`ranking` computes it (one read of hours and polls, one engine call); `summary` keeps it:
in the process while the data version holds, and in the database for every process,
refreshed by a worker after writes, so that a page shows a ranking never older than
FLEET_SUMMARY_MAX_AGE_SECONDS without computing it in the request."""
