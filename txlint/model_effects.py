"""Effects: a function's effects in order (writes, reads, commits, file writes, ...), with its
helpers' effects (and those of the receivers of a signal it sends) placed at their call sites
down to _MAX_CALL_DEPTH calls, raw SQL split into its statements, and writes between a raw
`BEGIN` and its `COMMIT` counted as inside a transaction.

May use calls (txlint.model_calls), the transaction context (txlint.model_context), the read
tracking (`_work_out`, `_fits`) and the project's table of functions.
"""

from dataclasses import dataclass, replace
from typing import Dict, List, Set, Tuple

from txlint import flags
from txlint import sql as sqlkit
from txlint.dataflow import SETS_ATTRIBUTE, followed, is_lookup_call, names_in
from txlint.facts import UNKNOWN, Event, Ref
from txlint.lookup_guards import found_guards, guards_through
from txlint.model_units import Unit
from txlint.values import AUTOCOMMIT, EffectSpec, Outcome, target_name

_MAX_CALL_DEPTH = 5


@dataclass(frozen=True)
class Effect:
    """One thing a function does, in order, at a call site of the function itself.

    For effects of helper functions, `site` is the call of the helper in this function and
    `via` names the helper (the effect happened inside it).
    """

    kind: str  # write | read | commit | rollback | file_write | file_delete | staged_file | after_commit
    spec: EffectSpec
    site: Event
    in_scope: bool  # a transaction scope encloses it (in this function or inside the helper)
    via: str = ""
    receiver: str = ""
    # The variable of the function whose object the write saves (`model` in `session.add(model)`;
    # `chart` in `create(chart)`, a helper that adds its parameter): each call site of a helper
    # names the table from what it passes.
    saves: str = ""
    helpers: Tuple[str, ...] = ()  # the helpers it happened inside, outermost first (`via` is the last)
    # Made only when a lookup found nothing (`role = get_by_name(n)`, then `if not role: role =
    # create(n)`), here or in a helper: a get-or-create, complete on its own, that a retry finds.
    found_or_made: bool = False
    # For a helper's write: the variables of this function that flow into it as arguments (what it
    # passes for the parameters the write is built from).
    uses: Tuple[str, ...] = ()
    # For a helper method's write built from its `self`: the variable of this function it was
    # called on (`order` in `order.add_first_line()`).
    called_on: str = ""
    # For a helper's effect: where it sits inside the helpers, outermost first: per helper, the
    # call (or the effect's own call) there, and the branch arms and `try` parts around it, so that
    # two effects of one helper call on exclusive arms (`if not user: create(...)` / `else:
    # update(...)`) are told apart (see `exclusive_inside`), and so is its error handling.
    within: Tuple[tuple, ...] = ()
    # Made by a receiver of the signal the call sends (`order_placed.send(sender=order)`), not by a
    # function the call names.
    by_receiver: bool = False
    # The lookups it waits on, made only when they find the row it is given and skipped, the code
    # carrying on, when they find nothing (see txlint.lookup_guards).
    found_guards: Tuple[tuple, ...] = ()

    @property
    def line(self) -> int:
        return self.site.range[0]


