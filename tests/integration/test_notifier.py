"""Late changes to past lists reach investigators: which changes count, and the two notifiers
(a webhook, checked against a loopback HTTP receiver; a local JSON-lines file)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.notifier import FileNotifier, NotifierError, WebhookNotifier
from tsfraud_assets.reviews.notify import DayChange, list_changes, notify_changes, suspects_by_day
from tsfraud_assets.settings import load_settings

D1, D2, D3 = dt.date(2026, 6, 22), dt.date(2026, 6, 23), dt.date(2026, 6, 24)


def test_only_added_or_cleared_suspects_on_an_existing_list_count() -> None:
    before = {D1: {1, 2}, D2: {3}}  # D3 had no list yet: its first scoring is no news
    after = {D1: {2, 4}, D2: {3}, D3: {5}}
    assert list_changes(before, after) == [DayChange(D1, added=(4,), cleared=(1,))]


def test_suspects_are_read_per_day_from_the_lists(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    table = pa.table({"employee_id": [1, 2, 3], "is_suspect": [True, False, True]})
    lake.write_partition("scores/x", D1, table.schema, table.to_batches())
    assert suspects_by_day(lake, "scores/x", [D1, D2]) == {D1: {1, 3}}


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - one receiver per test module
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    _Receiver.received = []
    _Receiver.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/T000/SECRET", _Receiver
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_the_webhook_posts_one_message_per_changed_day(
    receiver: tuple[str, type[_Receiver]],
) -> None:
    url, handler = receiver
    changes = [DayChange(D1, added=(4,), cleared=(1,)), DayChange(D2, added=(), cleared=(3,))]
    sent = notify_changes(WebhookNotifier(url=url), changes, {1: "E000001", 4: "E000004"})
    assert sent == 2
    first, second = handler.received
    assert first["text"] == (
        "tsfraud: the suspect list of 2026-06-22 changed after a late edit: "
        "added E000004; cleared E000001"
    )
    assert first["tsfraud"] == {
        "work_date": "2026-06-22",
        "added": ["E000004"],
        "cleared": ["E000001"],
    }
    assert second["tsfraud"]["cleared"] == ["employee 3"]  # no code known: says so


def test_a_refusing_or_absent_webhook_is_an_error_without_the_secret(
    receiver: tuple[str, type[_Receiver]],
) -> None:
    url, handler = receiver
    handler.status = 500
    with pytest.raises(NotifierError, match="answered HTTP 500") as refused:
        WebhookNotifier(url=url).send("x", {})
    assert "SECRET" not in str(refused.value)
    with pytest.raises(NotifierError, match="did not take the message"):
        WebhookNotifier(url="http://127.0.0.1:9/hook", timeout_seconds=2).send("x", {})


def test_the_embedded_default_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "n" / "notifications.jsonl"
    notifier = FileNotifier(path=str(path))
    notify_changes(notifier, [DayChange(D3, added=(7,), cleared=())], {7: "E000007"})
    notify_changes(notifier, [DayChange(D2, added=(), cleared=(7,))], {7: "E000007"})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["work_date"], r["added"], r["cleared"]) for r in lines] == [
        ("2026-06-24", ["E000007"], []),
        ("2026-06-23", [], ["E000007"]),
    ]


def test_the_webhook_is_chosen_by_the_environment(tmp_path: Path) -> None:
    from tsfraud_assets.defs.resources import _notifier

    local = load_settings({"TSFRAUD_DATA_DIR": str(tmp_path)})
    assert isinstance(_notifier(local), FileNotifier)
    hooked = load_settings(
        {"TSFRAUD_DATA_DIR": str(tmp_path), "TSFRAUD_NOTIFY_WEBHOOK": "https://hooks.example/x"}
    )
    assert isinstance(_notifier(hooked), WebhookNotifier)
