"""One libcst walk over a module that records its facts (see txlint.facts)."""

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
from txlint.positions import node_ranges
from txlint.sql import PLACEHOLDER

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


def to_ref(node: cst.BaseExpression, depth: int = 0) -> Ref:
    """The ref of an expression (see txlint.facts)."""
    if depth > _MAX_REF_DEPTH:
        return UNKNOWN
    depth += 1
    if isinstance(node, cst.Name):
        if node.value in ("True", "False", "None"):
            return ("const", node.value)
        return ("name", node.value)
    if isinstance(node, cst.Attribute):
        return ("attr", to_ref(node.value, depth), node.attr.value)
    if isinstance(node, cst.Call):
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
        # "...".format(...) and "..." % (...) keep the template: its literal part is what matters.
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            inner = to_ref(func.value, depth)
            if inner[0] in ("str", "concat"):
                return inner
        return ("call", to_ref(func, depth), tuple(args), tuple(kwargs))
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        text = _string_text(node)
        if text is not None:
            return ("str", text)
        if isinstance(node, cst.ConcatenatedString):
            return ("concat", (to_ref(node.left, depth), to_ref(node.right, depth)))
        return UNKNOWN
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Add):
            return ("concat", (to_ref(node.left, depth), to_ref(node.right, depth)))
        if isinstance(node.operator, cst.Modulo):
            left = to_ref(node.left, depth)
            if left[0] in ("str", "concat", "name"):
                return left
        return UNKNOWN
    if isinstance(node, cst.Await):
        return to_ref(node.expression, depth)
    if isinstance(node, cst.Subscript):
        key = UNKNOWN
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = to_ref(node.slice[0].slice.value, depth)
        return ("sub", to_ref(node.value, depth), key)
    if isinstance(node, (cst.Integer, cst.Float)):
        return ("const", node.value)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return ("list", tuple(to_ref(el.value, depth) for el in node.elements[:20]))
    if isinstance(node, cst.Dict):
        items = []
        for element in node.elements[:50]:
            if isinstance(element, cst.DictElement):
                items.append((to_ref(element.key, depth), to_ref(element.value, depth)))
        return ("dict", tuple(items))
    if isinstance(node, cst.Lambda):
        return ("lambda",)
    if isinstance(node, cst.IfExp):
        return to_ref(node.body, depth)
    if isinstance(node, cst.BooleanOperation):
        return to_ref(node.right, depth)
    return UNKNOWN


def _uses_modulo(node: cst.CSTNode) -> bool:
    class Finder(cst.CSTVisitor):
        found = False

        def visit_Modulo(self, _node) -> None:
            self.found = True

    finder = Finder()
    node.visit(finder)
    return finder.found


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