class EffectLists:
    """Part of `Project` (txlint.project). Owns `_effects` ((qualname, depth) -> effects),
    `_complete_effects` (qualname -> deepest depth worked out without a cut), `_effects_cut` (a
    helper was left out of the effects being worked out: too deep) and `_cut_effects` (the kept
    effects with a helper left out)."""

    def _init_effects(self) -> None:
        self._effects: Dict[Tuple[str, int], List[Effect]] = {}  # (qualname, depth) -> effects
        self._complete_effects: Dict[str, int] = {}  # qualname -> deepest depth worked out without a cut
        self._effects_cut = False  # a helper was left out of the effects being worked out: too deep
        self._cut_effects: set = set()  # the (qualname, depth) effects kept with a helper left out

    def effects(self, unit: Unit, depth: int = 0) -> List[Effect]:
        """The function's effects in order, with its helpers' effects placed at their call sites,
        down to _MAX_CALL_DEPTH calls below the function asked about (`depth`: how far below it
        this one is).

        What a helper contributes depends on how deep it sits, so effects are kept by function and
        depth; the effects of a function whose helpers were all followed to the end hold at any
        shallower depth too. (Kept by function alone, a helper first met deep in a call chain would
        keep its cut-short effects for every caller: findings would depend on which function was
        checked first.) The depth bound also ends recursion."""
        key = (unit.qualname, depth)
        cached = self._effects.get(key)
        if cached is None:
            deepest = self._complete_effects.get(unit.qualname, -1)
            if deepest >= depth:
                key = (unit.qualname, deepest)
                cached = self._effects[key]
        if cached is not None and self._fits(self._heights[("effects", key)]):
            self._memo_hit("effects", key)
            if key in self._cut_effects:
                self._effects_cut = True  # what is worked out from it leaves a helper out too
            return cached
        key = (unit.qualname, depth)
        cut, self._effects_cut = self._effects_cut, False
        try:
            result, kept, height = self._work_out("effects", key, lambda: self._effects_in_order(unit, depth))
        finally:
            complete = not self._effects_cut
            self._effects_cut = self._effects_cut or cut
        complete = complete and kept
        if kept:
            self._effects[key] = result
            self._heights[("effects", key)] = height
            if not complete:
                self._cut_effects.add(key)
        if complete and depth > self._complete_effects.get(unit.qualname, -1):
            self._complete_effects[unit.qualname] = depth
        return result

    def _effects_in_order(self, unit: Unit, depth: int) -> List[Effect]:
        self.note(unit.qualname)
        result: List[Effect] = []
        for event in unit.facts.events:
            if event.context.deferred:
                continue
            outcome = self.call(event.ref, unit)
            inside = None
            found_or_made = bool(outcome.effect or outcome.callee) and \
                (_made_when_not_found(event, unit) or _first_made_when_missing(event, unit, result))
            guards = found_guards(event, unit) if outcome.effect or outcome.callee else ()
            if outcome.effect is not None:
                inside = self.in_scope(unit, event)
                for effect in self._direct_effects(outcome.effect, event, inside, unit):
                    result.append(replace(effect, found_or_made=found_or_made or effect.found_or_made,
                                          found_guards=guards))
            callees = (outcome.callee,) if outcome.callee else ()
            if outcome.receivers:
                callees += outcome.receivers  # a signal sent: each receiver runs here, in turn
            if callees and depth >= _MAX_CALL_DEPTH:
                self._effects_cut = True
                continue
            for qualname in callees:
                callee = self.units.get(qualname)
                if callee is None or callee is unit:
                    continue
                inside = self.in_scope(unit, event) if inside is None else inside
                effects = self._helper_effects(unit, event, callee, outcome, inside, (found_or_made, guards), depth)
                if qualname != outcome.callee:
                    effects = [replace(effect, by_receiver=True) for effect in effects]
                result.extend(effects)
        return self._inside_explicit_begin(result)

    def _helper_effects(self, unit: Unit, event: Event, callee: Unit, outcome: Outcome, inside: bool,
                        waits: Tuple[bool, tuple], depth: int) -> List[Effect]:
        """The effects of a project function the event calls (or a receiver of the signal it
        sends), placed at the call; `waits` says whether the call is made only when a lookup found
        nothing (`found_or_made`) and the lookups it waits on (`found_guards`)."""
        found_or_made, guards = waits
        result: List[Effect] = []
        wrapped = self.decorated_transactional(callee)
        instance = None
        for effect in self.effects(callee, depth + 1):
            if not flags.reached(callee.facts, effect.site.context, event.ref):
                continue  # switched off by the flag this call passes (`save(commit=False)`)
            if outcome.effect is not None and _the_overrides_own(effect):
                continue
            spec, saves = effect.spec, ""
            uses = _passed_into(effect, callee, event) if effect.kind == "write" else ()
            # (not when the call is itself a write of its receiver: a `save()` override)
            called_on = _called_on(effect, callee, event) \
                if effect.kind == "write" and outcome.effect is None else ""
            if effect.kind == "write" and effect.receiver == "self" and not effect.via:
                instance = instance or self._instance_called_on(event, unit)
                if instance is not None:
                    # `ra.validated_save()` inherited from a base: the row saved is ra's.
                    spec = _written_to(spec, instance)
            elif effect.kind == "write" and _is_parameter(effect.saves, callee):
                passed = flags.argument_for(callee.facts, event.ref, effect.saves)
                saved = self.evaluate(passed, unit) if passed is not None else None
                if saved is not None and saved.kind == "instance":
                    spec = _written_to(spec, saved)  # `database.create(authority)`: the row is authority's
                saves = passed[1] if passed is not None and passed[0] == "name" else ""
            result.append(Effect(effect.kind, spec, event, inside or wrapped or effect.in_scope,
                                 via=effect.via or callee.qualname, receiver=effect.receiver,
                                 saves=saves, helpers=(callee.qualname, *effect.helpers),
                                 found_or_made=found_or_made or effect.found_or_made, uses=uses,
                                 called_on=called_on,
                                 found_guards=guards + guards_through(event, effect.found_guards),
                                 within=((effect.site.range, effect.site.context.branches,
                                          effect.site.context.trys), *effect.within)))
        return result

    def _instance_called_on(self, event: Event, unit: Unit):
        """The model instance a method is called on (`ra` in `ra.validated_save()`), if known."""
        func = event.ref[1]
        if func[0] != "attr":
            return None
        value = self.evaluate(func[1], unit)
        return value if value is not None and value.kind == "instance" else None

    def _direct_effects(self, spec: EffectSpec, event: Event, inside: bool, unit: Unit) -> List[Effect]:
        receiver = _receiver_text(event.ref)
        if spec.kind == "write":
            saved = event.ref[2][0] if event.ref[2] and spec.saves_argument else \
                dict(event.ref[3]).get(spec.new_row_keyword) if spec.new_row_keyword else None
            if spec.sets_attribute:
                saved = _object_changed(event.ref)
            return [Effect(spec.kind, spec, event, inside, receiver=receiver,
                           saves=saved[1] if saved is not None and saved[0] == "name" else "")]
        if spec.kind != "sql":
            return [Effect(spec.kind, spec, event, inside, receiver=receiver)]
        if not spec.sql:
            return []
        effects = []
        for statement in sqlkit.classify_sql(spec.sql):
            if statement.kind in ("write", "ddl", "bulk"):
                tables = statement.tables or ("?",)
                write = EffectSpec("write", spec.library, tables[0], "raw", spec.regime, spec.atomic_alone,
                                   spec.sql, spec.bulk, aliases=tables[1:])
                effects.append(Effect("write", write, event, inside, receiver=receiver))
            elif statement.commits:
                effects.append(Effect("commit", EffectSpec("commit", spec.library, regime=spec.regime, sql=spec.sql),
                                      event, inside, receiver=receiver))
            elif statement.kind == "txctl" and statement.keyword in ("BEGIN", "START", "ROLLBACK", "ABORT"):
                kind = "begin" if statement.keyword in ("BEGIN", "START") else "rollback"
                effects.append(Effect(kind, EffectSpec(kind, spec.library, regime=spec.regime, sql=spec.sql),
                                      event, inside, receiver=receiver))
        return effects

    @staticmethod
    def _inside_explicit_begin(effects: List[Effect]) -> List[Effect]:
        """Autocommit writes between a raw `BEGIN` and its `COMMIT`/`ROLLBACK` are in that transaction."""
        if not any(effect.kind == "begin" and not effect.via for effect in effects):
            return effects
        result, open_transaction = [], False
        for effect in effects:
            if not effect.via and effect.kind == "begin":
                open_transaction = True
            elif not effect.via and effect.kind in ("commit", "rollback"):
                open_transaction = False
            elif open_transaction and effect.kind == "write" and effect.spec.regime == AUTOCOMMIT:
                effect = replace(effect, in_scope=True)
            result.append(effect)
        return result


