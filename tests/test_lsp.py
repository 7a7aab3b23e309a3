"""`txlint server`, driven over stdio by a real LSP client (tests/lsp_client.py): the diagnostics
are those `txlint check` gives, within the project, on open, change and save; configuration and
bad input become diagnostics, never a crashed server."""

import json
import subprocess
import sys

import pytest

from examples import CLEAN, MODELS, VIEW
from helpers import REPOSITORY, run_txlint
from lsp_client import LspClient, apply_edits, edits_for, server_command

ATOMIC_VIEW = VIEW.replace("from app.models import", "from django.db import transaction\n\nfrom app.models import").replace(
    "def place_order", "@transaction.atomic\ndef place_order")


@pytest.fixture
def shop(tree):
    """A Django project whose models live in another module than the view that writes them."""
    return tree({"pyproject.toml": "[tool.txlint]\n", "app/__init__.py": "", "app/models.py": MODELS,
                 "app/views.py": VIEW})


STALE_SUPPRESSIONS = ("def total(order):\n    return order.total  # txlint: ignore[TXL101]\n\n\n"
                      "def count(rows):\n    return len(rows)  # noqa: E501, TXL102\n")
WITHOUT_THEM = "def total(order):\n    return order.total\n\n\ndef count(rows):\n    return len(rows)  # noqa: E501\n"
VERSIONED_EDITS = {"workspace": {"workspaceEdit": {"documentChanges": True}}}


@pytest.fixture
def client_for(request):
    started = []

    def start(root, capabilities=None, **options):
        client = LspClient(root, **options)
        started.append(client)
        client.initialize(root, capabilities)
        return client

    yield start
    for client in started:
        client.close()


def _check_json(root, path):
    code, out, err = run_txlint("check", "--format", "json", path, cwd=root)
    assert code in (0, 1), err
    return json.loads(out)["findings"]


def test_the_server_publishes_what_check_reports_and_clears_it_when_the_buffer_is_fixed(shop, client_for):
    client = client_for(shop)
    uri = client.open(shop / "app" / "views.py", VIEW)
    diagnostics = client.diagnostics(uri, version=1)
    [expected] = _check_json(shop, "app/views.py")
    assert [(d["code"], d["source"], d["message"]) for d in diagnostics] == [("TXL101", "txlint", expected["message"])]
    assert "Invoice" in expected["message"]  # the models, in another file, were seen
    [diagnostic] = diagnostics
    assert diagnostic["range"] == {"start": {"line": expected["line"] - 1, "character": expected["column"] - 1},
                                   "end": {"line": expected["end_line"] - 1, "character": expected["end_column"] - 1}}
    assert diagnostic["severity"] == 2 and "codeDescription" not in diagnostic  # no published page to link to yet
    assert diagnostic["data"]["name"] == "multi-table-write"
    client.replace_text(uri, ATOMIC_VIEW, version=2)
    assert client.diagnostics(uri, version=2) == []
    assert client.server_requests == []  # no file watchers asked of a client that cannot register them
    assert client.shutdown() == 0


def test_a_clean_file_gets_no_diagnostics(tree, client_for):
    root = tree({"app/services.py": CLEAN})
    client = client_for(root)
    uri = client.open(root / "app" / "services.py", CLEAN)
    assert client.diagnostics(uri, version=1) == []


def test_typing_is_checked_once_it_pauses(shop, client_for):
    """Changes in quick succession: one check, of the last text."""
    client = client_for(shop)
    uri = client.open(shop / "app" / "views.py", ATOMIC_VIEW)
    assert client.diagnostics(uri, version=1) == []
    for version in range(2, 8):  # flagged, clean, flagged, ..., clean
        client.replace_text(uri, VIEW if version % 2 == 0 else ATOMIC_VIEW, version)
    published = client.wait_for_notification("textDocument/publishDiagnostics", lambda params: params["uri"] == uri)
    assert published["version"] == 7 and published["diagnostics"] == []
    client.replace_text(uri, VIEW, 8)
    assert [d["code"] for d in client.diagnostics(uri, version=8)] == ["TXL101"]


