"""The editing helpers every rule's fix is made of, on libcst's concrete syntax tree (which keeps
every comment, blank line and quote): add an import once, under whatever name it already has
(how an import is added: txlint.fixes.imports); add a decorator; wrap statements in a `with`
block; replace, remove or add statements.

A rule's fix asks for edits in terms of the original tree (statements found by line); nothing is
changed until `FunctionEdit.result()`, which makes every edit in one pass. This module is
imported only when fixing: it imports libcst.
"""

from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from txlint.findings import FixPlan
from txlint.fixes.imports import dotted, module_bindings, small_statements, with_imports

Block = Union[cst.Module, cst.IndentedBlock]


class ParsedModule:
    """One text parsed once, with the positions of its nodes, shared by the fixes of its findings."""

    def __init__(self, text: str):
        self.text = text
        self.wrapper = MetadataWrapper(cst.parse_module(text))
        self.module = self.wrapper.module
        self.positions = self.wrapper.resolve(PositionProvider)

    def lines_of(self, node: cst.CSTNode) -> Tuple[int, int]:
        position = self.positions[node]
        return position.start.line, position.end.line

    def function_at(self, name_line: int, name: str) -> Optional[cst.FunctionDef]:
        """The `def` whose name is on `name_line`."""
        for node, position in self.positions.items():
            if isinstance(node, cst.FunctionDef) and node.name.value == name and \
                    self.positions[node.name].start.line == name_line:
                return node
        return None


