"""`txlint server`: a language server over stdio, built on pygls (the optional extra `lsp`).

It publishes, for each open Python document, the findings `txlint check` gives in that file:
the document's current text is analysed within its project, as the flake8 plugin's buffer mode
does (txlint.session.check_buffer), so a helper or a model in another file of the project counts
and `[tool.txlint]` is found and read as the command line finds it. A document is checked when it
is opened, shortly after the typing stops, and when it is saved; a save, or a change on disk to
a module or configuration of the project (for clients that watch files), also re-checks the
other open documents, whose findings may depend on it. The check runs in a worker thread,
so the server keeps answering while a large project is analysed.

Each fix txlint.fixes offers for a document's findings is a code action (txlint.server_actions).

A configuration error or a bug of txlint's becomes a TXL000 diagnostic on the document's first
line (and a log message), never a crashed server. pygls is imported only here.
"""

import asyncio
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Set, Tuple

from txlint import __version__
from txlint.errors import UsageError

try:
    from pygls.lsp.server import LanguageServer
    from lsprotocol import types  # (pygls's own dependency)
except ImportError as missing:  # the optional extra is not installed, or pygls 1
    raise UsageError(f"`txlint server` needs pygls 2 or newer ({missing}): "
                     f"pip install 'txlint[lsp]'") from None

from txlint.findings import Finding
from txlint.reporters.escape import visible
from txlint.rule import Rule
from txlint.server_actions import KINDS, code_actions

# How long the typing must pause before a changed document is checked again: each check analyses
# the project, so one per keystroke would queue work the next keystroke makes stale.
CHANGE_DELAY = 0.3
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line ends LSP counts, and Python's tokenizer too
_UNNECESSARY = {"TXL001"}  # an unused suppression: editors grey it out
# The files an open document's findings depend on besides itself: the project's other modules,
# its configuration, the ignore files that decide what the project is.
WATCHED_FILES = ("**/*.py", "**/pyproject.toml", "**/.gitignore")


class Analysis:
    """What a check of one document found: its findings, or the one-line reasons it could not
    be checked (a configuration error, an internal error of txlint's), and the hints the command
    line would print (a rule turned off for the project, and why)."""

    def __init__(self, findings: Sequence[Finding] = (), failures: Sequence[str] = (), hints: Sequence[str] = ()):
        self.findings = list(findings)
        self.failures = list(failures)
        self.hints = list(hints)


def analyse(path: str, text: str, rules: Sequence[Rule]) -> Analysis:
    """The findings in the file at `path`, whose current text is `text`, within its project."""
    from txlint.errors import internal_error
    from txlint.session import Options, check_buffer

    try:
        result = check_buffer(path, text, Options(jobs=1), rules)
    except UsageError as error:
        return Analysis(failures=[f"txlint cannot run: {error}"])
    except Exception as error:  # a bug of txlint's: the editor shows it, the server goes on
        return Analysis(failures=[f"txlint failed: {internal_error('checking', error, path)}"])
    target = os.path.realpath(path)
    findings = [finding for finding in result.findings if os.path.realpath(finding.path) == target]
    return Analysis(findings, [f"txlint failed: {message}" for message in result.internal_errors], result.hints)


def document_lines(text: str) -> List[str]:
    """The document's lines as LSP and Python number them (not str.splitlines, which also breaks
    at form feeds and U+2028)."""
    return _LINE_BREAK.split(text)


def lsp_range(finding: Finding, lines: Sequence[str], units) -> "types.Range":
    """The finding's range (1-based lines, 1-based columns in code points) in the client's
    position encoding (UTF-16 code units unless the client chose another); `units(text)`
    counts the client's units in a string."""
    return types.Range(start=_position(finding.line, finding.column, lines, units),
                       end=_position(finding.end_line, finding.end_column, lines, units))


def _position(line: int, column: int, lines: Sequence[str], units) -> "types.Position":
    index = min(max(line, 1), len(lines)) - 1
    text = lines[index]
    return types.Position(line=index, character=units(text[:max(column, 1) - 1]))


def diagnostics(analysis: Analysis, lines: Sequence[str], rules: Dict[str, Rule], units) -> List["types.Diagnostic"]:
    return [*(_failure(message) for message in analysis.failures),
            *(diagnostic(finding, lines, rules, units) for finding in analysis.findings)]


