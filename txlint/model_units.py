"""The model's small value types: a function with its module (`Unit`), what a run keeps of a
module to resolve names against it without its facts (`ModuleIndex`), and the error raised when a
module's facts are gone (`FactsUnavailable`). Uses only txlint.facts."""

from typing import FrozenSet, NamedTuple, Tuple

from txlint.facts import FunctionFacts, ModuleFacts, related_names_of, signal_registrations


class Unit:
    """A function (or a module's top-level code) with its facts and module."""

    __slots__ = ("facts", "module", "qualname")

    def __init__(self, facts: FunctionFacts, module: ModuleFacts):
        self.facts = facts
        self.module = module
        self.qualname = facts.qualname  # (a copy, not a property: the model's memo keys read it most)


class ModuleIndex(NamedTuple):
    """What a run keeps of a module to resolve names against it without its facts: an incremental
    run loads a module's facts only when one of these names is asked for."""

    functions: Tuple[str, ...]  # qualnames, in the module's order
    classes: Tuple[str, ...]
    import_roots: FrozenSet[str]  # the top-level packages it imports from
    related_names: Tuple[Tuple[str, str], ...] = ()  # (related_name, class qualname) of its relation fields
    # (signal name, qualname of the function that may connect a receiver to it): see signal_registrations
    receivers: Tuple[Tuple[str, str], ...] = ()


def index_of(module: ModuleFacts) -> ModuleIndex:
    return ModuleIndex(tuple(module.functions), tuple(module.classes),
                       frozenset(qualified.split(".", 1)[0] for qualified in (*module.imports.values(),
                                                                              *module.star_imports)),
                       tuple((name, cls.qualname) for cls in module.classes.values()
                             for name in related_names_of(cls)),
                       tuple(dict.fromkeys((key, holder) for key, holder, _ in signal_registrations(module))))


class FactsUnavailable(RuntimeError):
    """A module's facts could not be loaded (its cache entry is gone): the run starts over in full."""