def test_saving_another_file_rechecks_the_open_documents(tree, client_for):
    """The view writes Invoice, which is no model until models.py says so and is saved."""
    only_order = MODELS.split("\n\nclass Invoice")[0] + "\n"
    root = tree({"app/__init__.py": "", "app/models.py": only_order, "app/views.py": VIEW})
    client = client_for(root)
    view = client.open(root / "app" / "views.py", VIEW)
    assert client.diagnostics(view, version=1) == []
    models = client.open(root / "app" / "models.py", only_order)
    client.replace_text(models, MODELS, version=2)
    (root / "app" / "models.py").write_text(MODELS)
    client.notify("textDocument/didSave", {"textDocument": {"uri": models}})
    assert [d["code"] for d in client.diagnostics(view, version=1)] == ["TXL101"]


def test_a_change_on_disk_to_the_configuration_rechecks_the_open_documents(shop, client_for):
    """For a client that watches files: the server asks it to, and re-checks on what it reports."""
    client = client_for(shop, {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}})
    uri = client.open(shop / "app" / "views.py", VIEW)
    assert [d["code"] for d in client.diagnostics(uri, version=1)] == ["TXL101"]
    [registration] = [registration for request in client.server_requests if request["method"] == "client/registerCapability"
                      for registration in request["params"]["registrations"]]
    assert registration["method"] == "workspace/didChangeWatchedFiles"
    patterns = {watcher["globPattern"] for watcher in registration["registerOptions"]["watchers"]}
    assert {"**/*.py", "**/pyproject.toml"} <= patterns
    (shop / "pyproject.toml").write_text('[tool.txlint]\nignore = ["TXL101"]\n')
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": (shop / "pyproject.toml").as_uri(),
                                                                   "type": 2}]})
    assert client.diagnostics(uri, version=1) == []


def test_an_edit_is_checked_before_the_re_checks_a_save_asks_for(shop, client_for):
    """Save S: S now, P and Q in the background; then Q is edited: Q's check goes before P's."""
    client = client_for(shop)
    saved, waiting, edited = (client.open(shop / "app" / name, VIEW) for name in ("a.py", "b.py", "c.py"))
    for uri in (saved, waiting, edited):
        client.diagnostics(uri, version=1)
    client.notify("textDocument/didSave", {"textDocument": {"uri": saved}})
    client.replace_text(edited, VIEW + "\n", version=2)
    order = [client.wait_for_notification("textDocument/publishDiagnostics")["uri"] for _ in range(3)]
    assert order == [saved, edited, waiting]


def test_the_project_configuration_applies(shop, client_for):
    (shop / "pyproject.toml").write_text('[tool.txlint]\nignore = ["TXL101"]\n')
    client = client_for(shop)
    uri = client.open(shop / "app" / "views.py", VIEW)
    assert client.diagnostics(uri, version=1) == []
    (shop / "pyproject.toml").write_text('[tool.txlint]\nexclude = ["app/views.py"]\n')
    client.replace_text(uri, VIEW + "\n", version=2)
    assert client.diagnostics(uri, version=2) == []


def test_a_hint_of_the_command_line_is_logged_once(tree, client_for):
    raw_sql = ('import sqlite3\n\n\ndef save(name):\n    conn = sqlite3.connect("app.db")\n'
               '    conn.execute("INSERT INTO users (name) VALUES (?)", (name,))\n    conn.commit()\n')
    root = tree({"app.py": raw_sql})
    _, _, err = run_txlint("check", "app.py", cwd=root)
    client = client_for(root)
    uri = client.open(root / "app.py", raw_sql)
    assert client.diagnostics(uri, version=1) == []
    client.replace_text(uri, raw_sql + "\n", version=2)
    assert client.diagnostics(uri, version=2) == []
    logged = [message["params"] for message in client.notifications if message["method"] == "window/logMessage"]
    assert [(entry["type"], entry["message"]) for entry in logged] == [(3, err.strip())] and "TXL201" in err


def test_a_configuration_error_is_a_diagnostic_and_the_server_goes_on(shop, client_for):
    (shop / "pyproject.toml").write_text('[tool.txlint]\nexclude = "scripts/"\n')
    client = client_for(shop)
    uri = client.open(shop / "app" / "views.py", VIEW)
    [diagnostic] = client.diagnostics(uri, version=1)
    assert diagnostic["code"] == "TXL000" and diagnostic["severity"] == 1
    assert diagnostic["message"].startswith("txlint cannot run:") and "exclude" in diagnostic["message"]
    [logged] = [message["params"] for message in client.notifications if message["method"] == "window/logMessage"]
    assert "exclude" in logged["message"] and logged["type"] == 1
    (shop / "pyproject.toml").write_text("[tool.txlint]\n")
    client.replace_text(uri, VIEW, version=2)
    assert [d["code"] for d in client.diagnostics(uri, version=2)] == ["TXL101"]
    assert client.shutdown() == 0