class FunctionEdit:
    """The edits a fix makes to its finding's function (or to the module, for module-level code).

    `plan` is the finding's FixPlan; `text` the file's text; `function` the reported `def`
    (None for module-level code). Methods that cannot do what they are asked return None or
    False, and the fix then offers nothing.
    """

    def __init__(self, parsed: ParsedModule, plan: FixPlan, function_name: str):
        self.parsed = parsed
        self.plan = plan
        self.text = parsed.text
        self.replaced_text: Optional[str] = None  # a fix that edits the text itself (a comment) sets it
        self.function: Optional[cst.FunctionDef] = None
        if plan.function_line:
            self.function = parsed.function_at(plan.function_line, function_name)
        self._replacements: Dict[int, List[cst.BaseStatement]] = {}  # id(original statement) -> statements
        self._after: Dict[int, List[cst.BaseStatement]] = {}  # id(original statement) -> statements after it
        self._wraps: Dict[int, List[Tuple[int, int, cst.BaseCompoundStatement]]] = {}  # id(block) -> spans
        self._decorators: List[cst.Decorator] = []
        self._imports: List[Tuple[str, str]] = []  # (module, name) to add

    @property
    def found(self) -> bool:
        return self.function is not None or not self.plan.function_line

    @property
    def body(self) -> Block:
        return self.function.body if self.function is not None else self.parsed.module

    # -- finding statements ---------------------------------------------------------------------
    def statement_at(self, line: int) -> Optional[cst.BaseStatement]:
        """The innermost statement of the function that starts on `line`."""
        found = None
        for block in _blocks(self.body):
            for statement in block.body:
                if self.parsed.lines_of(statement)[0] == line:
                    found = statement
        return found

    def lone_call(self, statement: Optional[cst.BaseStatement]) -> Optional[cst.Call]:
        """The call a statement is made of alone (`session.commit()`, `await session.commit()`)."""
        smalls = small_statements(statement) if statement is not None else ()
        if len(smalls) != 1 or not isinstance(smalls[0], cst.Expr):
            return None
        value = smalls[0].value
        value = value.expression if isinstance(value, cst.Await) else value
        return value if isinstance(value, cst.Call) else None

    def deferred_call(self, call: cst.Call, callee: str, partial: str) -> cst.SimpleStatementLine:
        """`callee(partial(f, a, b))` for the call `f(a, b)`: `f`, `a` and `b` are evaluated now, as
        the call did, and it runs when `callee` says (after a commit)."""
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        arguments = [cst.Arg(call.func, comma=comma if call.args else cst.MaybeSentinel.DEFAULT), *call.args]
        deferred = cst.Call(func=cst.parse_expression(partial), args=arguments)
        return self.call_statement(callee, deferred)

    def call_statement(self, callee: str, *arguments: cst.BaseExpression) -> cst.SimpleStatementLine:
        """`callee(a, b)` as a statement."""
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args = [cst.Arg(value, comma=comma if index < len(arguments) - 1 else cst.MaybeSentinel.DEFAULT)
                for index, value in enumerate(arguments)]
        return cst.SimpleStatementLine([cst.Expr(cst.Call(func=cst.parse_expression(callee), args=args))])

    def staged_write(self, statement: cst.BaseStatement) -> Optional[Tuple[cst.BaseExpression, cst.BaseExpression]]:
        """(path, data) of a statement that only writes a whole file: `with open(path, "w") as f:
        f.write(data)` ("wb", "wt"; encoding UTF-8 if named), `path.write_text(data)` or
        `path.write_bytes(data)`; None for anything else."""
        call = self.lone_call(statement)
        if call is not None:
            if self.method_name(call) in ("write_text", "write_bytes") and _plain_arguments(call, 1):
                return cst.ensure_type(call.func, cst.Attribute).value, call.args[0].value
            return None
        if not isinstance(statement, cst.With) or statement.asynchronous or len(statement.items) != 1:
            return None
        item = statement.items[0]
        opened = item.item
        if not isinstance(opened, cst.Call) or dotted(opened.func) != "open" or item.asname is None or \
                not isinstance(item.asname.name, cst.Name):
            return None
        positional = [arg for arg in opened.args if arg.keyword is None and not arg.star]
        mode = positional[1].value if len(positional) > 1 else next(
            (arg.value for arg in opened.args if arg.keyword is not None and arg.keyword.value == "mode"), None)
        if not positional or not _plain_arguments(opened, len(positional)) or len(positional) > 2 or \
                not isinstance(mode, cst.SimpleString) or mode.evaluated_value not in ("w", "wb", "wt"):
            return None
        body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
        write = self.lone_call(body[0]) if len(body) == 1 else None
        if write is None or not isinstance(write.func, cst.Attribute) or write.func.attr.value != "write" or \
                dotted(write.func.value) != item.asname.name.value or not _plain_arguments(write, 1):
            return None
        return positional[0].value, write.args[0].value

    def method_name(self, call: cst.Call) -> Optional[str]:
        """`commit` for `session.commit()`; None for a call of a plain name."""
        return call.func.attr.value if isinstance(call.func, cst.Attribute) else None

    def renamed_call(self, statement: cst.SimpleStatementLine, method: str) -> cst.SimpleStatementLine:
        """The statement with its lone call's method renamed (`session.commit()` -> `session.flush()`)."""
        expression = cst.ensure_type(statement.body[0], cst.Expr)
        call = expression.value.expression if isinstance(expression.value, cst.Await) else expression.value
        call = cst.ensure_type(call, cst.Call)
        renamed = call.with_changes(func=cst.ensure_type(call.func, cst.Attribute).with_changes(attr=cst.Name(method)))
        awaited = isinstance(expression.value, cst.Await)
        value = expression.value.with_changes(expression=renamed) if awaited else renamed
        return statement.with_changes(body=[expression.with_changes(value=value)])

    def root_name(self, call: cst.Call) -> Optional[str]:
        """`session` for `session.commit()` or `self.session.commit()`'s `self`."""
        node = call.func
        while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
            node = node.value if not isinstance(node, cst.Call) else node.func
        return node.value if isinstance(node, cst.Name) else None

    def bound_in(self, node: cst.CSTNode) -> Set[str]:
        """The names bound anywhere inside `node`."""
        return bound_names(node)

    def block_of(self, statement: cst.BaseStatement) -> Optional[Block]:
        return next((block for block in _blocks(self.body) if any(s is statement for s in block.body)), None)

    def is_async(self) -> bool:
        return self.function is not None and self.function.asynchronous is not None

    # -- imports ----------------------------------------------------------------------------------
    def import_name(self, module: str, name: str) -> Optional[str]:
        """The name `from module import name` is known by in the file (`transaction`, or `tx` after
        `from django.db import transaction as tx`), added once if the file lacks it; None when
        that name already means something else there."""
        existing = self.existing_import(module, name)
        if existing is not None:
            return existing
        if (module, name) not in self._imports:
            if name in module_bindings(self.parsed.module) or name in self._local_bindings():
                return None
            self._imports.append((module, name))
        return name

    def existing_import(self, module: str, name: str) -> Optional[str]:
        """The local name of a top-level `from module import name [as local]`, if the file has one."""
        for statement in self.parsed.module.body:
            for small in small_statements(statement):
                if module and isinstance(small, cst.ImportFrom) and dotted(small.module) == module and \
                        not small.relative and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        if dotted(alias.name) == name:
                            return alias.asname.name.value if alias.asname else name
        return None

    def _local_bindings(self) -> Set[str]:
        return bound_names(self.function) if self.function is not None else set()

    # -- edits ------------------------------------------------------------------------------------
    def decorate(self, decorator: str) -> bool:
        """Add `@decorator` closest to the `def` (inside staticmethod, classmethod, a route...)."""
        if self.function is None:
            return False
        expression = cst.parse_expression(decorator)
        code = self.parsed.module.code_for_node
        if any(code(existing.decorator) == decorator for existing in self.function.decorators):
            return False  # decorated so already: the finding has another cause, and fixing again would repeat it
        self._decorators.append(cst.Decorator(decorator=expression))
        return True

    def wrap(self, first_line: int, last_line: int, header: str, asynchronous: bool = False, uses: str = "") -> bool:
        """Put the statements from the one holding `first_line` to the one holding `last_line`, in
        the innermost block holding both, inside `with header:`; `uses`: a name the header reads,
        which those statements must not bind (the connection opened between the writes)."""
        block, start, end = self._span(first_line, last_line)
        if block is None or self._wrapped_in(block, start, end, header):
            return False
        if uses and any(uses in bound_names(statement) for statement in block.body[start:end + 1]):
            return False
        template = cst.ensure_type(cst.parse_statement(f"{'async ' if asynchronous else ''}with {header}:\n    pass\n"),
                                   cst.With)
        self._wraps.setdefault(id(block), []).append((start, end, template))
        return True

    def _wrapped_in(self, block: Block, start: int, end: int, header: str) -> bool:
        """Are the statements already all of a `with header:` block? (Then the finding has another
        cause, and wrapping again would nest the same block once per run.)"""
        if start != 0 or end != len(block.body) - 1:
            return False
        for statement in _blocks_and_owners(self.body):
            owner, inner = statement
            if inner is block and isinstance(owner, cst.With):
                items = ", ".join(self.parsed.module.code_for_node(item.item) for item in owner.items)
                return items == header
        return False

    def replace(self, statement: cst.BaseStatement, replacements: Sequence[cst.BaseStatement]) -> None:
        """Replace a statement with others (none: remove it; a block left empty gets `pass`). The
        statement's leading comments and blank lines stay, on the first replacement."""
        new = list(replacements)
        if new:
            new[0] = new[0].with_changes(leading_lines=statement.leading_lines)
            if isinstance(statement, cst.SimpleStatementLine) and isinstance(new[0], cst.SimpleStatementLine):
                new[0] = new[0].with_changes(trailing_whitespace=statement.trailing_whitespace)  # its comment
        self._replacements[id(statement)] = new

    def insert_after(self, statement: cst.BaseStatement, new: cst.BaseStatement) -> None:
        self._after.setdefault(id(statement), []).append(new)

    def open_transaction(self, plan: Optional[FixPlan] = None) -> bool:
        """Carry out a transaction plan (txlint.rule.RuleContext.transaction_plan): decorate the
        function, or wrap the plan's lines, with the library's transaction, imported once."""
        plan = plan or self.plan
        block, decorator = plan.detail("block"), plan.detail("decorator")
        name = self.existing_import(plan.detail("also_module"), plan.detail("also_name"))
        if name is not None:  # `from django.db.transaction import atomic`: `@atomic`
            block, decorator = plan.detail("also_block"), plan.detail("also_decorator")
        elif not plan.detail("module"):  # a database handle's method (`db.atomic()`): the rule found the name
            name = plan.detail("name")
            if not plan.detail("handle") and name in self._local_bindings():
                name = None  # the module's database, shadowed here
        else:
            name = self.import_name(plan.detail("module"), plan.detail("name"))
        if name is None:
            return False
        if plan.action == "decorate":
            return self.decorate(decorator.format(name))
        return self.wrap(plan.lines[0], plan.lines[-1], block.format(name), asynchronous=bool(plan.detail("async")),
                         uses=plan.detail("handle").split(".")[0])

    def _span(self, first_line: int, last_line: int) -> Tuple[Optional[Block], int, int]:
        block: Block = self.body
        while True:
            start = next((i for i, s in enumerate(block.body) if _holds(self.parsed.lines_of(s), first_line)), None)
            end = next((i for i, s in enumerate(block.body) if _holds(self.parsed.lines_of(s), last_line)), None)
            if start is None or end is None:
                return None, 0, 0
            statement = block.body[start]
            if start != end or isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                return block, start, end
            inner = [sub for sub in _sub_blocks(statement) if _block_holds(self.parsed, sub, first_line)
                     and _block_holds(self.parsed, sub, last_line)]
            if not inner:
                return block, start, end
            block = inner[0]

    # -- the result -------------------------------------------------------------------------------
    def result(self) -> Optional[str]:
        """The whole file's text with the edits made (None: nothing changed)."""
        if self.replaced_text is not None:
            return self.replaced_text if self.replaced_text != self.text else None
        module = self.parsed.module.visit(_Editor(self))
        module = with_imports(module, self._imports)
        code = module.code
        return code if code != self.text else None


