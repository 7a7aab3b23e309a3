"""`txlint server` over the fixture projects, file by file as an editor would open them: the
diagnostics are the findings `txlint check` gives in each file, and each quick fix offered,
applied alone, compiles and removes its finding without bringing a new one."""

import json
import shutil

import pytest

from helpers import REPOSITORY, run_txlint
from lsp_client import LspClient, apply_edits, edits_for

FIXTURES = sorted(path for path in (REPOSITORY / "fixtures").iterdir() if path.is_dir())


def _findings_by_file(project):
    code, out, err = run_txlint("check", "--format", "json", ".", cwd=project)
    assert code in (0, 1), err
    by_file = {}
    for finding in json.loads(out)["findings"]:
        by_file.setdefault(finding["path"], []).append(finding)
    return by_file


def _key(diagnostic):
    """A finding, whatever lines an edit elsewhere in the file moved it to."""
    return diagnostic["code"], diagnostic["data"]["function"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.name)
def test_the_server_on_a_fixture_project(fixture, tmp_path):
    project = tmp_path / fixture.name
    shutil.copytree(fixture, project)
    expected = _findings_by_file(project)
    assert expected
    client = LspClient(project)
    try:
        client.initialize(project, {"workspace": {"workspaceEdit": {"documentChanges": True}}})
        offered = 0
        for path, findings in sorted(expected.items()):
            text = (project / path).read_text(encoding="utf-8")
            uri = client.open(project / path, text)
            diagnostics = client.diagnostics(uri, version=1)
            assert [(d["code"], d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1, d["message"])
                    for d in diagnostics] == [(f["code"], f["line"], f["column"], f["message"]) for f in findings]
            version = 1
            for diagnostic in diagnostics:
                actions = client.request("textDocument/codeAction", {
                    "textDocument": {"uri": uri}, "range": diagnostic["range"],
                    "context": {"diagnostics": [diagnostic], "only": ["quickfix"]}})
                mine = [action for action in actions if action["diagnostics"] == [diagnostic]]
                if not mine:
                    continue
                offered += 1
                fixed = apply_edits(text, edits_for(mine[0]["edit"], uri))
                compile(fixed, path, "exec", dont_inherit=True)
                version += 1
                client.replace_text(uri, fixed, version)
                after = {_key(d) for d in client.diagnostics(uri, version=version)}
                assert _key(diagnostic) not in after, (path, mine[0]["title"])
                assert after <= {_key(d) for d in diagnostics}, (path, mine[0]["title"])
                version += 1
                client.replace_text(uri, text, version)  # back, for the next fix
                client.diagnostics(uri, version=version)
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            client.diagnostics(uri)
        print(fixture.name, sum(map(len, expected.values())), "findings,", offered, "quick fixes")
        assert client.shutdown() == 0
    finally:
        client.close()