@pytest.mark.parametrize("text", ["def broken(:\n    pass\n", "x = '\udcff'\n", "\x00\x01 = 1\n"],
                         ids=["syntax", "surrogate", "nul"])
def test_a_file_that_does_not_parse_is_a_txl000_diagnostic(shop, client_for, text):
    client = client_for(shop)
    uri = client.open(shop / "app" / "broken.py", text)
    diagnostics = client.diagnostics(uri, version=1)
    assert [d["code"] for d in diagnostics] == ["TXL000"] and diagnostics[0]["severity"] == 1
    view = client.open(shop / "app" / "views.py", VIEW)
    assert [d["code"] for d in client.diagnostics(view, version=1)] == ["TXL101"]


def test_columns_are_counted_in_the_client_s_units(shop, client_for):
    """LSP counts UTF-16 code units unless the client asks for another encoding; txlint counts
    code points. 😋 is one code point and two UTF-16 units."""
    prefixed = VIEW.replace("    Invoice.objects", "    note = '😋'; Invoice.objects")
    client = client_for(shop)
    uri = client.open(shop / "app" / "views.py", prefixed)
    [diagnostic] = client.diagnostics(uri, version=1)
    line = prefixed.splitlines()[diagnostic["range"]["start"]["line"]]
    assert diagnostic["range"]["start"]["character"] == line.index("Invoice") + 1
    utf32 = LspClient(shop)
    try:
        utf32.initialize(shop, {"general": {"positionEncodings": ["utf-32"]}})
        uri = utf32.open(shop / "app" / "views.py", prefixed)
        [diagnostic] = utf32.diagnostics(uri, version=1)
        assert diagnostic["range"]["start"]["character"] == line.index("Invoice")
    finally:
        utf32.close()


def test_a_closed_document_s_diagnostics_are_cleared(shop, client_for):
    client = client_for(shop)
    uri = client.open(shop / "app" / "views.py", VIEW)
    assert client.diagnostics(uri, version=1)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def test_the_server_never_runs_the_project_s_code(tree, client_for):
    root = tree({"app/__init__.py": "open('IMPORTED', 'w').close()\n", "app/models.py": MODELS,
                 "app/views.py": VIEW, "conftest.py": "open('IMPORTED', 'w').close()\n"})
    client = client_for(root)
    uri = client.open(root / "app" / "views.py", VIEW)
    assert [d["code"] for d in client.diagnostics(uri, version=1)] == ["TXL101"]
    assert client.shutdown() == 0
    assert not (root / "IMPORTED").exists()


def test_without_pygls_the_server_says_how_to_install_it(tmp_path):
    """A pygls that cannot be imported, first on the path."""
    (tmp_path / "pygls").mkdir()
    (tmp_path / "pygls" / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'pygls'\", name='pygls')\n")
    completed = subprocess.run(server_command(), cwd=tmp_path, capture_output=True, text=True, timeout=60,
                               env={"PYTHONPATH": str(tmp_path), "PATH": ""}, input="")
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert "pip install 'txlint[lsp]'" in completed.stderr


def _modules_after(code: str) -> set:
    program = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    return set(completed.stdout.split())


def test_pygls_is_imported_by_the_server_only_and_libcst_only_for_fixes():
    checked = _modules_after("from txlint.cli import main\nmain(['check', '--no-cache', 'fixtures/django_shop'])")
    assert "txlint.engine" in checked and not any(name.split(".")[0] in ("pygls", "lsprotocol") for name in checked)
    view = "fixtures/django_shop/shop/views.py"
    diagnosed = _modules_after(f"from txlint.rules import all_rules\nfrom txlint.server import analyse\n"
                               f"assert analyse({view!r}, open({view!r}).read(), all_rules()).findings")
    assert "pygls" in diagnosed and "txlint.engine" in diagnosed
    assert not any(name.split(".")[0] == "libcst" for name in diagnosed)


def test_the_server_subcommand_accepts_the_stdio_flag_clients_pass(shop):
    client = LspClient(shop, command=[*server_command(), "--stdio"])
    try:
        assert client.initialize(shop)["serverInfo"]["name"] == "txlint"
        assert client.shutdown() == 0
    finally:
        client.close()



