"""Where investigators hear that a past day's list changed: a webhook or a local file.

A late edit can add a suspect to, or clear one from, a day investigators already worked
through; nobody re-reads old lists, so the change is pushed. Production posts to a chat
webhook (Slack and Teams incoming webhooks both take `{"text": ...}`); the embedded default
appends JSON lines to a file, so the local deployment needs no service and a test can read
what was sent. The webhook URL carries its own secret: it comes from the environment
(TSFRAUD_NOTIFY_WEBHOOK), as an EnvVar, so the Dagster UI never shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field


class NotifierError(RuntimeError):
    """A notification could not be delivered; says where and why."""


class Notifier(dg.ConfigurableResource):
    def send(self, text: str, details: dict[str, Any]) -> None:
        raise NotImplementedError  # pragma: no cover - each deployment supplies a subclass

    @property
    def target(self) -> str:
        raise NotImplementedError  # pragma: no cover


class FileNotifier(Notifier):
    path: str = Field(description="JSON-lines file the notifications are appended to")

    @property
    def target(self) -> str:
        return self.path

    def send(self, text: str, details: dict[str, Any]) -> None:
        record = {"sent_at": dt.datetime.now(dt.UTC).isoformat(), "text": text, **details}
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=str) + "\n")


class WebhookNotifier(Notifier):
    url: str = Field(description="incoming-webhook URL (Slack, Teams, or any JSON receiver)")
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def target(self) -> str:
        return self.url.split("?")[0].rsplit("/", 1)[0] + "/…"  # never the token part

    def send(self, text: str, details: dict[str, Any]) -> None:
        body = json.dumps({"text": text, "tsfraud": details}, default=str).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise NotifierError(f"webhook {self.target} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise NotifierError(f"webhook {self.target} did not take the message: {exc}") from exc
        if not 200 <= status < 300:
            raise NotifierError(f"webhook {self.target} answered HTTP {status}")
