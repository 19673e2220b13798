"""What ingest announces once polls are stored, for the layers above it to act on
(alerts evaluate the live ones) without ingest knowing of them."""

from django.dispatch import Signal

#: Sent after live polls commit: `polls` is a list of `(store_pk, instant)`.
live_polls_stored = Signal()
#: Sent after a status file's polls commit (some may be live, most are usually history).
file_polls_stored = Signal()