def exclusive_inside(first: Effect, second: Effect) -> bool:
    """Are two effects of one helper call made on exclusive arms of an `if` inside it (or inside
    a helper it calls at one place)?"""
    if first.site is not second.site:
        return False
    for (first_call, first_arms, _), (second_call, second_arms, _) in zip(first.within, second.within):
        arms = dict(first_arms)
        if any(block in arms and arms[block] != arm for block, arm in second_arms):
            return True
        if first_call != second_call:
            return False  # calls of two places in the helper: what is below them are two calls
    return False


def handles_an_error_inside(effect: Effect) -> bool:
    """Is a helper's effect made in an `except` or `finally` block inside the helper (or a helper
    it calls): error handling there, not its main path?"""
    return any(part in ("except", "finally") for _, _, trys in effect.within for _, part in trys)


def _passed_into(effect: Effect, callee: Unit, event: Event) -> Tuple[str, ...]:
    """The variables of the caller that flow into a write of the helper it calls at `event`: what
    it passes for the parameters the write is built from (`post.save(user, topic=self)`, where
    `save` sets `self.topic = topic` and adds `self`)."""
    facts = callee.facts
    names: Set[str] = set(effect.uses)
    if not effect.via:
        names_in(effect.site.ref, names)
    # Attributes set on an object before it is written: `self.topic = topic`, then `session.add(self)`.
    names.update(key for key in facts.bindings if "." in key and key.split(".", 1)[0] in names)
    flowing = followed(names, facts, steps=3)
    passed: Set[str] = set()
    for param in facts.params:
        if param.name not in flowing or not _is_parameter(param.name, callee):
            continue
        argument = flags.argument_for(callee.facts, event.ref, param.name)
        if argument is not None:
            names_in(argument, passed)
    if event.ref[1][0] == "attr" and event.ref[1][1] == ("name", "self") and facts.params and \
            facts.params[0].name == "self":
        # A method of the same object (`self.set_privacy()`): the attributes of `self` its write is
        # built from (`PageViewRestriction.objects.create(page=self.page)`) are the caller's too.
        paths: Set[str] = {path for path in effect.uses if path.startswith("self.")}
        if not effect.via:
            names_in(effect.site.ref, paths, paths=True)
        passed.update(path for path in followed(paths, facts, paths=True, steps=3) if _is_self_attribute(path))
    return tuple(sorted(passed))