class _Editor(cst.CSTTransformer):
    def __init__(self, edit: FunctionEdit):
        super().__init__()
        self.edit = edit

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if original is self.edit.function and self.edit._decorators:
            return updated.with_changes(decorators=[*updated.decorators, *self.edit._decorators])
        return updated

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        body = self._edited_body(original, updated)
        return updated.with_changes(body=body or [cst.SimpleStatementLine([cst.Pass()])])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._edited_body(original, updated))

    def _edited_body(self, original: Block, updated: Block) -> List[cst.BaseStatement]:
        edit = self.edit
        groups = [[*edit._replacements.get(id(old), [new]), *edit._after.get(id(old), [])]
                  for old, new in zip(original.body, updated.body)]
        for start, end, template in sorted(edit._wraps.get(id(original), []), reverse=True):
            inner = [statement for group in groups[start:end + 1] for statement in group]
            if not inner:
                continue
            leading = inner[0].leading_lines
            inner[0] = inner[0].with_changes(leading_lines=())
            wrapped = template.with_changes(body=template.body.with_changes(body=inner), leading_lines=leading)
            groups[start:end + 1] = [[wrapped]]
        return [statement for group in groups for statement in group]


def bound_names(node: cst.CSTNode) -> Set[str]:
    """Every plain name bound anywhere inside `node` (parameters, assignments, loop and `with`
    targets, imports)."""
    collector = _Bindings()
    node.visit(collector)
    return collector.names


