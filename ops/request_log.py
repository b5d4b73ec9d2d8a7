"""`make run`'s request log: the app's own request lines, printed for people.

The deployed app logs one JSON line per request (chalicelib/observe.py);
`make run` prints the same record as one readable line:

    15:19:18  POST /pow/submit  site=Ab3d...  source=5c1e09a2  success  12.3 ms

and lets the local server skip its standard access line for the requests
the app logged (`take_printed`), so each request is one line. `source` is
the request's source address as a short keyed hash (ops/addresses.py): the
same client reads the same within one run, and its address is never printed.

Local runs (`make run`, `make store`, the `chalice local` project `make store`
writes) print no pynamodb settings banner, and no EMF metric lines unless
WORKPROOF_LOCAL_METRICS=1 (`quiet_local_output`).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import MutableMapping

from chalicelib import observe

METRICS_DISABLED_ENV = "POWERTOOLS_METRICS_DISABLED"
ENV_LOCAL_METRICS = "WORKPROOF_LOCAL_METRICS"
_FIELDS = ("token_hint", "dynamo_retries", "records", "stats", "verifies", "ranks")
_printed = threading.local()
_source = threading.local()  # the request this thread serves (the app runs in the server's thread)


class ReadableFormatter(logging.Formatter):
    """One line: time, method and route, site, result, milliseconds (+ traceback if any)."""

    def format(self, record: logging.LogRecord) -> str:
        _printed.flag = True
        values = record.__dict__
        when = time.strftime("%H:%M:%S", time.localtime(record.created))
        if record.getMessage() == "stream batch":
            head = f"{when}  stream batch"
        else:
            route = f"{values.get('method', '')} {values.get('route', '')}".strip()
            head = f"{when}  {route}  site={values.get('site') or '-'}"
            source = getattr(_source, "tag", None)
            if source:
                head += f"  source={source}"
        parts = [head, str(values.get("result", record.getMessage()))]
        parts += [f"{name}={values[name]}" for name in _FIELDS if values.get(name) is not None]
        if values.get("detail"):
            parts.append(str(values["detail"]))
        parts.append(f"{values.get('duration_ms', 0)} ms")
        line = "  ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def quiet_local_output(environ: MutableMapping[str, str] = os.environ) -> None:
    """No EMF metric lines (Powertools prints them to stdout) unless WORKPROOF_LOCAL_METRICS=1,
    and never pynamodb's INFO banner about its settings file (`chalice local` logs INFO)."""
    environ[METRICS_DISABLED_ENV] = "false" if environ.get(ENV_LOCAL_METRICS) == "1" else "true"
    logging.getLogger("pynamodb.settings").setLevel(logging.WARNING)


def install() -> None:
    """Print the app's log readably from now on, and no metric lines unless asked."""
    observe.LOGGER.registered_handler.setFormatter(ReadableFormatter())
    quiet_local_output()


def take_printed() -> bool:
    """Whether this thread printed an app line since the last call (then forgets it)."""
    printed = bool(getattr(_printed, "flag", False))
    _printed.flag = False
    return printed


def set_source_tag(tag: str | None) -> None:
    """The keyed hash of the source of the request this thread serves now (None: no request)."""
    _source.tag = tag
