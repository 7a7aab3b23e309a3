"""The language server's code actions: each fix txlint.fixes offers for a document's findings,
as a quick fix with the edit to make (preferred when the fix is safe), and one source action
that applies every safe fix of the document at once (`source.fixAll.txlint`, which editors can
run on save).

The fixes are computed from the findings last published for the document, for the text they
were computed from: when the document has changed since, no action is offered until its next
check (a fix computed for other text would edit the wrong code). Each edit names the document's
version, so a client does not apply it to newer text either.
"""

from typing import Callable, List, Optional, Sequence

from lsprotocol import types

from txlint.fixes import Fix, TextEdit, apply_fixes

FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.txlint"
KINDS = [types.CodeActionKind.QuickFix, FIX_ALL]


def code_actions(uri: str, version: int, text: str, lines: Sequence[str], fixes: Sequence[Fix],
                 params: "types.CodeActionParams", diagnostic_of: Callable, units: Callable[[str], int],
                 document_changes: bool) -> List["types.CodeAction"]:
    """The actions for the requested range: a quick fix for each finding it touches, and the
    fix-all action when the document has safe fixes. `lines` are the text's lines as LSP counts
    them; `diagnostic_of(finding)` is the diagnostic published for a finding; `units(string)`
    counts the client's position units in a string."""
    wanted = params.context.only
    actions = []
    if _asked_for(types.CodeActionKind.QuickFix, wanted):
        for fix in fixes:
            if not _touches(fix, params.range):
                continue
            unsafe = "" if fix.safe else " (unsafe: may change behaviour, review it)"
            edits = [_text_edit(edit, lines, units) for edit in fix.edits]
            actions.append(types.CodeAction(
                title=f"txlint {fix.code}: {fix.title}{unsafe}", kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic_of(fix.finding)], is_preferred=fix.safe,
                edit=_workspace_edit(uri, version, edits, document_changes)))
    safe = [fix for fix in fixes if fix.safe]
    if safe and _asked_for(FIX_ALL, wanted):
        _, applied = apply_fixes(text, safe)
        # The applied fixes' edits do not overlap, except an edit two fixes share (one import
        # added for both), which is made once, as apply_fixes makes it.
        edits = sorted({edit for fix in applied for edit in fix.edits},
                       key=lambda edit: (edit.start_line, edit.start_column, edit.end_line, edit.end_column))
        count = f"{len(applied)} safe fix{'es' if len(applied) != 1 else ''}"
        actions.append(types.CodeAction(
            title=f"txlint: apply the {count} of this file", kind=FIX_ALL,
            edit=_workspace_edit(uri, version, [_text_edit(edit, lines, units) for edit in edits], document_changes)))
    return actions


def _asked_for(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Is `kind` among the kinds the client asked for (`only` names kinds or their prefixes)?"""
    return not only or any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def _touches(fix: Fix, requested: "types.Range") -> bool:
    """Does the finding's range share a line with the requested one (the cursor's line, a
    selection, or a diagnostic's range the client sends back)?"""
    finding = fix.finding
    return finding.line - 1 <= requested.end.line and requested.start.line <= finding.end_line - 1


def _text_edit(edit: TextEdit, lines: Sequence[str], units: Callable[[str], int]) -> "types.TextEdit":
    """txlint.fixes counts lines from 1 and columns in characters from 0; LSP counts both from 0,
    columns in the client's units."""
    return types.TextEdit(range=types.Range(start=_position(edit.start_line, edit.start_column, lines, units),
                                            end=_position(edit.end_line, edit.end_column, lines, units)),
                          new_text=edit.new_text)


def _position(line: int, column: int, lines: Sequence[str], units: Callable[[str], int]) -> "types.Position":
    index = min(line, len(lines)) - 1
    return types.Position(line=index, character=units(lines[index][:column]))


def _workspace_edit(uri: str, version: int, edits: List["types.TextEdit"], document_changes: bool):
    """A versioned document edit where the client supports one (it is then refused on newer
    text), else the plain form every client supports."""
    if document_changes:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=edits)])
    return types.WorkspaceEdit(changes={uri: edits})

