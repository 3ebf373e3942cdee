"""Resume with `since`: exactly the missed events, in order, across drops and restarts."""

from __future__ import annotations

import sqlite3

from bridge_server.app import BridgeServer
from bridge_server.services import sessions
from tests.helpers import connect


async def _make_sessions(server: BridgeServer, names: list[str]) -> None:
    for name in names:
        await sessions.create_session(server.context, name)


async def test_resume_after_drop_replays_exactly_the_missed_events(bridge, http):
    client = await connect(http, bridge)
    await client.subscribe(["sessions"])
    await _make_sessions(bridge, ["one"])
    last_seen = (await client.recv())["seq"]
    await client.ws.close()

    await _make_sessions(bridge, ["two", "three", "four"])

    again = await connect(http, bridge)
    await again.send({"type": "subscribe", "channels": ["sessions"], "since": last_seen})
    replayed = [await again.recv() for _ in range(3)]
    assert [e["session_name"] for e in replayed] == ["two", "three", "four"]
    seqs = [e["seq"] for e in replayed]
    assert seqs == sorted(seqs) and seqs[0] > last_seen
    confirmed = await again.recv()
    assert confirmed["type"] == "subscription_confirmed"
    assert confirmed["recovered"] is True and confirmed["replayed"] == 3

    await _make_sessions(bridge, ["five"])
    live = await again.recv()
    assert live["session_name"] == "five" and live["seq"] > seqs[-1]


async def test_resume_only_replays_requested_channels(bridge, http):
    client = await connect(http, bridge)
    start = client.hello["seq"]
    await _make_sessions(bridge, ["a"])
    confirmed = await client.subscribe(["jobs"], since=start)
    assert confirmed["recovered"] is True and confirmed["replayed"] == 0


async def test_resume_from_the_future_is_not_recovered(bridge, http):
    client = await connect(http, bridge)
    confirmed = await client.subscribe(["sessions"], since=10**9)
    assert confirmed["recovered"] is False and confirmed["replayed"] == 0


async def test_resume_beyond_history_is_not_recovered(tmp_path, http):
    from tests.helpers import make_settings

    server = BridgeServer(make_settings(tmp_path / "d", event_history_size=3))
    await server.start()
    try:
        client = await connect(http, server)
        start = client.hello["seq"]
        await _make_sessions(server, ["a", "b", "c", "d", "e"])
        confirmed = await client.subscribe(["sessions"], since=start)
        assert confirmed["recovered"] is False
        recent = server.context.broker.last_seq - 2
        confirmed = await client.subscribe(["sessions"], since=recent)
        assert confirmed["recovered"] is True and confirmed["replayed"] == 2
    finally:
        await server.stop()


async def test_resume_across_a_clean_restart(tmp_path, http):
    from tests.helpers import make_settings

    settings = make_settings(tmp_path / "d")
    server = BridgeServer(settings)
    await server.start()
    await _make_sessions(server, ["before"])
    seen = server.context.broker.last_seq
    await _make_sessions(server, ["missed-1", "missed-2"])
    await server.stop()

    server = BridgeServer(settings)
    await server.start()
    try:
        assert server.context.broker.last_seq >= seen + 2
        client = await connect(http, server)
        await client.send({"type": "subscribe", "channels": ["sessions"], "since": seen})
        names = [(await client.recv())["session_name"] for _ in range(2)]
        assert names == ["missed-1", "missed-2"]
        confirmed = await client.recv()
        assert confirmed["recovered"] is True and confirmed["replayed"] == 2
        await _make_sessions(server, ["after"])
        live = await client.recv()
        assert live["session_name"] == "after"
    finally:
        await server.stop()


async def test_kill_never_reuses_a_sequence_number_and_tells_the_truth(tmp_path, http):
    """After an unclean stop, numbering continues above anything possibly sent, and a client
    resuming from before the crash gets recovered: false."""
    from tests.helpers import make_settings

    settings = make_settings(tmp_path / "d")
    server = BridgeServer(settings)
    await server.start()
    await _make_sessions(server, ["persisted"])
    await server._event_log.flush()  # type: ignore[union-attr]
    client_seen = server.context.broker.last_seq
    # Events issued (and possibly sent) but not yet written when the process dies:
    await _make_sessions(server, ["lost-1", "lost-2"])
    issued = server.context.broker.last_seq
    # Simulate a kill: drop pending writes, never run the clean shutdown.
    server._event_log._pending.clear()  # type: ignore[union-attr]
    server._event_log._task.cancel()  # type: ignore[union-attr]
    await server.context.db.close()
    if server._runner is not None:
        await server._runner.cleanup()

    db = sqlite3.connect(settings.database_path)
    persisted = db.execute("SELECT max(seq) FROM events").fetchone()[0]
    db.close()
    assert persisted < issued

    server = BridgeServer(settings)
    await server.start()
    try:
        await _make_sessions(server, ["after-restart"])
        assert server.context.broker.last_seq > issued  # never issued twice
        client = await connect(http, server)
        confirmed = await client.subscribe(["sessions"], since=client_seen)
        assert confirmed["recovered"] is False
    finally:
        await server.stop()


async def test_a_start_restores_the_older_history_after_listening_and_loses_none(
    tmp_path, http, monkeypatch
):
    """A start restores only the newest retained events before it listens; a client resuming
    from before them still gets every missed event, and the activity history still reaches
    the oldest event."""
    from bridge_server import events
    from bridge_server.store import event_log
    from tests.helpers import base_url, make_settings

    monkeypatch.setattr(event_log, "EAGER_HISTORY", 20)
    monkeypatch.setattr(event_log, "LOAD_CHUNK", 15)  # the rest comes in several reads
    missed = 70
    settings = make_settings(tmp_path / "d")
    server = BridgeServer(settings)
    await server.start()
    await _make_sessions(server, ["before"])
    seen = server.context.broker.last_seq
    for n in range(missed):
        server.context.broker.publish(events.queue_status(n, 0, 0, 0, n))
    await server.stop()

    server = BridgeServer(settings)
    await server.start()
    try:
        # Nothing awaited since the start: the older events are still on their way.
        assert not server.context.broker.history_complete
        client = await connect(http, server)
        await client.send({"type": "subscribe", "channels": ["queue"], "since": seen})
        replayed = []
        while (message := await client.recv())["type"] != "subscription_confirmed":
            replayed.append(message)
        assert message["recovered"] is True
        ours = [m["pending"] for m in replayed if m["type"] == "queue_status"]
        assert ours[:missed] == list(range(missed))
        assert [m["seq"] for m in replayed] == sorted(m["seq"] for m in replayed)

        oldest, before = None, None
        for _ in range(20):  # pages of 10, newest first, down to the first event
            query = "limit=10" + (f"&before={before}" if before else "")
            page = await (await http.get(f"{base_url(server)}/api/activity?{query}")).json()
            if page["items"]:
                oldest = page["items"][-1]["seq"]
            before = page["next_before"]
            if before is None:
                break
        assert oldest is not None and oldest <= seen
    finally:
        await server.stop()
