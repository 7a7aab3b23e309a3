"""One walk over a module's syntax tree (`ast`) that records its facts (see txlint.facts)."""

import ast
from typing import Dict, Iterator, List, Optional, Tuple

from txlint.facts import (
    UNKNOWN,
    ClassFacts,
    Context,
    Event,
    FunctionFacts,
    Loop,
    ModuleFacts,
    Param,
    Range,
    Ref,
    TryBlock,
    WithItem,
)
from txlint.dataflow import SETS_ATTRIBUTE
from txlint.branch_tests import (flag_tested, is_raise, leaves_function, never_returns, skips_the_rest, terminates,
                                 tests_absence, tests_unsaved)
from txlint.refs import clear_cache, dotted, to_ref
from txlint.walk import Walker, children

_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _contains(nodes, test) -> bool:
    """Does a subtree hold a node the test accepts (not looking into nested functions or classes)?
    Searched with a stack of its own: the subtree may be deeper than Python's recursion limit."""
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if not isinstance(node, ast.AST) or type(node) in _NESTED_SCOPES:
            continue
        if test(node):
            return True
        pending.extend(children(node))
    return False


def _uses_modulo(node: ast.expr) -> bool:
    return _contains([node], lambda n: type(n) in (ast.BinOp, ast.AugAssign) and type(n.op) is ast.Mod)


class _Unit:
    """Extraction state of one function (or the module body) being walked."""

    def __init__(self, facts: FunctionFacts):
        self.facts = facts
        self.scopes: List[int] = []
        self.loops: List[int] = []
        self.branches: List[Tuple[int, str]] = []
        self.trys: List[Tuple[int, str]] = []
        self.lambda_depth = 0
        self.modulo_ifs: List[int] = []
        self._contexts: Dict[tuple, Context] = {}

    def context(self) -> Context:
        key = (tuple(self.scopes), tuple(self.loops), tuple(self.branches), tuple(self.trys), self.lambda_depth > 0)
        context = self._contexts.get(key)
        if context is None:
            context = self._contexts[key] = Context(*key)
        return context

    def bind(self, name: str, ref: Ref) -> None:
        self.facts.bindings.setdefault(name, []).append(ref)