class _Bindings(cst.CSTVisitor):
    def __init__(self):
        super().__init__()
        self.names: Set[str] = set()

    def visit_Param(self, node: cst.Param) -> None:
        self.names.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._targets(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target)

    def _targets(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value)


def _blocks(root: Block) -> List[Block]:
    """`root` and every block inside it, not entering nested functions or classes."""
    found: List[Block] = [root]
    for statement in root.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            continue
        for sub in _sub_blocks(statement):
            found.extend(_blocks(sub))
    return found


def _blocks_and_owners(root: Block) -> List[Tuple[cst.CSTNode, Block]]:
    """(compound statement, the block inside it) for every block below `root` (not entering
    nested functions or classes)."""
    found: List[Tuple[cst.CSTNode, Block]] = []
    for statement in root.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            continue
        for sub in _sub_blocks(statement):
            found.append((statement, sub))
            found.extend(_blocks_and_owners(sub))
    return found


def _sub_blocks(node: cst.CSTNode) -> List[cst.IndentedBlock]:
    """The indented blocks directly inside a compound statement (its body, else, except, finally...)."""
    found: List[cst.IndentedBlock] = []
    for child in node.children:
        if isinstance(child, cst.IndentedBlock):
            found.append(child)
        elif not isinstance(child, (cst.BaseStatement, cst.BaseExpression)):
            found.extend(_sub_blocks(child))
        elif isinstance(child, (cst.If, cst.Else, cst.ExceptHandler, cst.Finally)):
            found.extend(_sub_blocks(child))
    return found


def _plain_arguments(call: cst.Call, positional: int) -> bool:
    """`positional` plain positional arguments, and no keyword but `mode=` and a UTF-8 `encoding=`."""
    plain = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if len(plain) != positional or any(arg.star for arg in call.args):
        return False
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "mode":
            continue
        if arg.keyword.value != "encoding" or not isinstance(arg.value, cst.SimpleString) or \
                str(arg.value.evaluated_value).lower().replace("_", "-") not in ("utf-8", "utf8"):
            return False
    return True


def _holds(lines: Tuple[int, int], *wanted: int) -> bool:
    return all(lines[0] <= line <= lines[1] for line in wanted)


def _block_holds(parsed: ParsedModule, block: cst.IndentedBlock, line: int) -> bool:
    return any(_holds(parsed.lines_of(statement), line) for statement in block.body)