def _is_self_attribute(path: str) -> bool:
    root, _, attribute = path.partition(".")
    return root == "self" and attribute.isidentifier()


def _called_on(effect: Effect, callee: Unit, event: Event) -> str:
    """For a method's write of other rows built from `self` (`OrderLine.objects.create(order=self)`,
    not a write of `self` itself), the object the caller calls it on (`order.add_first_line()`:
    `order`; `self.object.post_create(user)`: `self.object`)."""
    receiver = event.ref[1][1] if event.ref[1][0] == "attr" else None
    if receiver is None or not _built_from_self(effect, callee):
        return ""
    if receiver[0] == "name":
        return receiver[1]
    if receiver[0] == "attr" and receiver[1] == ("name", "self"):
        return f"self.{receiver[2]}"
    return ""  # (`order.customer.add_note()`: not a row of `order`'s own)


def _built_from_self(effect: Effect, callee: Unit) -> bool:
    """Is the method's write built from its `self` given as data (an argument), not a write of it?"""
    facts = callee.facts
    if not facts.class_qualname or not facts.params or facts.params[0].name != "self":
        return False
    names: Set[str] = {name for name in effect.uses if "." not in name}
    if effect.called_on:
        names.add(effect.called_on.split(".", 1)[0])  # a method of its own (`self.add_user(...)`) built from self
    if not effect.via:
        for argument in (*effect.site.ref[2], *(value for _, value in effect.site.ref[3])):
            names_in(argument, names)
    return "self" in followed(names, facts, steps=3)


