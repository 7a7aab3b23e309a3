"""What a block or an `if` test says of the code around it, read off the syntax tree: a block
that ends the function or the loop, a test of a flag, of an unsaved instance or of something
missing, a function that never returns. `txlint.extract` records these in the facts.
"""

import ast
from typing import List, Optional, Tuple

from txlint.dataflow import PRESENCE_PREFIXES, called_name
from txlint.refs import dotted, to_ref


def is_raise(node) -> bool:
    return type(node) is ast.Raise


def terminates(body: List[ast.stmt]) -> bool:
    """Does the block end with return, raise, continue or break (so code after the `if` is not reached)?"""
    return bool(body) and type(body[-1]) in (ast.Return, ast.Raise, ast.Continue, ast.Break)


def skips_the_rest(body: List[ast.stmt]) -> bool:
    """Does the block end by giving up on what follows without an error (return, continue, break)?"""
    return bool(body) and type(body[-1]) in (ast.Return, ast.Continue, ast.Break)


def leaves_function(body: List[ast.stmt]) -> bool:
    """Does the block always end in return or raise (also inside a `with`, or in both arms of an `if`)?"""
    last = body[-1] if body else None
    if type(last) in (ast.With, ast.AsyncWith):
        return leaves_function(last.body)
    if type(last) is ast.If:
        return leaves_function(last.body) and leaves_function(last.orelse)
    return type(last) in (ast.Return, ast.Raise)


def tests_unsaved(test: ast.expr) -> str:
    """The variable a test finds not saved yet: `order` in `if not order.pk:`, `if order.id is
    None:` and `if order._state.adding:` (Django's own flag for an instance not in the database)."""
    if type(test) is ast.UnaryOp and type(test.op) is ast.Not:
        return _key_of(test.operand)
    if type(test) is ast.Compare and len(test.ops) == 1 and type(test.ops[0]) is ast.Is and \
            type(test.comparators[0]) is ast.Constant and test.comparators[0].value is None:
        return _key_of(test.left)
    if type(test) is ast.Attribute and test.attr == "adding" and type(test.value) is ast.Attribute and \
            test.value.attr == "_state" and type(test.value.value) is ast.Name:
        return test.value.value.id
    return ""


def _key_of(node: ast.expr) -> str:
    """`order` in `order.pk` / `order.id`."""
    if type(node) is ast.Attribute and node.attr in ("pk", "id") and type(node.value) is ast.Name:
        return node.value.id
    return ""


def tests_absence(test: ast.expr) -> bool:
    """`if not page.has_translation(language):`, `if not event.schedules.filter(...).exists():`: a
    check that something is missing, whose body makes it."""
    if type(test) is not ast.UnaryOp or type(test.op) is not ast.Not or type(test.operand) is not ast.Call:
        return False
    return called_name(to_ref(test.operand.func)).lstrip("_").startswith(PRESENCE_PREFIXES)


def flag_tested(test: ast.expr) -> Optional[Tuple[str, bool]]:
    """`if commit:` -> ("commit", False); `if not dry_run:` -> ("dry_run", True); `if self.is_atomic:`
    -> ("self.is_atomic", False), a class attribute."""
    negated = type(test) is ast.UnaryOp and type(test.op) is ast.Not
    tested = test.operand if negated else test
    if type(tested) is ast.Name:
        return tested.id, negated
    if type(tested) is ast.Attribute and type(tested.value) is ast.Name and tested.value.id == "self":
        return f"self.{tested.attr}", negated
    return None


def never_returns(node) -> bool:
    """`-> NoReturn` / `-> Never`, or a body that ends in `raise` with no `return` or `yield` in it
    (nested functions aside): a call of it does not come back."""
    if node.returns is not None and (dotted(node.returns) or "").rsplit(".", 1)[-1] in ("NoReturn", "Never"):
        return True
    if not node.body or type(node.body[-1]) is not ast.Raise:
        return False
    pending = list(node.body)
    while pending:
        child = pending.pop()
        if isinstance(child, (ast.Return, ast.Yield, ast.YieldFrom)):
            return False
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(child))
    return True
