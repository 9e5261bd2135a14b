"""The Dagster UI loads the code location and shows a `koppelwerk run` in its run history."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from koppelwerk.cli import main
from tests.paths import PROJECT_ROOT, SAMPLE_DIR

DAGSTER = Path(sys.executable).parent / "dagster"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


def _wait_until_up(port: int, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
            return
        except OSError:
            time.sleep(1)
    pytest.fail("dagster dev did not answer within 90 s")


def test_cli_run_shows_in_the_ui_run_history(tmp_path: Path, dagster_home: Path) -> None:
    assert (
        main(
            [
                "run",
                "--bag",
                str(SAMPLE_DIR / "bag.parquet"),
                "--connections",
                str(SAMPLE_DIR / "connections.csv"),
                "--consumption",
                str(SAMPLE_DIR / "consumption.parquet"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )

    port = _free_port()
    process = subprocess.Popen(
        [
            "timeout",
            "-s",
            "KILL",
            "180",
            str(DAGSTER),
            "dev",
            "-m",
            "pipelines.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_up(port, process)
        runs = _graphql(port, "{ runsOrError { ... on Runs { results { jobName status } } } }")
        assert runs["runsOrError"]["results"] == [{"jobName": "koppelwerk_job", "status": "SUCCESS"}]
        jobs = _graphql(
            port,
            "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } schedules { name } } } } }",
        )
        repository = jobs["repositoriesOrError"]["nodes"][0]
        assert "koppelwerk_job" in {job["name"] for job in repository["jobs"]}
        assert [schedule["name"] for schedule in repository["schedules"]] == ["weekly_linkage"]
    finally:
        # dagster dev may ignore SIGTERM here: kill its whole session (it was started as a leader).
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
