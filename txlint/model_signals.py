"""Signals: the project functions connected to a signal, wherever they are in the project
(`@receiver(sig)` / `@receiver([a, b])` on a function, `sig.connect(handler)` in any function),
so that a `send()` of it runs them.

The model signals Django sends itself (`post_save` in `Model.save()`) are not followed into the
save: measured on the ecosystem's applications, the receivers connected for one model mostly
invalidate caches or recompute derived data (not half of a unit of work), and following them
changed no finding there while it made every save of the model in a fixture project pair with
the receiver's writes. A receiver's own writes are still checked in the receiver.

The project index lists, by the signal's name alone, the functions that may connect a receiver
(txlint.facts.signal_registrations); each is checked here by resolving its decorator or call.

May use evaluation (txlint.model_values), the read tracking (`_memo`, `note`), the framework
registry and the project's tables of functions and modules.
"""

from typing import Dict, List, Optional, Tuple

from txlint.facts import Ref
from txlint.model_units import Unit
from txlint.values import Value

# A receiver and the sender it is connected for (the qualname of a class or model; "": any).
Receiver = Tuple[str, str]


class SignalReceivers:
    """Part of `Project` (txlint.project). Owns `_registrations` (signal name -> the functions that
    may connect a receiver to a signal of that name, built once from the index) and `_receivers`
    (signal qualname -> its receivers, memoised)."""

    def _init_signals(self) -> None:
        self._registrations: Optional[Dict[str, List[str]]] = None
        self._receivers: Dict[str, Tuple[Receiver, ...]] = {}

    def receivers_sent(self, signal: Value, sender: Optional[Value]) -> Tuple[str, ...]:
        """The receivers a `send(sender=...)` of the signal runs: those connected for any sender,
        and those connected for the sender's class (all of them when the sender is not known)."""
        sent_by = sender.name if sender is not None and sender.kind in ("model", "instance", "class", "object") \
            else ""
        return tuple(receiver for receiver, connected_for in self.receivers_of(signal)
                     if not connected_for or not sent_by or connected_for == sent_by)

    def receivers_of(self, signal: Value) -> Tuple[Receiver, ...]:
        """The project functions connected to the signal, each with the sender it is connected for."""
        if signal.kind != "signal" or not signal.name:
            return ()
        return self._memo("receivers", self._receivers, signal.name,
                          lambda: tuple(dict.fromkeys(self._find_receivers(signal.name))), ())

    def _find_receivers(self, qualname: str) -> List[Receiver]:
        key = qualname.rsplit(".", 1)[-1]
        self.note(("receivers", key))
        if self._registrations is None:
            self._registrations = {}
            for module in self.order:
                for name, holder in self.index_entry(module).receivers:
                    self._registrations.setdefault(name, []).append(holder)
        found: List[Receiver] = []
        for holder in self._registrations.get(key, ()):
            unit = self.units.get(holder)
            if unit is None:
                continue
            for decorator in unit.facts.decorators:
                if decorator[0] == "call" and decorator[2] and self._is_receiver_decorator(decorator[1], unit) and \
                        any(self._is_signal(signal, qualname, unit) for signal in _signals_named(decorator[2][0])):
                    found.append((unit.qualname, self._sender_of(decorator, unit)))
            for event in unit.facts.events:
                func = event.ref[1]
                if func[0] != "attr" or func[2] != "connect" or not self._is_signal(func[1], qualname, unit):
                    continue
                handler = event.ref[2][0] if event.ref[2] else dict(event.ref[3]).get("receiver")
                value = self.evaluate(handler, unit)
                if value is not None and value.kind == "function":
                    found.append((value.name, self._sender_of(event.ref, unit)))
        return found

    def _is_receiver_decorator(self, ref: Ref, unit: Unit) -> bool:
        value = self.evaluate(ref, unit)
        return value is not None and value.kind == "qname" and value.name in self.registry.receiver_decorators

    def _is_signal(self, ref: Ref, qualname: str, unit: Unit) -> bool:
        value = self.evaluate(ref, unit)
        return value is not None and value.kind == "signal" and value.name == qualname

    def _sender_of(self, call: Ref, unit: Unit) -> str:
        """The class a receiver is connected for (`sender=Order`), "" for any sender (or one not known)."""
        sender = dict(call[3]).get("sender")
        value = self.evaluate(sender, unit) if sender is not None else None
        return value.name if value is not None and value.kind in ("model", "class") else ""


def _signals_named(ref: Ref) -> Tuple[Ref, ...]:
    """The signals `@receiver(...)` is given: one, or a list or tuple of them."""
    return ref[1] if ref[0] == "list" else (ref,)
