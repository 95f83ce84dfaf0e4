#!/usr/bin/env python3
"""Post the alert line on stdin to a chat or pager webhook: an ``alert_command``.

    alert_command = "ops/alert_webhook.py --format slack"

reads the one-line reason a failing deploy.py or rotate_keys.py run writes to its
stdin and POSTs it to the URL in the environment variable ``ALERT_WEBHOOK_URL`` (the
URL is a secret: it never appears on a command line or in the output):

  --format text        the line as text/plain (ntfy-style topics, generic receivers)
  --format slack       {"text": line}: Slack, Mattermost and Rocket.Chat incoming webhooks
  --format pagerduty   a PagerDuty Events API v2 "trigger" event with the routing key
                       from ``PAGERDUTY_ROUTING_KEY`` (the URL defaults to the Events API)

Exit 0 when the webhook answered 2xx, else 1 with one line on stderr. Standard library
only, so it runs with the system python3 as well as the project's virtualenv.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import urllib.error
import urllib.request

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
TIMEOUT_SECONDS = 15


def body(kind: str, line: str, environ) -> tuple[bytes, str]:
    """(request body, content type) for ``line`` in the webhook's format."""
    if kind == "text":
        return line.encode() + b"\n", "text/plain; charset=utf-8"
    if kind == "slack":
        return json.dumps({"text": line}).encode(), "application/json"
    routing_key = environ.get("PAGERDUTY_ROUTING_KEY")
    if not routing_key:
        raise SystemExit("alert_webhook: PAGERDUTY_ROUTING_KEY is not set")
    event = {"routing_key": routing_key, "event_action": "trigger",
             "payload": {"summary": line[:1024], "source": socket.gethostname(), "severity": "error",
                         "component": "postgrest-auth0-deploy"}}
    return json.dumps(event).encode(), "application/json"


def main(argv=None, environ=None) -> int:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("text", "slack", "pagerduty"), default="text")
    parser.add_argument("--url-variable", default="ALERT_WEBHOOK_URL",
                        help="environment variable holding the webhook URL (default ALERT_WEBHOOK_URL)")
    args = parser.parse_args(argv)
    line = " ".join(sys.stdin.read().split()) or "a run failed (no reason given)"
    url = environ.get(args.url_variable) or (PAGERDUTY_EVENTS_URL if args.format == "pagerduty" else "")
    if not url.startswith(("https://", "http://")):
        print(f"alert_webhook: {args.url_variable} is not set to an http(s) URL", file=sys.stderr)
        return 1
    data, content_type = body(args.format, line, environ)
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(f"alert_webhook: the webhook did not answer ({reason.__class__.__name__})", file=sys.stderr)
        return 1
    if not 200 <= status < 300:
        print(f"alert_webhook: the webhook answered HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
