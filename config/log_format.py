"""How the server log reads (settings.LOGGING): errors for people, logs for operators.

Django logs every response of status 400 and above from `django.request` (and
`django.security.*` for suspicious requests), with the exception's traceback when one
was raised (PermissionDenied, BadRequest, DisallowedHost…). A client's mistake is not
the operator's problem: a 4xx is written as ONE line,

    2026-11-28 12:00:00 WARNING django.request: GET /store/x/trigger_report/ 404 Not Found

(method, path, status, short reason: the exception's message when there was one, else
the status's phrase), and a 5xx as the same line followed by its traceback. GraphQL
errors are sorted the same way by graphql_schema.common.errors.Schema.process_errors.
"""

import logging
import re
from http import HTTPStatus

#: Longest path and reason written on a request's line.
MAX_PATH_CHARS = 200
MAX_REASON_CHARS = 300


def _printable(text: str, limit: int) -> str:
    """One line, control characters escaped (a path or message is the client's text)."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[:limit] + "…"


def request_line(record: logging.LogRecord) -> str | None:
    """`METHOD path status reason` for a record about an HTTP response (Django's
    `log_response` gives it `status_code` and `request`), else None."""
    status = getattr(record, "status_code", None)
    request = getattr(record, "request", None)
    method = getattr(request, "method", None)
    path = getattr(request, "path", None)
    if not isinstance(status, int) or not isinstance(method, str) or not isinstance(path, str):
        return None  # e.g. django.server's records, whose `request` is the socket
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    reason = phrase
    exception = record.exc_info[1] if record.exc_info else None
    if exception is not None:
        text = str(exception).strip().splitlines()
        if text and text[0] != phrase:
            reason = f"{phrase}: {text[0]}" if phrase else text[0]
    return f"{method} {_printable(path, MAX_PATH_CHARS)} {status} {_printable(reason, MAX_REASON_CHARS)}".rstrip()


class RequestLineFormatter(logging.Formatter):
    """A response's record as one line: no traceback for a client error (4xx), the
    traceback after the line for a server error (5xx). Other records as usual."""

    def format(self, record: logging.LogRecord) -> str:
        line = request_line(record)
        if line is None:
            return super().format(record)
        shown = logging.makeLogRecord(record.__dict__)  # other handlers see the record unchanged
        shown.msg, shown.args = line, ()
        if record.status_code < 500:
            shown.exc_info, shown.exc_text, shown.stack_info = None, None, None
        return super().format(shown)


class RoutineTaskLines(logging.Filter):
    """django-q writes four INFO lines for every task it runs (enqueued, created from a
    schedule, processing, processed): with the every-minute schedules (stale reports,
    alerts) an idle worker wrote about eight lines a minute. Those lines are dropped
    unless the log level is DEBUG; the cluster's start and stop, warnings and failures
    are kept."""

    ROUTINE = re.compile(r"^Enqueued \[| created task .* from schedule \[| processing .*'|^Processed '")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and self.ROUTINE.search(record.getMessage()):
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True