def _code_actions(client, uri, diagnostics, only=None, lines=None):
    """The actions for the diagnostics' range, or for `lines` (first, last) with no diagnostics."""
    if lines:
        start, end = {"line": lines[0], "character": 0}, {"line": lines[1], "character": 0}
    else:
        start, end = diagnostics[0]["range"]["start"], diagnostics[-1]["range"]["end"]
    context = {"diagnostics": diagnostics, **({"only": only} if only else {})}
    return client.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                                                      "range": {"start": start, "end": end}, "context": context})


@pytest.mark.parametrize("capabilities", [VERSIONED_EDITS, None], ids=["documentChanges", "changes"])
def test_a_fix_is_a_quick_fix_whose_edit_removes_the_finding(shop, client_for, capabilities):
    client = client_for(shop, capabilities)
    uri = client.open(shop / "app" / "totals.py", STALE_SUPPRESSIONS)
    diagnostics = client.diagnostics(uri, version=1)
    assert [d["code"] for d in diagnostics] == ["TXL001", "TXL001"]
    [action] = [action for action in _code_actions(client, uri, diagnostics[:1]) if action["kind"] == "quickfix"]
    assert action["title"] == "txlint TXL001: remove the unused suppression of TXL101"
    assert action["isPreferred"] is True and action["diagnostics"] == diagnostics[:1]
    if capabilities:  # the edit names the version it was computed for
        assert [change["textDocument"] for change in action["edit"]["documentChanges"]] == [{"uri": uri, "version": 1}]
    fixed = apply_edits(STALE_SUPPRESSIONS, edits_for(action["edit"], uri))
    assert fixed == STALE_SUPPRESSIONS.replace("  # txlint: ignore[TXL101]", "")
    client.replace_text(uri, fixed, version=2)
    assert [(d["code"], d["range"]["start"]["line"]) for d in client.diagnostics(uri, version=2)] == [("TXL001", 5)]


def test_fix_all_applies_every_safe_fix_of_the_file(shop, client_for):
    client = client_for(shop, VERSIONED_EDITS)
    uri = client.open(shop / "app" / "totals.py", STALE_SUPPRESSIONS)
    diagnostics = client.diagnostics(uri, version=1)
    [action] = _code_actions(client, uri, diagnostics[:1], only=["source.fixAll"])
    assert action["kind"] == "source.fixAll.txlint" and action["title"] == "txlint: apply the 2 safe fixes of this file"
    fixed = apply_edits(STALE_SUPPRESSIONS, edits_for(action["edit"], uri))
    assert fixed == WITHOUT_THEM
    client.replace_text(uri, fixed, version=2)
    assert client.diagnostics(uri, version=2) == []
    assert _code_actions(client, uri, [], lines=(0, 5)) == []


def test_requests_in_flight_together_get_the_same_fixes(shop, client_for):
    """As the cursor moves, a client asks again before the first answer: both are answered."""
    client = client_for(shop)
    uri = client.open(shop / "app" / "totals.py", STALE_SUPPRESSIONS)
    diagnostics = client.diagnostics(uri, version=1)
    params = {"textDocument": {"uri": uri}, "range": diagnostics[1]["range"], "context": {"diagnostics": []}}
    first, second = client.send_request("textDocument/codeAction", params), client.send_request("textDocument/codeAction", params)
    answers = [client.result(second), client.result(first)]
    assert answers[0] == answers[1] and [action["title"] for action in answers[0]] == [
        "txlint TXL001: remove the unused suppression of TXL102", "txlint: apply the 2 safe fixes of this file"]


def test_no_action_is_offered_for_text_the_findings_were_not_computed_from(shop, client_for):
    client = client_for(shop)
    uri = client.open(shop / "app" / "totals.py", STALE_SUPPRESSIONS)
    diagnostics = client.diagnostics(uri, version=1)
    client.replace_text(uri, "\n" + STALE_SUPPRESSIONS, version=2)
    assert _code_actions(client, uri, diagnostics) == []  # before the new text is checked
    diagnostics = client.diagnostics(uri, version=2)
    [action] = [action for action in _code_actions(client, uri, diagnostics[:1]) if action["kind"] == "quickfix"]
    assert apply_edits("\n" + STALE_SUPPRESSIONS, edits_for(action["edit"], uri)).startswith(
        "\ndef total(order):\n    return order.total\n")


