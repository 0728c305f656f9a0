"""`./dev app` (`sim.front.serve`): a port that is not a number, or that another program
holds, is one line and exit status 2, before anything is served (issue 29, defect 5)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from sim.front import serve
from tests.conftest import ROOT


@pytest.mark.parametrize("text", ["abc", "0", "65536", "80.5", "-1", ""])
def test_a_port_that_is_not_a_port_is_refused(text):
    with pytest.raises(serve.PortError) as found:
        serve.parse_port(text)
    assert str(found.value) == (f"--port: got {text!r}; allowed: a whole number from 1 to 65535")


def test_a_port_is_read_as_its_number():
    assert serve.parse_port("8765") == 8765
    assert serve.parse_port("1") == 1 and serve.parse_port("65535") == 65535


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind((serve.HOST, 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_port_another_program_holds_is_named(taken_port):
    with pytest.raises(serve.PortError, match="another program is using it") as found:
        serve.check_free(taken_port)
    assert str(found.value).startswith(f"--port: got {taken_port}, ")
    assert f"e.g. --port {taken_port + 1}" in str(found.value)


def test_a_free_port_passes():
    with socket.socket() as probe:
        probe.bind((serve.HOST, 0))
        port = probe.getsockname()[1]
    serve.check_free(port)  # released: free again


@pytest.mark.parametrize("args", [["--port", "abc"], ["--port=12x"]])
def test_the_command_says_why_and_exits_2_without_serving(args, capsys):
    assert serve.main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no address printed for a page that will not be there
    assert err.count("\n") == 1 and err.startswith("error: --port: got ")


def test_dev_app_on_a_taken_port_exits_2_with_one_line(taken_port):
    done = subprocess.run(
        [sys.executable, "-m", "sim.front.serve", "--port", str(taken_port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: --port: got {taken_port}, another program is using it; "
        f"allowed: a free port (e.g. --port {taken_port + 1})"
    ]


def test_the_server_command_is_solara_on_the_loopback():
    command = serve.solara_command(8765)
    assert command[:5] == [sys.executable, "-m", "solara", "run", "sim.front.page"]
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "8765"