class _Extractor(cst.CSTVisitor):
    def __init__(self, module_name: str, is_package: bool):
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
        self.ranged: Dict[int, cst.CSTNode] = {}
        self.pending: List[Tuple[object, str, cst.CSTNode]] = []  # (object, attribute, node) needing a range
        self.decorator_depth = 0
        self.class_kinds: List[str] = []  # "class" or "meta" (a nested `class Meta:`)

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
    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        if self._current_class() is not None and node.name.value == "Meta":
            self.class_kinds.append("meta")
            return True
        self.class_kinds.append("class")
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
        self._want_range(facts, "range", node.name)
        self.classes[qualname] = facts
        self.class_stack.append(facts)
        self.qual_stack.append(qualname)
        return True

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if self.class_kinds.pop() == "meta":
            return
        self.class_stack.pop()
        self.qual_stack.pop()

    def _current_class(self) -> Optional[ClassFacts]:
        """The class whose body directly holds the code being walked (not a nested function's)."""
        if self.class_stack and self.qual_stack[-1] == self.class_stack[-1].qualname:
            return self.class_stack[-1]
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
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
        if owner is not None:
            owner.methods[node.name.value] = qualname
        elif in_function:
            self.unit.facts.local_functions[node.name.value] = qualname
            self.unit.bind(node.name.value, ("function", qualname))
        self.functions[qualname] = facts
        unit = _Unit(facts)
        decorator_names = {dotted(d.decorator) for d in node.decorators}
        params = [*node.params.posonly_params, *node.params.params]
        for index, param in enumerate(params):
            annotation = to_ref(param.annotation.annotation) if param.annotation else None
            default = to_ref(param.default) if param.default else None
            facts.params.append(Param(param.name.value, annotation, default))
            if index == 0 and owner is not None and "staticmethod" not in decorator_names:
                kind = "cls" if "classmethod" in decorator_names else "self"
                unit.bind(param.name.value, (kind, owner.qualname))
            else:
                unit.bind(param.name.value, ("param", param.name.value, annotation, default))
        for param in (*node.params.kwonly_params,):
            annotation = to_ref(param.annotation.annotation) if param.annotation else None
            default = to_ref(param.default) if param.default else None
            facts.params.append(Param(param.name.value, annotation, default))
            unit.bind(param.name.value, ("param", param.name.value, annotation, default))
        self.units.append(unit)
        self.qual_stack.append(qualname)
        return True

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        unit = self.units.pop()
        unit.facts.modulo_ifs = tuple(unit.modulo_ifs)
        self.qual_stack.pop()

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self.decorator_depth += 1

    def leave_Decorator(self, node: cst.Decorator) -> None:
        self.decorator_depth -= 1

    def visit_Parameters(self, node: cst.Parameters) -> Optional[bool]:
        return False  # defaults and annotations run at definition time, not in the function

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.unit.lambda_depth += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.unit.lambda_depth -= 1

    # -- bindings ------------------------------------------------------------------------------
    def _bind_target(self, target: cst.BaseExpression, ref: Ref) -> None:
        if isinstance(target, cst.Name):
            owner = self._current_class()
            if owner is not None:
                if self.class_kinds[-1] == "meta":
                    owner.attributes[f"Meta.{target.value}"] = ref
                else:
                    owner.attributes[target.value] = ref
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

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        value = to_ref(node.value) if node.value is not None else None
        self._bind_target(node.target, ("annotated", to_ref(node.annotation.annotation), value))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, to_ref(node.value))

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.unit.bind("<return>", to_ref(node.value))

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self.unit.bind("<return>", to_ref(node.value))

    # -- structure -----------------------------------------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            target = None
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                target = item.asname.name.value
            # Each item is a scope for the items after it and for the body.
            with_id = len(self.unit.facts.withs) + 1
            with_item = WithItem(to_ref(item.item), node.asynchronous is not None, target, (0, 0, 0, 0))
            self._want_range(with_item, "range", item.item)
            self.unit.facts.withs[with_id] = with_item
            if target is not None:
                self.unit.bind(target, ("enter", with_item.ref))
            elif item.asname is not None:
                self._bind_target(item.asname.name, UNKNOWN)

    def visit_With_body(self, node: cst.With) -> None:
        count = len(node.items)
        first = len(self.unit.facts.withs) - count + 1
        self.unit.scopes.extend(range(first, first + count))

    def leave_With_body(self, node: cst.With) -> None:
        del self.unit.scopes[-len(node.items):]

    def _enter_loop(self, kind: str, iterable: Ref, node: cst.CSTNode) -> None:
        loop_id = len(self.unit.facts.loops) + 1
        loop = Loop(kind, iterable, (0, 0, 0, 0))
        self._want_range(loop, "range", node)
        self.unit.facts.loops[loop_id] = loop
        self.unit.loops.append(loop_id)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, ("iter", to_ref(node.iter)))

    def visit_For_body(self, node: cst.For) -> None:
        self._enter_loop("for", to_ref(node.iter), node.target)

    def leave_For_body(self, node: cst.For) -> None:
        self.unit.loops.pop()

    def visit_While_body(self, node: cst.While) -> None:
        self._enter_loop("while", UNKNOWN, node.test)

    def leave_While_body(self, node: cst.While) -> None:
        self.unit.loops.pop()

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, ("iter", to_ref(node.iter)))
        self._enter_loop("comprehension", to_ref(node.iter), node.target)

    def leave_CompFor(self, node: cst.CompFor) -> None:
        self.unit.loops.pop()

    def visit_If(self, node: cst.If) -> None:
        if _uses_modulo(node.test):
            self.unit.modulo_ifs.append(id(node))
        if _terminates(node.body):
            self.unit.facts.terminating_arms.add((id(node), "body"))
        if isinstance(node.orelse, cst.Else) and _terminates(node.orelse.body):
            self.unit.facts.terminating_arms.add((id(node), "else"))

    def visit_If_body(self, node: cst.If) -> None:
        self.unit.branches.append((id(node), "body"))

    def leave_If_body(self, node: cst.If) -> None:
        self.unit.branches.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self.unit.branches.append((id(node), "else"))

    def leave_If_orelse(self, node: cst.If) -> None:
        self.unit.branches.pop()

    def visit_MatchCase(self, node) -> None:
        self.unit.branches.append((id(node), "case"))

    def leave_MatchCase(self, node) -> None:
        self.unit.branches.pop()

    def visit_Try(self, node: cst.Try) -> None:
        self.unit.facts.trys[id(node)] = TryBlock(
            handlers_reraise=tuple(_reraises(handler) for handler in node.handlers),
            has_finally=node.finalbody is not None,
        )

    def visit_Try_body(self, node: cst.Try) -> None:
        self.unit.trys.append((id(node), "body"))

    def leave_Try_body(self, node: cst.Try) -> None:
        self.unit.trys.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.unit.trys.append((self._enclosing_try_id(node), "except"))
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.unit.bind(node.name.name.value, UNKNOWN)

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.unit.trys.pop()

    def visit_Try_orelse(self, node: cst.Try) -> None:
        self.unit.trys.append((id(node), "else"))

    def leave_Try_orelse(self, node: cst.Try) -> None:
        self.unit.trys.pop()

    def visit_Try_finalbody(self, node: cst.Try) -> None:
        self.unit.trys.append((id(node), "finally"))

    def leave_Try_finalbody(self, node: cst.Try) -> None:
        self.unit.trys.pop()

    def _enclosing_try_id(self, handler: cst.ExceptHandler) -> int:
        return self._handler_owner.get(id(handler), 0)

    # Handlers are visited as children of their Try; remember which Try owns each.
    _handler_owner: Dict[int, int]

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Try):
            for handler in node.handlers:
                self._handler_owner[id(handler)] = id(node)
        return super().on_visit(node)

    # -- events --------------------------------------------------------------------------------
    def leave_Call(self, node: cst.Call) -> None:
        if self.decorator_depth:
            return
        event = Event(to_ref(node), self.unit.context(), (0, 0, 0, 0), "")
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
    class RaiseFinder(cst.CSTVisitor):
        found = False

        def visit_Raise(self, _node) -> None:
            self.found = True

        def visit_FunctionDef(self, _node) -> bool:
            return False

    finder = RaiseFinder()
    handler.body.visit(finder)
    return finder.found


def _normalise(text: str) -> str:
    return " ".join(text.split())


def extract(module: cst.Module, source_lines: List[str], path: str, module_name: str, is_package: bool) -> ModuleFacts:
    extractor = _Extractor(module_name, is_package)
    extractor._handler_owner = {}
    module.visit(extractor)
    extractor.functions[module_name].modulo_ifs = tuple(extractor.units[0].modulo_ifs)
    ranges = node_ranges(module, [node for _, _, node in extractor.pending])
    for target, attribute, node in extractor.pending:
        setattr(target, attribute, ranges.get(id(node), (1, 1, 1, 1)))
    for facts in extractor.functions.values():
        for event in facts.events:
            line, _, end_line, _ = event.range
            event.statement = _normalise(" ".join(source_lines[line - 1:end_line]))
    return ModuleFacts(
        path=path,
        module=module_name,
        imports=extractor.imports,
        classes=extractor.classes,
        functions=extractor.functions,
        source_lines=len(source_lines),
    )