def test_a_finding_without_a_fix_gets_no_action(tree, client_for):
    root = tree({"app/services.py": "x = 1\n"})
    client = client_for(root)
    uri = client.open(root / "app" / "services.py", "def broken(:\n")
    diagnostics = client.diagnostics(uri, version=1)
    assert [d["code"] for d in diagnostics] == ["TXL000"]
    assert _code_actions(client, uri, diagnostics) == []


def test_messages_the_server_cannot_use_leave_it_running(shop, client_for):
    client = client_for(shop)
    client.process.stdin.write(b"Content-Length: 5\r\n\r\n{bad}")  # not JSON
    client.notify("textDocument/didOpen", {"nonsense": 1})  # params of the wrong shape
    client.notify("textDocument/didOpen", {"textDocument": {"uri": "untitled:Untitled-1", "languageId": "python",
                                                            "version": 1, "text": VIEW}})  # no file: not checked
    uri = client.open(shop / "app" / "views.py", VIEW)
    assert [d["code"] for d in client.diagnostics(uri, version=1)] == ["TXL101"]
    published = [message["params"]["uri"] for message in client.notifications
                 if message["method"] == "textDocument/publishDiagnostics"]
    assert published == [uri]
    assert client.shutdown() == 0


def test_a_new_file_not_saved_yet_is_checked_within_its_project(shop, client_for):
    client = client_for(shop)
    uri = client.open(shop / "app" / "orders" / "checkout.py", VIEW)  # neither the file nor its folder exist
    assert [d["code"] for d in client.diagnostics(uri, version=1)] == ["TXL101"]


def test_the_quick_fix_makes_the_edit_check_fix_makes(shop, client_for):
    """The brief's scenario end to end: the view's TXL101, seen through the models in another
    module, fixed from the editor; the same text `txlint check --fix` writes."""
    client = client_for(shop, VERSIONED_EDITS)
    uri = client.open(shop / "app" / "views.py", VIEW)
    diagnostics = client.diagnostics(uri, version=1)
    [action] = [action for action in _code_actions(client, uri, diagnostics) if action["kind"] == "quickfix"]
    assert action["isPreferred"] is True and "@transaction.atomic" in action["title"]
    fixed = apply_edits(VIEW, edits_for(action["edit"], uri))
    assert "@transaction.atomic\ndef place_order" in fixed
    client.replace_text(uri, fixed, version=2)
    assert client.diagnostics(uri, version=2) == []
    code, _, err = run_txlint("check", "--fix", "app/views.py", cwd=shop)
    assert code == 0, err
    assert (shop / "app" / "views.py").read_text() == fixed


def test_a_fix_in_a_crlf_file_with_wide_characters_keeps_them(shop, client_for):
    """Lines end at \r\n and a wide character precedes the write: the edit lands where it must."""
    view = VIEW.replace("    Invoice.objects", "    note = '😋'; Invoice.objects").replace("\n", "\r\n")
    client = client_for(shop, VERSIONED_EDITS)
    uri = client.open(shop / "app" / "views.py", view)
    diagnostics = client.diagnostics(uri, version=1)
    [action] = [action for action in _code_actions(client, uri, diagnostics) if action["kind"] == "quickfix"]
    fixed = apply_edits(view, edits_for(action["edit"], uri))
    assert "\r\n@transaction.atomic\r\ndef place_order" in fixed and "\n" not in fixed.replace("\r\n", "")
    assert "    note = '😋'; Invoice.objects.create(order=order)\r\n" in fixed
    client.replace_text(uri, fixed, version=2)
    assert client.diagnostics(uri, version=2) == []


def test_an_unsafe_fix_is_offered_but_not_preferred(tree, client_for):
    from txlint.rules import rules_by_code

    rule = rules_by_code()["TXL103"]
    example, use_instead = rule.section_code("Example"), rule.section_code("Use instead")
    root = tree({"app/accounts.py": example})
    client = client_for(root)
    uri = client.open(root / "app" / "accounts.py", example)
    diagnostics = client.diagnostics(uri, version=1)
    assert [d["code"] for d in diagnostics] == ["TXL103"]
    [action] = _code_actions(client, uri, diagnostics)  # no fix-all: it applies safe fixes only
    assert action["kind"] == "quickfix" and action["isPreferred"] is False
    assert action["title"].endswith("(unsafe: may change behaviour, review it)")
    fixed = apply_edits(example, edits_for(action["edit"], uri))
    assert fixed == use_instead
    client.replace_text(uri, fixed, version=2)
    assert client.diagnostics(uri, version=2) == []
