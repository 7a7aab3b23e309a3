"""A small LSP client for the tests: it starts `txlint server` as a subprocess and speaks JSON-RPC
to it over stdio with Content-Length framing, as an editor does. Every wait has a timeout, so a
server that hangs or dies fails the test instead of hanging it."""

import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional

TIMEOUT = 30.0  # seconds for one answer; a check of a small project takes well under one


class ServerGone(AssertionError):
    """The server closed its output (exited or crashed)."""


def server_command() -> List[str]:
    """The installed `txlint` script beside this interpreter, as an editor runs it."""
    script = Path(sys.executable).parent / ("txlint.exe" if os.name == "nt" else "txlint")
    return [str(script), "server"] if script.exists() else [sys.executable, "-m", "txlint", "server"]


class LspClient:
    def __init__(self, cwd: Path, command: Optional[List[str]] = None, env: Optional[dict] = None):
        self.process = subprocess.Popen(command or server_command(), cwd=cwd, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env={**os.environ, **(env or {})})
        self.messages: "queue.Queue[Optional[dict]]" = queue.Queue()
        self.notifications: List[dict] = []  # every notification seen, in order
        self.server_requests: List[dict] = []  # requests the server sent to the client
        self.answers: Dict[int, dict] = {}  # responses not yet taken, by request id
        self.next_id = 0
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        try:
            while True:
                headers = {}
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = stream.read(int(headers["content-length"]))
                self.messages.put(json.loads(body.decode("utf-8")))
        finally:
            self.messages.put(None)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr += line

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Optional[dict] = None) -> None:
        self.send({"method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: Optional[dict] = None, timeout: float = TIMEOUT):
        """The result of a request; an error response fails the test."""
        return self.result(self.send_request(method, params), timeout)

    def send_request(self, method: str, params: Optional[dict] = None) -> int:
        """Send a request without waiting for its answer: its id, for `result`."""
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, **({"params": params} if params is not None else {})})
        return self.next_id

    def result(self, request_id: int, timeout: float = TIMEOUT):
        if request_id in self.answers:
            response = self.answers.pop(request_id)
        else:
            response = self._wait(lambda message: message.get("id") == request_id and "method" not in message,
                                  timeout, f"the answer to request {request_id}")
            self.answers.pop(request_id)
        assert "error" not in response, response["error"]
        return response.get("result")

    def wait_for_notification(self, method: str, where: Callable[[dict], bool] = lambda params: True,
                              timeout: float = TIMEOUT) -> dict:
        """The params of the first notification `method` from now on that `where` accepts."""
        message = self._wait(lambda message: message.get("method") == method and "id" not in message
                             and where(message.get("params")), timeout, method)
        return message["params"]

    def diagnostics(self, uri: str, version: Optional[int] = None, timeout: float = TIMEOUT) -> List[dict]:
        """The next diagnostics published for `uri` (for its `version`, when given)."""
        return self.wait_for_notification(
            "textDocument/publishDiagnostics",
            lambda params: params["uri"] == uri and (version is None or params.get("version") == version),
            timeout)["diagnostics"]

    def _wait(self, wanted: Callable[[dict], bool], timeout: float, what: str) -> dict:
        while True:
            try:
                message = self.messages.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {what} from the server within {timeout} s; "
                                     f"stderr: {self.stderr.decode(errors='replace')}") from None
            if message is None:
                self.messages.put(None)  # every later wait fails the same way
                raise ServerGone(f"the server closed its output while waiting for {what}; "
                                 f"stderr: {self.stderr.decode(errors='replace')}")
            if "method" in message and "id" in message:
                self._answer(message)
            elif "method" in message:
                self.notifications.append(message)
            else:  # kept for `result`, whichever request it answers
                self.answers[message["id"]] = message
            if wanted(message):
                return message

    def _answer(self, request: dict) -> None:
        """Requests from the server: accepted, as an editor that applies edits accepts them."""
        self.server_requests.append(request)
        result = {"applied": True} if request["method"] == "workspace/applyEdit" else None
        self.send({"id": request["id"], "result": result})

    def initialize(self, root: Path, capabilities: Optional[dict] = None) -> dict:
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                             "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                                             "capabilities": capabilities or {}})
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                              "version": version, "text": text}})
        return uri

    def replace_text(self, uri: str, text: str, version: int) -> None:
        """didChange with the whole new text (a change without a range)."""
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [{"text": text}]})

    def shutdown(self, timeout: float = TIMEOUT) -> int:
        """shutdown, then exit: the server's exit status."""
        self.request("shutdown")
        self.notify("exit")
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:  # the pipe broke with the server
                pass


def edits_for(workspace_edit: dict, uri: str) -> List[dict]:
    """The text edits a WorkspaceEdit makes to `uri`, in either of its two forms."""
    if "documentChanges" in workspace_edit:
        return [edit for change in workspace_edit["documentChanges"] if change["textDocument"]["uri"] == uri
                for edit in change["edits"]]
    return workspace_edit.get("changes", {}).get(uri, [])


def apply_edits(text: str, edits: List[dict]) -> str:
    """`text` with LSP text edits made, as an editor makes them: positions are 0-based lines (at
    \\n, \\r\\n or \\r) and UTF-16 code units; the edits do not overlap."""
    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: dict) -> int:
        if position["line"] >= len(lines):
            return len(text)
        line, units, index = lines[position["line"]], 0, 0
        while index < len(line) and units < position["character"]:
            units += 2 if ord(line[index]) > 0xFFFF else 1
            index += 1
        return starts[position["line"]] + index

    spans = sorted(((offset(edit["range"]["start"]), offset(edit["range"]["end"]), edit["newText"]) for edit in edits),
                   reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text
