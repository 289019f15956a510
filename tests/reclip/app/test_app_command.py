"""``reclip app``: it serves the page on the address asked for, and a busy port is one line, exit 2."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from reclip.cli.main import main

pytest.importorskip("gradio", reason="gradio (the 'app' extra) is not installed")


def test_reclip_app_serves_the_workbench_on_localhost(monkeypatch, capsys):
    from reclip.app import ui

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    served = {}

    def fetch_instead_of_blocking(server):
        with urllib.request.urlopen(server.url, timeout=30) as response:
            served.update(url=server.url, status=response.status, page=response.read().decode("utf-8"))
        server.close()

    monkeypatch.setattr(ui.Server, "block", fetch_instead_of_blocking)
    assert main(["app", "--port", str(port), "--cases", "my-cases.jsonl"]) == 0
    assert served["url"] == f"http://127.0.0.1:{port}/" and served["status"] == 200
    assert "reclip workbench" in served["page"]
    assert "fonts.googleapis" not in served["page"] and "cdn" not in served["page"].lower()
    assert f"reclip workbench on http://127.0.0.1:{port}/" in capsys.readouterr().err


def test_a_busy_port_is_one_line_and_exit_2(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"reclip app: error: cannot listen on 127.0.0.1:{port}: the port is in use or the address "
                   "is not this machine's (choose another with --port or --host)"]


def test_a_page_served_beyond_this_machine_opens_links_only_to_files_under_its_folders(monkeypatch, tmp_path):
    from reclip.app import ui

    seen = {}

    class NotServed:
        url = "http://0.0.0.0:1/"

        def block(self):
            pass

    def record(workbench, host, port):
        seen[host] = workbench.files
        return NotServed()

    monkeypatch.setattr(ui, "serve", record)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shared").mkdir()
    assert main(["app", "--host", "0.0.0.0"]) == 0                      # the current folder only
    assert main(["app", "--host", "127.0.0.1"]) == 0                    # this machine only: any file
    assert main(["app", "--host", "::1", "--files", "shared"]) == 0
    assert seen == {"0.0.0.0": [tmp_path], "127.0.0.1": None, "::1": [tmp_path / "shared"]}


def test_files_that_is_not_a_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["app", "--files", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"reclip app: error: --files {tmp_path / 'nowhere'}: not a folder"]