def _made_when_not_found(event: Event, unit: Unit) -> bool:
    """Is the call's result bound to a name a lookup bound first, in a branch or in the `except`
    handler of a failed lookup (`role = get_by_name(n)`, then `if not role: role = create(n)`;
    `try: profile = profiles.get(event=e)`, then `except DoesNotExist: profile = Profile(...)` and
    `profile.save()` there)?"""
    if not event.context.branches and not any(part == "except" for _, part in event.context.trys):
        return False
    func = event.ref[1]
    saved = func[1][1] if func[0] == "attr" and func[2] in ("save", "asave") and func[1][0] == "name" else ""
    for name, refs in unit.facts.bindings.items():
        if len(refs) < 2:
            continue
        if event.ref in refs:
            earlier = refs[:refs.index(event.ref)]
        elif name == saved:
            earlier = refs
        else:
            continue
        if any(ref is not event.ref and is_lookup_call(ref) for ref in earlier):
            return True
    return False


def _object_changed(call: Ref) -> Ref:
    """The object an attribute assignment changes: `cert` in `cert.__setattr__("resolved", True)`
    (`cert.resolved = True`) and in `setattr(cert, key, value)`."""
    func = call[1]
    if func[0] == "attr" and func[2] == SETS_ATTRIBUTE:
        return func[1]
    return call[2][0] if call[2] else UNKNOWN


def _first_made_when_missing(event: Event, unit: Unit, earlier: List[Effect]) -> bool:
    """Is the call the first write under a check that something is missing (`if not
    page.has_translation(language): create_translation(page, ...)`)? It makes what the check
    missed, so the next run finds it, or makes it when a failure left it out. Not the writes after
    it there, which the check does not look for (a category made, then its scores: a failure
    between leaves a category that the next run finds and skips)."""
    checks = [arm for arm in event.context.branches if arm[1] == "body" and arm[0] in unit.facts.absence_ifs]
    if not checks:
        return False
    innermost = checks[-1]
    return not any(effect.kind == "write" and innermost in effect.site.context.branches for effect in earlier)


def _written_to(spec: EffectSpec, instance) -> EffectSpec:
    table = target_name(instance)
    return replace(spec, table=table, aliases=(instance.table,) if instance.table not in ("", table) else ())


def _is_parameter(name: str, unit: Unit) -> bool:
    """Is `name` a parameter of the function (perhaps replaced when not given: `item = item or Model()`)?"""
    bound = unit.facts.bindings.get(name, ()) if name else ()
    return bool(bound) and bound[0][0] == "param"


def _the_overrides_own(effect: Effect) -> bool:
    """An effect of a model's `save()`/`delete()` override (called with the library's write itself)
    that belongs to the instance's own write: its `super().save()`, already the call's effect, and
    its files, ordered against that write inside the override (which is checked on its own)."""
    if effect.kind in ("file_write", "file_delete", "staged_file"):
        return True
    return effect.kind == "write" and effect.receiver in ("self", "super()") and not effect.via


def _receiver_text(ref: Ref) -> str:
    func = ref[1]
    if func[0] != "attr":
        return ""
    return _ref_text(func[1])


def _ref_text(ref: Ref) -> str:
    if ref[0] == "name":
        return ref[1]
    if ref[0] == "attr":
        return f"{_ref_text(ref[1])}.{ref[2]}"
    if ref[0] == "call":
        return f"{_ref_text(ref[1])}()"
    return "?"
