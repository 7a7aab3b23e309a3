"""One libcst walk over a module that records its facts (see txlint.facts)."""

import re
from typing import Dict, List, Optional, Tuple

import libcst as cst

from txlint.facts import (
    UNKNOWN,
    ClassFacts,
    Context,
    Event,
    FunctionFacts,
    Loop,
    ModuleFacts,
    Param,
    Ref,
    TryBlock,
    WithItem,
)
from txlint.positions import Range, ast_ranges, node_ranges
from txlint.sql import PLACEHOLDER
from txlint.walk import Walker

_MAX_REF_DEPTH = 12


def dotted(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _string_text(node) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        raw = node.value
        if "\\" not in raw:  # no escapes: the text between the quotes is the value
            body = raw.lstrip("rRbBuUfF")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            return body[len(quote):len(body) - len(quote)]
        try:
            value = node.evaluated_value
        except Exception:  # malformed escapes: keep the raw text, it is still SQL-shaped
            return node.value
        return value if isinstance(value, str) else value.decode("latin-1")
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string_text(node.left), _string_text(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        parts = []
        for part in node.parts:
            parts.append(part.value if isinstance(part, cst.FormattedStringText) else PLACEHOLDER)
        return "".join(parts)
    return None


# Refs of the nodes of the module being extracted, by id: a call's ref contains the refs of the
# calls inside it, which are visited (and asked for) first. Cleared for every module.
_REF_CACHE: Dict[int, Ref] = {}


def to_ref(node: cst.BaseExpression, depth: int = 0) -> Ref:
    """The ref of an expression (see txlint.facts)."""
    cached = _REF_CACHE.get(id(node))
    if cached is None:
        cached = _REF_CACHE[id(node)] = _build_ref(node, depth)
    return cached


def _build_ref(node: cst.BaseExpression, depth: int) -> Ref:
    if depth > _MAX_REF_DEPTH:
        return UNKNOWN
    depth += 1
    node_type = type(node)
    if node_type is cst.Name:
        if node.value in ("True", "False", "None"):
            return ("const", node.value)
        return ("name", node.value)
    if node_type is cst.Attribute:
        return ("attr", to_ref(node.value, depth), node.attr.value)
    if node_type is cst.Call:
        return _call_ref(node, depth)
    if node_type is cst.FormattedString and any(
            type(part) is cst.FormattedStringExpression for part in node.parts):
        # Keep the interpolated expressions: their names carry data flow (an id into a path).
        return ("concat", tuple(
            ("str", part.value) if type(part) is cst.FormattedStringText else to_ref(part.expression, depth)
            for part in node.parts))
    if node_type in (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString):
        text = _string_text(node)
        if text is not None:
            return ("str", text)
        if node_type is cst.ConcatenatedString:
            return ("concat", (to_ref(node.left, depth), to_ref(node.right, depth)))
        return UNKNOWN
    if node_type is cst.BinaryOperation:
        operator = type(node.operator)
        if operator is cst.Add:
            return ("concat", (to_ref(node.left, depth), to_ref(node.right, depth)))
        if operator is cst.Modulo:
            left = to_ref(node.left, depth)
            if left[0] in ("str", "concat"):
                right = to_ref(node.right, depth)
                if right[0] == "list":
                    return _filled(left, _PERCENT_FIELD, right[1], {})
                if right[0] == "dict":
                    return _filled(left, _PERCENT_FIELD, (), {key[1]: value for key, value in right[1]
                                                               if key[0] == "str"})
                return _filled(left, _PERCENT_FIELD, (right,), {}, fallback=right)
            if left[0] == "name":
                return left
        if operator is cst.Divide:  # Path(...) / "name" is still a path, named after both sides
            return ("div", to_ref(node.left, depth), to_ref(node.right, depth))
        return UNKNOWN
    if node_type is cst.Await:
        return to_ref(node.expression, depth)
    if node_type is cst.Subscript:
        key = UNKNOWN
        if len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index:
            key = to_ref(node.slice[0].slice.value, depth)
        return ("sub", to_ref(node.value, depth), key)
    if node_type in (cst.Integer, cst.Float):
        return ("const", node.value)
    if node_type in (cst.List, cst.Tuple, cst.Set):
        return ("list", tuple(to_ref(el.value, depth) for el in node.elements[:20]))
    if node_type is cst.Dict:
        return ("dict", tuple((to_ref(element.key, depth), to_ref(element.value, depth))
                              for element in node.elements[:50] if type(element) is cst.DictElement))
    if node_type in (cst.ListComp, cst.SetComp, cst.GeneratorExp):
        return ("list", (to_ref(node.elt, depth),))  # what the comprehension builds
    if node_type is cst.Lambda:
        return ("lambda",)
    if node_type is cst.IfExp:
        return to_ref(node.body, depth)
    if node_type is cst.BooleanOperation:
        return to_ref(node.right, depth)
    return UNKNOWN


def _call_ref(node: cst.Call, depth: int) -> Ref:
    args = []
    kwargs = []
    for arg in node.args:
        if arg.keyword is not None:
            kwargs.append((arg.keyword.value, to_ref(arg.value, depth)))
        elif arg.star:
            args.append(UNKNOWN)
        else:
            args.append(to_ref(arg.value, depth))
    func = node.func
    # "...".format(...) keeps the template: its literal part is what matters.
    if type(func) is cst.Attribute and func.attr.value == "format":
        inner = to_ref(func.value, depth)
        if inner[0] in ("str", "concat"):
            return _filled(inner, _FORMAT_FIELD, tuple(args), dict(kwargs))
    return ("call", to_ref(func, depth), tuple(args), tuple(kwargs))


_PERCENT_FIELD = re.compile(r"%%|%(?:\((?P<key>[^)]*)\))?[-#0 +*]*\d*(?:\.\d+)?[sdirfgeEGxXoca]")
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{(?P<key>[^{}!:]*)(?:[!:][^{}]*)?\}")


def _filled(template: Ref, field: "re.Pattern", args: tuple, named: dict, fallback: Ref = UNKNOWN) -> Ref:
    """A `%` or `.format` template with its arguments in place, like an f-string: the literal parts
    stay text (for SQL), the arguments stay refs (for constants and data flow)."""
    parts: List[Ref] = []
    position = 0
    for piece in (template[1] if template[0] == "concat" else (template,)):
        if piece[0] != "str":
            parts.append(piece)
            continue
        text, last = piece[1], 0
        for match in field.finditer(text):
            parts.append(("str", text[last:match.start()]))
            last = match.end()
            if match.group(0) in ("%%", "{{", "}}"):
                parts.append(("str", match.group(0)[0]))
                continue
            key = (match.group("key") or "").split(".")[0].split("[")[0]
            if key.isdigit():
                parts.append(args[int(key)] if int(key) < len(args) else fallback)
            elif key:
                parts.append(named.get(key, fallback))
            else:
                parts.append(args[position] if position < len(args) else fallback)
                position += 1
        parts.append(("str", text[last:]))
    merged: List[Ref] = []
    for part in parts:
        if part[0] == "str" and merged and merged[-1][0] == "str":
            merged[-1] = ("str", merged[-1][1] + part[1])
        elif part != ("str", ""):
            merged.append(part)
    if len(merged) == 1 and merged[0][0] == "str":
        return merged[0]
    return ("concat", tuple(merged)) if merged else ("str", "")


class _Finder(Walker):
    """Does a subtree hold a node of one of the given types (not looking into nested functions)?"""

    def __init__(self, wanted):
        super().__init__()
        self.wanted = wanted
        self.found = False

    def walk(self, node) -> None:
        if self.found or isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return
        if isinstance(node, self.wanted) or isinstance(getattr(node, "operator", None), self.wanted):
            self.found = True
            return
        super().walk(node)


def _contains(node: cst.CSTNode, wanted) -> bool:
    finder = _Finder(wanted)
    finder.walk(node)
    return finder.found


def _uses_modulo(node: cst.CSTNode) -> bool:
    return _contains(node, (cst.Modulo,))


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


class _Extractor(Walker):
    def __init__(self, module_name: str, is_package: bool):
        super().__init__()
        self.module_name = module_name
        self.package = module_name if is_package else module_name.rpartition(".")[0]
        self.imports: Dict[str, str] = {}
        self.classes: Dict[str, ClassFacts] = {}
        self.functions: Dict[str, FunctionFacts] = {}
        self.class_stack: List[ClassFacts] = []
        module_unit = FunctionFacts(qualname=module_name, name="<module>", class_qualname=None, is_module=True)
        self.functions[module_name] = module_unit
        self.units: List[_Unit] = [_Unit(module_unit)]
        self.qual_stack: List[str] = [module_name]
        self.pending: List[Tuple[object, str, cst.CSTNode]] = []  # (object, attribute, node) needing a range
        self.decorator_depth = 0
        self.class_kinds: List[str] = []  # "class" or "meta" (a nested `class Meta:`)
        # Every Call, in source order, recorded or not: positions are matched against `ast` by order.
        self.call_nodes: List[cst.Call] = []
        self.loop_nodes: List[cst.CSTNode] = []
        self.function_nodes: List[cst.FunctionDef] = []

    # -- helpers -------------------------------------------------------------------------------
    @property
    def unit(self) -> _Unit:
        return self.units[-1]

    def _want_range(self, target, attribute: str, node: cst.CSTNode) -> None:
        self.pending.append((target, attribute, node))

    def _absolute(self, module: Optional[cst.BaseExpression], level: int) -> str:
        name = dotted(module) if module is not None else ""
        if not level:
            return name or ""
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)]
        return ".".join(part for part in (*base, name) if part)

    def _walk_in(self, stack: list, entry, nodes) -> None:
        stack.append(entry)
        try:
            self.walk(nodes) if isinstance(nodes, cst.CSTNode) else self.walk_all(nodes)
        finally:
            stack.pop()

    def _walk_decorators(self, decorators) -> None:
        self.decorator_depth += 1
        self.walk_all(decorators)
        self.decorator_depth -= 1

    # -- imports -------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.imports[alias.asname.name.value] = full
            else:
                first = full.split(".")[0]
                self.imports[first] = first

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        source = self._absolute(node.module, len(node.relative))
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.imports[local] = f"{source}.{name}" if source else name

    # -- classes and functions -----------------------------------------------------------------
    def _current_class(self) -> Optional[ClassFacts]:
        """The class whose body directly holds the code being walked (not a nested function's)."""
        if self.class_stack and self.qual_stack[-1] == self.class_stack[-1].qualname:
            return self.class_stack[-1]
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._walk_decorators(node.decorators)
        if self._current_class() is not None and node.name.value == "Meta":
            self.class_kinds.append("meta")
            self.walk(node.body)
            self.class_kinds.pop()
            return
        qualname = f"{self.qual_stack[-1]}.{node.name.value}"
        facts = ClassFacts(
            qualname=qualname,
            name=node.name.value,
            bases=[to_ref(arg.value) for arg in node.bases if arg.keyword is None],
            attributes={f"keyword:{arg.keyword.value}": to_ref(arg.value) for arg in node.bases if arg.keyword},
            methods={},
            self_attributes={},
            decorators=[to_ref(d.decorator) for d in node.decorators],
        )
        self.classes[qualname] = facts
        self.walk_all(node.bases)
        self.walk_all(node.keywords)
        self.class_kinds.append("class")
        self.class_stack.append(facts)
        self.qual_stack.append(qualname)
        self.walk(node.body)
        self.qual_stack.pop()
        self.class_stack.pop()
        self.class_kinds.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._walk_decorators(node.decorators)
        owner = self._current_class()
        parent = self.qual_stack[-1]
        in_function = not owner and len(self.units) > 1
        qualname = f"{parent}.<locals>.{node.name.value}" if in_function else f"{parent}.{node.name.value}"
        facts = FunctionFacts(
            qualname=qualname,
            name=node.name.value,
            class_qualname=owner.qualname if owner else None,
            decorators=[to_ref(d.decorator) for d in node.decorators],
            is_async=node.asynchronous is not None,
        )
        self._want_range(facts, "range", node.name)
        self._want_range(facts, "extent", node)
        self.function_nodes.append(node)
        if owner is not None:
            owner.methods[node.name.value] = qualname
        elif in_function:
            self.unit.facts.local_functions[node.name.value] = qualname
            self.unit.bind(node.name.value, ("function", qualname))
        self.functions[qualname] = facts
        unit = _Unit(facts)
        self._bind_parameters(node, facts, unit, owner)
        self._walk_decorators([node.params, node.returns])  # defaults and annotations: not the body's calls
        self.units.append(unit)
        self.qual_stack.append(qualname)
        self.walk(node.body)
        self.qual_stack.pop()
        self.units.pop()
        facts.modulo_ifs = tuple(unit.modulo_ifs)

    @staticmethod
    def _bind_parameters(node: cst.FunctionDef, facts: FunctionFacts, unit: _Unit, owner) -> None:
        decorator_names = {dotted(d.decorator) for d in node.decorators}
        positional = [*node.params.posonly_params, *node.params.params]
        for index, param in enumerate([*positional, *node.params.kwonly_params]):
            annotation = to_ref(param.annotation.annotation) if param.annotation else None
            default = to_ref(param.default) if param.default else None
            facts.params.append(Param(param.name.value, annotation, default))
            if index == 0 and owner is not None and positional and "staticmethod" not in decorator_names:
                kind = "cls" if "classmethod" in decorator_names else "self"
                unit.bind(param.name.value, (kind, owner.qualname))
            else:
                unit.bind(param.name.value, ("param", param.name.value, annotation, default))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.unit.lambda_depth += 1
        self.walk(node.params)
        self.walk(node.body)
        self.unit.lambda_depth -= 1

    # -- bindings ------------------------------------------------------------------------------
    def _bind_target(self, target: cst.BaseExpression, ref: Ref) -> None:
        if isinstance(target, cst.Name):
            owner = self._current_class()
            if owner is not None:
                key = f"Meta.{target.value}" if self.class_kinds[-1] == "meta" else target.value
                owner.attributes[key] = ref
                return
            self.unit.bind(target.value, ref)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, UNKNOWN)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            # `conn.autocommit = True` is kept as a binding of "conn.autocommit".
            self.unit.bind(f"{target.value.value}.{target.attr.value}", ref)
            bound = self.unit.facts.bindings.get(target.value.value, [])
            if bound and bound[0][0] == "self":
                facts = self.classes.get(bound[0][1])
                if facts is not None:
                    facts.self_attributes.setdefault(target.attr.value, []).append((ref, self.unit.facts.qualname))

    def visit_Assign(self, node: cst.Assign) -> None:
        ref = to_ref(node.value)
        for target in node.targets:
            self._bind_target(target.target, ref)
            self.walk(target.target)
        self.walk(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        value = to_ref(node.value) if node.value is not None else None
        self._bind_target(node.target, ("annotated", to_ref(node.annotation.annotation), value))
        self.walk_all([node.target, node.annotation, node.value])

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, to_ref(node.value))
        self.walk(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.unit.bind("<return>", to_ref(node.value))
            self.walk(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.unit.facts.yield_contexts.append(self.unit.context())
        if isinstance(node.value, cst.BaseExpression):
            self.unit.bind("<return>", to_ref(node.value))
        self.walk(node.value)

    # -- structure -----------------------------------------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        unit = self.unit
        opened = 0
        for item in node.items:
            self.walk(item.item)  # evaluated outside the scope it opens
            target = None
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                target = item.asname.name.value
            with_id = len(unit.facts.withs) + 1
            with_item = WithItem(to_ref(item.item), node.asynchronous is not None, target, (0, 0, 0, 0))
            unit.facts.withs[with_id] = with_item
            if target is not None:
                unit.bind(target, ("enter", with_item.ref))
            elif item.asname is not None:
                self._bind_target(item.asname.name, UNKNOWN)
            unit.scopes.append(with_id)  # each item is a scope for the items after it and the body
            opened += 1
        self.walk(node.body)
        del unit.scopes[-opened:]

    def _new_loop(self, kind: str, iterable: Ref, anchor: cst.CSTNode) -> int:
        loop_id = len(self.unit.facts.loops) + 1
        loop = Loop(kind, iterable, (0, 0, 0, 0))
        self._want_range(loop, "range", anchor)
        self.loop_nodes.append(anchor)
        self.unit.facts.loops[loop_id] = loop
        return loop_id

    def visit_For(self, node: cst.For) -> None:
        iterable = to_ref(node.iter)
        self._bind_target(node.target, ("iter", iterable))
        loop_id = self._new_loop("for", iterable, node)
        self.walk_all([node.target, node.iter])
        self._walk_in(self.unit.loops, loop_id, node.body)
        self.walk(node.orelse)

    def visit_While(self, node: cst.While) -> None:
        loop_id = self._new_loop("while", UNKNOWN, node)
        self._walk_in(self.unit.loops, loop_id, [node.test, node.body])
        self.walk(node.orelse)

    def _visit_comprehension(self, node, results) -> None:
        """Walked in source order (results, first iterable, then each `for`'s conditions and
        the later iterables), each part with the loops it runs inside."""
        clauses = []
        comp_for = node.for_in
        while comp_for is not None:
            clauses.append(comp_for)
            comp_for = comp_for.inner_for_in
        loops = self.unit.loops
        loop_ids = []
        for index, clause in enumerate(clauses):
            iterable = to_ref(clause.iter)
            self._bind_target(clause.target, ("iter", iterable))
            loop_ids.append(self._new_loop("comprehension", iterable, node if index == 0 else clause))
        loops.extend(loop_ids)
        self.walk_all(results)
        del loops[-len(loop_ids):]
        for index, clause in enumerate(clauses):
            self.walk(clause.iter)  # the first iterable runs before the loop starts
            loops.append(loop_ids[index])
            self.walk_all(clause.ifs)
        del loops[-len(loop_ids):]

    def visit_ListComp(self, node) -> None:
        self._visit_comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp
    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node) -> None:
        self._visit_comprehension(node, [node.key, node.value])

    def visit_If(self, node: cst.If) -> None:
        unit = self.unit
        if _uses_modulo(node.test):
            unit.modulo_ifs.append(id(node))
        if _terminates(node.body):
            unit.facts.terminating_arms.add((id(node), "body"))
        if isinstance(node.orelse, cst.Else) and _terminates(node.orelse.body):
            unit.facts.terminating_arms.add((id(node), "else"))
        self.walk(node.test)
        self._walk_in(unit.branches, (id(node), "body"), node.body)
        if node.orelse is not None:
            self._walk_in(unit.branches, (id(node), "else"), node.orelse)

    def visit_MatchCase(self, node) -> None:
        self._walk_in(self.unit.branches, (id(node), "case"), [node.guard, node.body])

    def visit_Try(self, node) -> None:
        unit = self.unit
        unit.facts.trys[id(node)] = TryBlock(
            handlers_reraise=tuple(_reraises(handler) for handler in node.handlers),
            has_finally=node.finalbody is not None,
        )
        self._walk_in(unit.trys, (id(node), "body"), node.body)
        for handler in node.handlers:
            if handler.name is not None and isinstance(handler.name.name, cst.Name):
                unit.bind(handler.name.name.value, UNKNOWN)
            self.walk(handler.type)
            self._walk_in(unit.trys, (id(node), "except"), handler.body)
        if node.orelse is not None:
            self._walk_in(unit.trys, (id(node), "else"), node.orelse)
        if node.finalbody is not None:
            self._walk_in(unit.trys, (id(node), "finally"), node.finalbody)

    visit_TryStar = visit_Try

    # -- events --------------------------------------------------------------------------------
    def visit_IfExp(self, node: cst.IfExp) -> None:
        self.walk_all([node.body, node.test, node.orelse])  # source order

    def visit_Call(self, node: cst.Call) -> None:
        self.call_nodes.append(node)
        self.walk_children(node)  # arguments run before the call
        if self.decorator_depth:
            return
        ref = to_ref(node)
        if ref[0] != "call":
            return  # "...".format(...): a string template, not a call that can write
        event = Event(ref, self.unit.context(), (0, 0, 0, 0), "")
        self._want_range(event, "range", node)
        self.unit.facts.events.append(event)


def _terminates(block: cst.BaseSuite) -> bool:
    """Does the block end with return, raise, continue or break (so code after the `if` is not reached)?"""
    if not isinstance(block, cst.IndentedBlock) or not block.body:
        statements = getattr(block, "body", ())
        last = statements[-1] if statements else None
    else:
        last = block.body[-1]
        if isinstance(last, cst.SimpleStatementLine):
            last = last.body[-1] if last.body else None
    return isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break))