def diagnostic(finding: Finding, lines: Sequence[str], rules: Dict[str, Rule], units) -> "types.Diagnostic":
    rule = rules.get(finding.code)
    return types.Diagnostic(
        range=lsp_range(finding, lines, units),
        message=visible(finding.message),
        severity=types.DiagnosticSeverity.Error if finding.code == "TXL000" else types.DiagnosticSeverity.Warning,
        code=finding.code,
        source="txlint",
        tags=[types.DiagnosticTag.Unnecessary] if finding.code in _UNNECESSARY else None,
        data={"name": finding.name, "summary": rule.summary if rule else "", "function": finding.function},
    )


def _failure(message: str) -> "types.Diagnostic":
    start = types.Position(line=0, character=0)
    return types.Diagnostic(range=types.Range(start=start, end=start), message=visible(message),
                            severity=types.DiagnosticSeverity.Error, code="TXL000", source="txlint")


def fixes(findings: Sequence[Finding], text: str, rules: Sequence[Rule]) -> Tuple[list, Optional[str]]:
    """The fixes for the findings in `text`, and the one-line reason there are none if a fix
    failed (a bug of txlint's: the editor gets no actions, the server goes on)."""
    from txlint.errors import internal_error
    from txlint.fixes import fixes_for_text

    try:
        return fixes_for_text(findings, text, None, rules), None
    except Exception as error:
        return [], internal_error("fixing", error, findings[0].path if findings else None)


class Published:
    """What the client was last told about a document: for which version and text, and the
    fixes for those findings, computed once when a code action first asks for them (the
    requests that come meanwhile, as the cursor moves, wait for the same computation)."""

    def __init__(self, version: int, text: str, analysis: Analysis):
        self.version, self.text, self.analysis = version, text, analysis
        self.lines = document_lines(text)
        self.fixes: Optional["asyncio.Future"] = None


def is_checked(document) -> bool:
    """A Python file's document. An unsaved buffer with no file name (`untitled:`) belongs to no
    project and is not checked."""
    return document.uri.startswith("file:") and (
        document.language_id == "python" or document.uri.endswith((".py", ".pyi")))