class _Columns:
    """`ast` counts columns in UTF-8 bytes; findings count characters, from 1."""

    def __init__(self, lines: List[str]):
        self.lines = lines

    def char(self, line: int, byte_offset: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def range(self, node: ast.AST) -> Range:
        return (node.lineno, self.char(node.lineno, node.col_offset),
                node.end_lineno, self.char(node.end_lineno, node.end_col_offset))


class _Extractor(Walker):
    def __init__(self, module_name: str, is_package: bool, lines: List[str]):
        self.module_name = module_name
        self.package = module_name if is_package else module_name.rpartition(".")[0]
        self.columns = _Columns(lines)
        self.imports: Dict[str, str] = {}
        self.star_imports: List[str] = []  # the modules of `from x import *`, in order
        self.classes: Dict[str, ClassFacts] = {}
        self.functions: Dict[str, FunctionFacts] = {}
        self.class_stack: List[ClassFacts] = []
        module_unit = FunctionFacts(qualname=module_name, name="<module>", class_qualname=None, is_module=True)
        self.functions[module_name] = module_unit
        self.units: List[_Unit] = [_Unit(module_unit)]
        self.qual_stack: List[str] = [module_name]
        self.decorator_depth = 0
        self.blocks = 0
        self.class_kinds: List[str] = []  # "class" or "meta" (a nested `class Meta:`)

    # -- helpers -------------------------------------------------------------------------------
    @property
    def unit(self) -> _Unit:
        return self.units[-1]

    def _absolute(self, module: Optional[str], level: int) -> str:
        name = module or ""
        if not level:
            return name
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)]
        return ".".join(part for part in (*base, name) if part)

    @staticmethod
    def _walk_in(stack: list, entry, nodes) -> Iterator:
        """The nodes, walked with `entry` on `stack` (a handler yields from this)."""
        stack.append(entry)
        yield list(nodes)
        stack.pop()

    def _walk_decorators(self, decorators) -> Iterator:
        self.decorator_depth += 1
        yield list(decorators)
        self.decorator_depth -= 1

    # -- imports -------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                self.imports[alias.asname] = alias.name
            else:
                first = alias.name.split(".")[0]
                self.imports[first] = first

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = self._absolute(node.module, node.level or 0)
        for alias in node.names:
            if alias.name == "*":
                if source:
                    self.star_imports.append(source)
                return
            local = alias.asname if alias.asname is not None else alias.name
            self.imports[local] = f"{source}.{alias.name}" if source else alias.name

    # -- classes and functions -----------------------------------------------------------------
    def _current_class(self) -> Optional[ClassFacts]:
        """The class whose body directly holds the code being walked (not a nested function's)."""
        if self.class_stack and self.qual_stack[-1] == self.class_stack[-1].qualname:
            return self.class_stack[-1]
        return None

    def visit_ClassDef(self, node: ast.ClassDef) -> Iterator:
        yield from self._walk_decorators(node.decorator_list)
        if self._current_class() is not None and node.name == "Meta":
            self.class_kinds.append("meta")
            yield node.body
            self.class_kinds.pop()
            return
        qualname = f"{self.qual_stack[-1]}.{node.name}"
        facts = ClassFacts(
            qualname=qualname,
            name=node.name,
            bases=[to_ref(base) for base in node.bases],
            attributes={f"keyword:{keyword.arg}": to_ref(keyword.value) for keyword in node.keywords
                        if keyword.arg is not None},
            methods={},
            self_attributes={},
            decorators=[to_ref(decorator) for decorator in node.decorator_list],
        )
        self.classes[qualname] = facts
        if self._current_class() is None and len(self.units) > 1:
            self.unit.bind(node.name, ("cls", qualname))  # a class defined inside a function
        yield node.bases
        yield node.keywords
        self.class_kinds.append("class")
        self.class_stack.append(facts)
        self.qual_stack.append(qualname)
        yield node.body
        self.qual_stack.pop()
        self.class_stack.pop()
        self.class_kinds.pop()

    def visit_FunctionDef(self, node) -> Iterator:
        yield from self._walk_decorators(node.decorator_list)
        owner = self._current_class()
        parent = self.qual_stack[-1]
        in_function = not owner and len(self.units) > 1
        qualname = f"{parent}.<locals>.{node.name}" if in_function else f"{parent}.{node.name}"
        where = self.columns.range(node)
        first_line = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
        facts = FunctionFacts(
            qualname=qualname,
            name=node.name,
            class_qualname=owner.qualname if owner else None,
            decorators=[to_ref(decorator) for decorator in node.decorator_list],
            is_async=type(node) is ast.AsyncFunctionDef,
            range=where,
            extent=(first_line, 1, where[2], where[3]),
            returns=to_ref(node.returns) if node.returns is not None else None,
        )
        if owner is not None:
            owner.methods[node.name] = qualname
        elif in_function:
            self.unit.facts.local_functions[node.name] = qualname
            self.unit.bind(node.name, ("function", qualname))
        self.functions[qualname] = facts
        unit = _Unit(facts)
        self._bind_parameters(node, facts, unit, owner)
        # Defaults and annotations run when the function is defined: not the body's calls.
        yield from self._walk_decorators([node.args, node.returns])
        self.units.append(unit)
        self.qual_stack.append(qualname)
        yield node.body
        self.qual_stack.pop()
        self.units.pop()
        facts.modulo_ifs = tuple(unit.modulo_ifs)
        facts.never_returns = never_returns(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    @staticmethod
    def _bind_parameters(node, facts: FunctionFacts, unit: _Unit, owner) -> None:
        decorator_names = {dotted(decorator) for decorator in node.decorator_list}
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(arguments.defaults))
        defaults += arguments.defaults
        defaults += arguments.kw_defaults
        for index, (param, default) in enumerate(zip([*positional, *arguments.kwonlyargs], defaults)):
            annotation = to_ref(param.annotation) if param.annotation is not None else None
            default_ref = to_ref(default) if default is not None else None
            facts.params.append(Param(param.arg, annotation, default_ref))
            if index == 0 and owner is not None and positional and "staticmethod" not in decorator_names:
                kind = "cls" if "classmethod" in decorator_names else "self"
                unit.bind(param.arg, (kind, owner.qualname))
            else:
                unit.bind(param.arg, ("param", param.arg, annotation, default_ref))

    def visit_Lambda(self, node: ast.Lambda) -> Iterator:
        self.unit.lambda_depth += 1
        yield node.args
        yield node.body
        self.unit.lambda_depth -= 1

    # -- bindings ------------------------------------------------------------------------------
    def _bind_target(self, target: ast.expr, ref: Ref) -> None:
        target_type = type(target)
        if target_type is ast.Name:
            owner = self._current_class()
            if owner is not None:
                key = f"Meta.{target.id}" if self.class_kinds[-1] == "meta" else target.id
                owner.attributes[key] = ref
                return
            self.unit.bind(target.id, ref)
        elif target_type in (ast.Tuple, ast.List):
            elements = target.elts
            starred = any(type(element) is ast.Starred for element in elements)
            displayed = ref[0] == "list" and len(ref[1]) == len(elements) and not starred
            for index, element in enumerate(elements):
                if type(element) is ast.Starred:
                    self._bind_target(element.value, UNKNOWN)
                elif displayed:  # `a, b = x, y`
                    self._bind_target(element, ref[1][index])
                else:  # `obj, created = get_or_create(...)`; after a starred element the index is unknown
                    self._bind_target(element, ("unpack", ref, index) if not starred else ("unpack", ref, -1))
        elif target_type is ast.Subscript and type(target.value) is ast.Name and self._current_class() is None:
            # `kwargs["certificate"] = cert`: what is stored flows into the container (no value of its
            # own), and is kept as a binding of "kwargs[]", what the container holds.
            self.unit.bind(target.value.id, ("expr", (ref,)))
            self.unit.bind(f"{target.value.id}[]", ref)
        elif target_type is ast.Attribute and type(target.value) is ast.Name:
            self._bind_attribute(target.value.id, target.attr, ref)
        elif target_type is ast.Subscript:
            # `self.conns[key] = engine.connect()` is kept as the attribute "conns[]": what it holds.
            container = target.value
            if type(container) is ast.Attribute and type(container.value) is ast.Name:
                self._bind_attribute(container.value.id, f"{container.attr}[]", ref)

    def _bind_attribute(self, name: str, attribute: str, ref: Ref) -> None:
        # `conn.autocommit = True` is kept as a binding of "conn.autocommit"; on `self`, as an
        # attribute of the class too.
        self.unit.bind(f"{name}.{attribute}", ref)
        bound = self.unit.facts.bindings.get(name, [])
        if bound and bound[0][0] == "self":
            facts = self.classes.get(bound[0][1])
            if facts is not None:
                facts.self_attributes.setdefault(attribute, []).append((ref, self.unit.facts.qualname))

    def visit_Assign(self, node: ast.Assign) -> Iterator:
        ref = to_ref(node.value)
        for target in node.targets:
            self._bind_target(target, ref)
            yield target
        yield node.value
        for target in node.targets:
            self._attribute_set(target, ref)

    def visit_AugAssign(self, node: ast.AugAssign) -> Iterator:
        if type(node.target) is ast.Subscript:  # `kwargs["roles"] += roles`
            self._bind_target(node.target, to_ref(node.value))
        yield from [node.target, node.value]
        self._attribute_set(node.target, to_ref(node.value))

    def _attribute_set(self, target: ast.expr, value: Ref) -> None:
        """`cert.resolved = True` is recorded as the call it is, `cert.__setattr__("resolved", True)`,
        after the value: on an object an ORM tracks (a loaded SQLAlchemy instance) it is a write,
        which framework knowledge tells (see txlint.dataflow.SETS_ATTRIBUTE). Module code and
        `self` in `__init__` change no loaded object."""
        if type(target) is not ast.Attribute or self.decorator_depth or len(self.units) == 1:
            return
        if self.unit.facts.name == "__init__" and type(target.value) is ast.Name and target.value.id == "self":
            return  # the object being made: not yet a row of its own
        ref = ("call", ("attr", to_ref(target.value), SETS_ATTRIBUTE), (("str", target.attr), value), ())
        self.unit.facts.events.append(Event(ref, self.unit.context(), self.columns.range(target)))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Iterator:
        value = to_ref(node.value) if node.value is not None else None
        self._bind_target(node.target, ("annotated", to_ref(node.annotation), value))
        yield [node.target, node.annotation, node.value]

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Iterator:
        self._bind_target(node.target, to_ref(node.value))
        yield node.value

    def visit_Return(self, node: ast.Return) -> Iterator:
        if node.value is not None:
            self.unit.bind("<return>", to_ref(node.value))
            yield node.value

    def visit_Yield(self, node: ast.Yield) -> Iterator:
        self.unit.facts.yield_contexts.append(self.unit.context())
        if node.value is not None:
            self.unit.bind("<return>", to_ref(node.value))
        yield node.value

    def visit_YieldFrom(self, node: ast.YieldFrom) -> Iterator:
        self.unit.facts.yield_contexts.append(self.unit.context())
        self.unit.bind("<yields_from>", to_ref(node.value))
        yield node.value

    # -- structure -----------------------------------------------------------------------------
    def visit_With(self, node) -> Iterator:
        unit = self.unit
        opened = 0
        for item in node.items:
            yield item.context_expr  # evaluated outside the scope it opens
            target = item.optional_vars.id if type(item.optional_vars) is ast.Name else None
            with_id = len(unit.facts.withs) + 1
            with_item = WithItem(to_ref(item.context_expr), type(node) is ast.AsyncWith, target, (0, 0, 0, 0))
            unit.facts.withs[with_id] = with_item
            if target is not None:
                unit.bind(target, ("enter", with_item.ref))
            elif item.optional_vars is not None:
                self._bind_target(item.optional_vars, UNKNOWN)
            unit.scopes.append(with_id)  # each item is a scope for the items after it and the body
            opened += 1
        yield node.body
        del unit.scopes[-opened:]

    visit_AsyncWith = visit_With

    def _new_loop(self, kind: str, iterable: Ref, anchor: ast.AST) -> int:
        loop_id = len(self.unit.facts.loops) + 1
        self.unit.facts.loops[loop_id] = Loop(kind, iterable, self.columns.range(anchor))
        return loop_id

    def visit_For(self, node) -> Iterator:
        iterable = to_ref(node.iter)
        self._bind_target(node.target, ("iter", iterable))
        loop_id = self._new_loop("for", iterable, node)
        yield [node.target, node.iter]
        yield from self._walk_in(self.unit.loops, loop_id, node.body)
        yield node.orelse

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> Iterator:
        loop_id = self._new_loop("while", UNKNOWN, node)
        yield from self._walk_in(self.unit.loops, loop_id, [node.test, *node.body])
        yield node.orelse

    def _visit_comprehension(self, node, results) -> Iterator:
        """Walked in source order (results, first iterable, then each `for`'s conditions and
        the later iterables), each part with the loops it runs inside."""
        loops = self.unit.loops
        loop_ids = []
        for clause in node.generators:
            iterable = to_ref(clause.iter)
            self._bind_target(clause.target, ("iter", iterable))
            loop_ids.append(self._new_loop("comprehension", iterable, node))
        loops.extend(loop_ids)
        yield results
        del loops[-len(loop_ids):]
        for index, clause in enumerate(node.generators):
            yield clause.iter  # the first iterable runs before the loop starts
            loops.append(loop_ids[index])
            yield clause.ifs
        del loops[-len(loop_ids):]

    def visit_ListComp(self, node) -> Iterator:
        return self._visit_comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp
    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node) -> Iterator:
        return self._visit_comprehension(node, [node.key, node.value])

    def _block_id(self) -> int:
        """A number for an `if`, `case` or `try`, the same whenever the file is read again."""
        self.blocks += 1
        return self.blocks

    def visit_If(self, node: ast.If) -> Iterator:
        unit = self.unit
        block = self._block_id()
        if _uses_modulo(node.test):
            unit.modulo_ifs.append(block)
        if tests_absence(node.test):
            unit.facts.absence_ifs += (block,)
        unsaved = tests_unsaved(node.test)
        if unsaved:
            unit.facts.new_row_ifs[block] = unsaved
        flag = flag_tested(node.test)
        if flag is not None:
            unit.facts.flag_ifs[block] = flag
            if not node.orelse and leaves_function(node.body):
                unit.facts.flag_exits[block] = (node.body[-1].end_lineno, tuple(unit.branches), tuple(unit.trys))
        if terminates(node.body):
            unit.facts.terminating_arms.add((block, "body"))
        if terminates(node.orelse):
            unit.facts.terminating_arms.add((block, "else"))
        yield node.test
        yield from self._walk_in(unit.branches, (block, "body"), node.body)
        if node.orelse:
            yield from self._walk_in(unit.branches, (block, "else"), node.orelse)

    def visit_match_case(self, node) -> Iterator:
        yield from self._walk_in(self.unit.branches, (self._block_id(), "case"), [node.guard, *node.body])

    def visit_Try(self, node) -> Iterator:
        unit = self.unit
        block = self._block_id()
        unit.facts.trys[block] = TryBlock(
            handlers_reraise=tuple(_contains(handler.body, is_raise) for handler in node.handlers),
            has_finally=bool(node.finalbody),
            loops=tuple(unit.loops),
            handlers_skip=tuple(skips_the_rest(handler.body) and not _contains(handler.body, is_raise)
                                for handler in node.handlers),
        )
        yield from self._walk_in(unit.trys, (block, "body"), node.body)
        for handler in node.handlers:
            if handler.name is not None:
                unit.bind(handler.name, UNKNOWN)
            yield handler.type
            yield from self._walk_in(unit.trys, (block, "except"), handler.body)
        if node.orelse:
            yield from self._walk_in(unit.trys, (block, "else"), node.orelse)
        if node.finalbody:
            yield from self._walk_in(unit.trys, (block, "finally"), node.finalbody)

    visit_TryStar = visit_Try

    # -- events --------------------------------------------------------------------------------
    def visit_IfExp(self, node: ast.IfExp) -> Iterator:
        yield [node.body, node.test, node.orelse]  # source order

    def visit_Dict(self, node: ast.Dict) -> Iterator:
        # Each key before its value, as Python runs them (a key is None for `**mapping`).
        yield [part for pair in zip(node.keys, node.values) for part in pair]

    def visit_Call(self, node: ast.Call) -> Iterator:
        yield children(node)  # arguments run before the call
        if self.decorator_depth:
            return
        ref = to_ref(node)
        if ref[0] != "call":
            return  # "...".format(...): a string template, not a call that can write
        self.unit.facts.events.append(Event(ref, self.unit.context(), self.columns.range(node)))


def extract(module: ast.Module, text: str, source_lines: List[str], path: str, module_name: str,
            is_package: bool) -> ModuleFacts:
    extractor = _Extractor(module_name, is_package, source_lines)
    clear_cache()
    try:
        extractor.walk_all(module.body)
    finally:
        clear_cache()
    extractor.functions[module_name].modulo_ifs = tuple(extractor.units[0].modulo_ifs)
    return ModuleFacts(
        path=path,
        module=module_name,
        imports=extractor.imports,
        star_imports=tuple(extractor.star_imports),
        classes=extractor.classes,
        functions=extractor.functions,
        source_lines=len(source_lines),
    )