def _reraises(handler: cst.ExceptHandler) -> bool:
    return _contains(handler.body, (cst.Raise,))


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _call_source(lines: List[str], where: Range) -> str:
    """The call's own source text, whitespace-normalised (what a baseline entry is keyed on)."""
    line, column, end_line, end_column = where
    if not 0 < line <= end_line <= len(lines):
        return ""
    if line == end_line:
        return _normalise(lines[line - 1][column - 1:end_column - 1])
    parts = [lines[line - 1][column - 1:], *lines[line:end_line - 1], lines[end_line - 1][:end_column - 1]]
    return _normalise(" ".join(parts))


def extract(module: cst.Module, text: str, source_lines: List[str], path: str, module_name: str,
            is_package: bool) -> ModuleFacts:
    extractor = _Extractor(module_name, is_package)
    _REF_CACHE.clear()
    try:
        extractor.walk_all(module.body)
    finally:
        _REF_CACHE.clear()
    extractor.functions[module_name].modulo_ifs = tuple(extractor.units[0].modulo_ifs)
    ranges = None
    if extractor.pending:
        ranges = ast_ranges(text, source_lines, extractor.call_nodes, extractor.loop_nodes, extractor.function_nodes)
    if ranges is None:
        ranges = node_ranges(module, [node for _, _, node in extractor.pending])
    for target, attribute, node in extractor.pending:
        setattr(target, attribute, ranges.get(id(node), (1, 1, 1, 1)))
    for facts in extractor.functions.values():
        for event in facts.events:
            line, _, end_line, _ = event.range
            event.statement = _call_source(source_lines, event.range)
    return ModuleFacts(
        path=path,
        module=module_name,
        imports=extractor.imports,
        classes=extractor.classes,
        functions=extractor.functions,
        source_lines=len(source_lines),
    )
