"""Studio settings: a half-configured studio or an unreachable server is refused with a clear
message before anything starts; path maps translate originals to this machine's mount."""

from __future__ import annotations

import pytest

from bridge_server import cli, worker_cli
from bridge_server.studio.pathmap import PathMapError, map_path, parse_path_map
from tests.app_process import free_port


def test_a_path_map_reads_originals_under_the_local_mount_and_leaves_others_alone():
    pairs = parse_path_map(["/Volumes/NAS=/mnt/nas", "/Volumes/NAS/Clients=/srv/clients/"])
    assert map_path(pairs, "/Volumes/NAS/2026/a.jpg") == "/mnt/nas/2026/a.jpg"
    assert map_path(pairs, "/Volumes/NAS/Clients/b.NEF") == "/srv/clients/b.NEF"  # most specific
    assert map_path(pairs, "/Volumes/NASA/c.jpg") == "/Volumes/NASA/c.jpg"  # not a prefix folder
    assert map_path(pairs, "/home/me/d.jpg") == "/home/me/d.jpg"
    for bad in ["/Volumes/NAS", "relative=/mnt", "/a=relative"]:
        with pytest.raises(PathMapError):
            parse_path_map([bad])


def test_a_server_with_a_database_but_no_redis_is_refused(tmp_path, capsys):
    code = cli.main(
        ["--data-dir", str(tmp_path), "--port", "0", "--database-url", "postgresql://x@h/db"]
    )
    assert code == 1
    assert "needs both database_url" in capsys.readouterr().err


def test_a_worker_without_studio_urls_or_with_unreachable_servers_exits_saying_why(
    tmp_path, capsys
):
    assert worker_cli.main(["--data-dir", str(tmp_path)]) == 2
    assert "needs --database-url and --redis-url" in capsys.readouterr().err
    closed = free_port()  # nothing listens there
    code = worker_cli.main(
        [
            "--data-dir", str(tmp_path),
            "--database-url", f"postgresql://autodev:autodev@127.0.0.1:{closed}/autodev",
            "--redis-url", f"redis://127.0.0.1:{closed}/0",
        ]
    )  # fmt: skip
    assert code == 1
    assert "PostgreSQL is unreachable" in capsys.readouterr().err
