"""The wheel installs into a fresh virtual environment and runs there, without the source tree.

The fresh environment gets the wheel alone (`--no-deps`, no index); its dependencies come from
the project's environment through a plain path line in a .pth file (which adds that folder but
runs none of its .pth files, so the project's editable install stays invisible). Everything
runs from a temporary folder, so nothing can be found through the current directory either.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app_process import AppProcess, clean_env, get, get_json

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("autodev_bridge", "bridge_server", "desktop")

# Run inside the fresh environment: where each resource and package is found.
PROBE = """
import json, os, sys
import autodev_bridge, bridge_server, desktop
from bridge_server import resources
from bridge_server.store import db
from desktop import paths
print(json.dumps({
    "resources": str(resources.resources_dir()),
    "web": str(resources.web_root()),
    "icons": str(paths.ICONS),
    "qss": str(paths.QSS),
    "samples": str(paths.SAMPLES),
    "migrations": str(db.MIGRATIONS_DIR),
    "autodev_bridge": autodev_bridge.__file__,
    "bridge_server": bridge_server.__file__,
    "desktop": desktop.__file__,
    "sample_photos": paths.sample_photos(),
    "sys_path": [os.path.abspath(p) for p in sys.path],
}))
"""


@dataclass
class Installed:
    """A fresh virtual environment with the wheel installed."""

    wheel: Path
    venv: Path
    site_packages: Path
    work: Path  # the temporary current directory

    def bin(self, name: str) -> Path:
        """A script in the environment."""
        return self.venv / "bin" / name

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run a command from the temporary folder and capture its output."""
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.work,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """Build the wheel from this checkout and install it alone into a new environment."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(dist), str(ROOT)],
        check=True, cwd=base, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("autodev_bridge-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", "--no-cache-dir", str(wheel)],
        check=True, cwd=base, timeout=300,
    )  # fmt: skip
    site_packages = _site_packages(python)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "project_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    work = base / "elsewhere"
    work.mkdir()
    yield Installed(wheel, venv, site_packages, work)


def test_the_wheel_carries_every_module_and_every_resource(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        entry_points = whl.read("autodev_bridge-0.1.0.dist-info/entry_points.txt").decode()
    modules = {
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules - names == set()
    shipped = {
        "autodev_bridge/" + p.relative_to(ROOT).as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped - names == set()
    assert "[gui_scripts]\nautodev-bridge = autodev_bridge.cli:main" in entry_points
    assert "autodev-bridge-server = bridge_server.cli:main" in entry_points


def test_installed_app_finds_its_resources_inside_the_environment(installed: Installed) -> None:
    done = installed.run(installed.venv / "bin" / "python", "-c", PROBE)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    site = installed.site_packages.resolve()
    for key in ("resources", "web", "icons", "qss", "samples", "migrations",
                "autodev_bridge", "bridge_server", "desktop"):  # fmt: skip
        path = Path(found[key]).resolve()
        assert path.is_relative_to(site), f"{key} resolved outside the environment: {path}"
        assert path.exists(), f"{key}: {path} is missing"
    assert not any(Path(p).resolve() == ROOT for p in found["sys_path"])
    assert (Path(found["web"]) / "index.html").is_file()
    assert (Path(found["qss"]) / "dark.qss").is_file()
    assert (Path(found["migrations"]) / "env.py").is_file()
    assert any(Path(found["migrations"]).glob("versions/0001_*.py"))
    repo_samples = sorted(p.name for p in (ROOT / "resources" / "samples").glob("*.jpg"))
    assert [Path(p).name for p in found["sample_photos"]] == repo_samples


def test_installed_commands_answer_help(installed: Installed) -> None:
    for command in (
        [installed.bin("autodev-bridge"), "--help"],
        [installed.bin("python"), "-m", "autodev_bridge", "--help"],
    ):
        done = installed.run(*command)
        assert done.returncode == 0, done.stderr
        assert "--install-desktop-entry" in done.stdout
        assert "--headless" in done.stdout
    for command in (
        [installed.bin("autodev-bridge-server"), "--help"],
        [installed.bin("python"), "-m", "bridge_server", "--help"],
    ):
        done = installed.run(*command)
        assert done.returncode == 0, done.stderr
        assert "--data-dir" in done.stdout


def test_installed_server_serves_the_phone_page_and_the_api_description(
    installed: Installed,
) -> None:
    app = AppProcess(
        [installed.bin("autodev-bridge-server"), "--host", "127.0.0.1", "--port", "0",
         "--data-dir", installed.work / "data"],
        cwd=installed.work, env=clean_env(),
    )  # fmt: skip
    try:
        url = app.wait_for_url()
        status, content_type, body = get(url)
        assert status == 200
        assert content_type.startswith("text/html")
        assert body == (ROOT / "resources" / "web" / "index.html").read_bytes()
        status, content_type, _css = get(url + "style.css")
        assert (status, content_type.split(";")[0]) == (200, "text/css")
        doc = get_json(url + "api/openapi.json")
        assert doc["openapi"].startswith("3.")
        assert "/api/openapi.json" in doc["paths"]
        assert (installed.work / "data" / "bridge.sqlite3").is_file()  # migrated from the wheel
    finally:
        code = app.stop()
    assert code == 0, app.output()