class TxlintServer(LanguageServer):
    """The language server: open documents, their pending checks, one worker thread for checks
    (they share txlint's per-process caches, and two at once would only compete for a core).

    A document's own edits are checked first; the re-checks of other open documents that a save
    or a change on disk asks for run in the background, once no edit's check is waiting, so
    that many open files do not delay the one being typed in.
    """

    def __init__(self, change_delay: float = CHANGE_DELAY):
        super().__init__("txlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        from txlint.rules import all_rules

        self.rules = all_rules()
        self.rules_by_code = {rule.code: rule for rule in self.rules}
        self.change_delay = change_delay
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="txlint-check")
        self.pending: Dict[str, asyncio.Task] = {}
        self.background: Set[str] = set()  # the documents whose pending check is a background one
        self.published: Dict[str, Published] = {}
        self.hinted: Set[str] = set()  # each hint is logged once, not on every check

    def schedule(self, uri: str, delay: float = 0.0, background: bool = False) -> None:
        """Check the document after `delay` seconds, replacing a check not started yet; a
        background check does not replace an edit's, which comes sooner."""
        earlier = self.pending.get(uri)
        if earlier is not None and not earlier.done():
            if background and uri not in self.background:
                return
            earlier.cancel()
        if background:
            self.background.add(uri)
        else:
            self.background.discard(uri)
        self.pending[uri] = asyncio.ensure_future(self._check(uri, delay, background))

    async def _edits_checked(self) -> None:
        """Until no check of an edit is pending. (Polled: checks take tenths of a second.)"""
        while any(not task.done() for uri, task in self.pending.items() if uri not in self.background):
            await asyncio.sleep(0.05)

    def checked_documents(self) -> List[str]:
        return [uri for uri, document in self.workspace.text_documents.items() if is_checked(document)]

    async def _check(self, uri: str, delay: float, background: bool) -> None:
        try:
            await asyncio.sleep(delay)
            if background:
                await self._edits_checked()
            document = self.workspace.text_documents.get(uri)
            if document is None or document.path is None or not is_checked(document):
                return
            version, text = document.version, document.source
            loop = asyncio.get_running_loop()
            analysis = await loop.run_in_executor(self.checker, analyse, document.path, text, self.rules)
            current = self.workspace.text_documents.get(uri)
            if current is None or current.version != version:
                return  # closed, or changed while it was checked: a newer check is scheduled
            for message in analysis.failures:
                self.log(types.MessageType.Error, f"{document.path}: {message}")
            for hint in analysis.hints:
                if hint not in self.hinted:
                    self.hinted.add(hint)
                    self.log(types.MessageType.Info, f"txlint: hint: {hint}")
            published = self.published[uri] = Published(version, text, analysis)
            shown = diagnostics(analysis, published.lines, self.rules_by_code, current.position_codec.client_num_units)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=shown, version=version))
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]
                self.background.discard(uri)

    async def code_actions(self, params: "types.CodeActionParams") -> List["types.CodeAction"]:
        uri = params.text_document.uri
        document = self.workspace.text_documents.get(uri)
        published = self.published.get(uri)
        if document is None or published is None or published.version != document.version:
            return []  # the findings are of older text; the next check brings new ones
        if published.fixes is None:
            published.fixes = asyncio.ensure_future(self._fixes(published))
        found = await asyncio.shield(published.fixes)  # a cancelled request leaves it for the next
        if self.published.get(uri) is not published:
            return []  # checked again meanwhile
        units = document.position_codec.client_num_units
        edit_capabilities = self.client_capabilities.workspace and self.client_capabilities.workspace.workspace_edit
        return code_actions(uri, published.version, published.text, published.lines, found, params,
                            lambda finding: diagnostic(finding, published.lines, self.rules_by_code, units),
                            units, bool(edit_capabilities and edit_capabilities.document_changes))

    async def _fixes(self, published: Published) -> list:
        loop = asyncio.get_running_loop()
        found, failure = await loop.run_in_executor(
            self.checker, fixes, published.analysis.findings, published.text, self.rules)
        if failure:
            self.log(types.MessageType.Error, f"txlint: {failure}")
        return found

    def watch_files(self) -> None:
        """Ask the client to say when the files the findings depend on change on disk (a branch
        checked out, `pyproject.toml` edited): clients that can register watchers at run time."""
        workspace = self.client_capabilities.workspace
        watching = workspace and workspace.did_change_watched_files
        if not (watching and watching.dynamic_registration):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED_FILES])
        self.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id="txlint-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))

    def stop_checking(self) -> None:
        """On shutdown: the pending checks are dropped, and the queued ones; only one already
        running is waited for when the process exits."""
        for task in self.pending.values():
            task.cancel()
        self.pending.clear()
        self.checker.shutdown(wait=False, cancel_futures=True)

    def log(self, kind: "types.MessageType", message: str) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))


def build_server(change_delay: float = CHANGE_DELAY) -> TxlintServer:
    server = TxlintServer(change_delay)

    @server.feature(types.INITIALIZED)
    def initialized(ls: TxlintServer, params: types.InitializedParams) -> None:
        ls.watch_files()

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: TxlintServer, params: None) -> None:
        ls.stop_checking()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def files_changed(ls: TxlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        for uri in ls.checked_documents():
            ls.schedule(uri, ls.change_delay, background=True)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TxlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TxlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.change_delay)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TxlintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)
        for uri in ls.checked_documents():  # their findings may depend on the saved file
            if uri != params.text_document.uri:
                ls.schedule(uri, ls.change_delay, background=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TxlintServer, params: types.DidCloseTextDocumentParams) -> None:
        pending = ls.pending.pop(params.text_document.uri, None)
        if pending is not None:
            pending.cancel()
        ls.background.discard(params.text_document.uri)
        ls.published.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
    async def code_action(ls: TxlintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        return await ls.code_actions(params)

    return server


def serve() -> int:
    """Speak LSP on stdin and stdout until the client says exit. Anything else that would print
    to stdout (a warning of a library's) goes to stderr instead, where it cannot corrupt the
    protocol."""
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    build_server().start_io(sys.stdin.buffer, protocol_out)
    return 0
