"""Imports as fixes add them: once, to the file's existing `from module import ...` when it has
one, else beside the imports of the same package (as isort groups them). Imported only when
fixing: it imports libcst."""

from typing import List, Optional, Sequence, Set, Tuple

import libcst as cst


def with_imports(module: cst.Module, imports: List[Tuple[str, str]]) -> cst.Module:
    """Add each `from module import name`: to an existing `from module import ...` of the file,
    else as a statement of its own after the file's last top-level import (after the docstring
    and `__future__` imports when there is none)."""
    body = list(module.body)
    for source, name in imports:
        existing = next((index for index, statement in enumerate(body)
                         if _single_import_from(statement, source)), None)
        if existing is not None:
            line = body[existing]
            small = line.body[0]
            names = _names_with(small, name)
            body[existing] = line.with_changes(body=[small.with_changes(names=names), *line.body[1:]])
            continue
        statement = cst.parse_statement(f"from {source} import {name}\n")
        position = _import_position(body, source.split(".")[0])
        if position == 0 and body:
            # Before the file's first statement: the new import takes the blank lines and comments
            # above it, and a blank line follows.
            statement = statement.with_changes(leading_lines=body[position].leading_lines)
            body[position] = body[position].with_changes(leading_lines=[cst.EmptyLine()])
            body.insert(position, statement)
        else:
            body.insert(position, statement)
            if position < len(body) - 1 and not _is_import(body[position + 1]) and not body[position + 1].leading_lines:
                body[position + 1] = body[position + 1].with_changes(leading_lines=[cst.EmptyLine()])
    return module.with_changes(body=body)


def _names_with(statement: cst.ImportFrom, name: str) -> List[cst.ImportAlias]:
    """The imported names with `name` added: in order when they are sorted, else last; a
    parenthesised list keeps its layout (one name per line stays so)."""
    names = list(statement.names)
    last = names[-1]
    if statement.lpar:
        separator = names[-2].comma if len(names) > 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return [*names[:-1], last.with_changes(comma=separator), cst.ImportAlias(name=cst.Name(name), comma=last.comma)]
    keys = [dotted(alias.name) for alias in names]
    position = len(names)
    if keys == sorted(keys):
        position = next((index for index, key in enumerate(keys) if key > name), len(names))
    names.insert(position, cst.ImportAlias(name=cst.Name(name)))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [alias.with_changes(comma=comma) for alias in names[:-1]] + \
        [names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]


def _import_position(body: List[cst.BaseStatement], package: str) -> int:
    """Where a new import of `package` goes: after the file's last import from that package (its
    section, as isort keeps them), else before its relative imports, else after its last
    top-level import (0: the file has none, nor a docstring)."""
    position = same_package = 0
    for index, statement in enumerate(body):
        if _is_relative_import(statement) and not same_package:
            return index
        if _is_import(statement):
            position = index + 1
            if any(_imported_module(small).split(".")[0] == package for small in small_statements(statement)):
                same_package = index + 1
        elif index == 0 and _is_docstring(statement):
            position = 1
        elif position > 1 or (position and not _is_docstring(body[0])):
            break
    return same_package or position


def _is_relative_import(statement: cst.BaseStatement) -> bool:
    smalls = small_statements(statement)
    return bool(smalls) and isinstance(smalls[0], cst.ImportFrom) and bool(smalls[0].relative)


def _imported_module(statement: cst.BaseSmallStatement) -> str:
    if isinstance(statement, cst.ImportFrom):
        return "" if statement.relative else dotted(statement.module)
    if isinstance(statement, cst.Import):
        return dotted(statement.names[0].name)
    return ""


def _single_import_from(statement: cst.BaseStatement, module: str) -> bool:
    smalls = small_statements(statement)
    return len(smalls) == 1 and isinstance(smalls[0], cst.ImportFrom) and not smalls[0].relative and \
        dotted(smalls[0].module) == module and not isinstance(smalls[0].names, cst.ImportStar)


def _is_import(statement: cst.BaseStatement) -> bool:
    smalls = small_statements(statement)
    return bool(smalls) and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in smalls)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    smalls = small_statements(statement)
    return len(smalls) == 1 and isinstance(smalls[0], cst.Expr) and \
        isinstance(smalls[0].value, (cst.SimpleString, cst.ConcatenatedString))


def small_statements(statement: cst.BaseStatement) -> Sequence[cst.BaseSmallStatement]:
    return statement.body if isinstance(statement, cst.SimpleStatementLine) else ()


def dotted(node: Optional[cst.BaseExpression]) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


def module_bindings(module: cst.Module) -> Set[str]:
    """The names the module's top-level statements bind (imports, defs, classes, assignments)."""
    names: Set[str] = set()
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        for small in small_statements(statement):
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    names.add(alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name)
                              else dotted(alias.name).split(".")[0])
            elif isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                names.update(target.value for target in targets if isinstance(target, cst.Name))
    return names
