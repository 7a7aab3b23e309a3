"""`@atomic(target)` on generator functions: one transaction over the generator's whole run.

The transaction opens at the first `next()` (when the body starts), commits when the generator
is exhausted, and rolls back when the body raises or the generator is closed early (`close()`,
a `break` out of the consumer's loop followed by garbage collection, `aclose()`).

The body runs in a context of its own, copied at the first `next()`: between two items the
consumer's code runs without the generator's transaction as its current one, so a consumer's
own `atomic` or `stage_file` is not mistaken for part of the generator's work.
"""

import contextvars
import functools
from typing import Any, Callable

__all__ = ["async_generator_in_transaction", "generator_in_transaction"]


def generator_in_transaction(open_block: Callable[[], Any], function: Callable) -> Callable:
    """Wrap a generator function so that each run of it is one `open_block()` transaction."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        context = contextvars.copy_context()
        block = open_block()
        context.run(block.__enter__)
        inner = function(*args, **kwargs)
        try:
            step = functools.partial(inner.send, None)
            while True:
                try:
                    item = context.run(step)
                except StopIteration as stop:
                    result = stop.value
                    break
                try:
                    sent = yield item
                except GeneratorExit:  # closed early: the body's work rolls back
                    context.run(inner.close)
                    raise
                except BaseException as error:  # thrown in by the consumer: the body may handle it
                    step = functools.partial(inner.throw, error)
                else:
                    step = functools.partial(inner.send, sent)
        except BaseException as error:
            context.run(block.__exit__, type(error), error, error.__traceback__)
            raise
        context.run(block.__exit__, None, None, None)
        return result

    return run


def async_generator_in_transaction(open_block: Callable[[], Any], function: Callable) -> Callable:
    """Wrap an async generator function so that each run of it is one `open_block()` transaction."""

    @functools.wraps(function)
    async def run(*args, **kwargs):
        context = contextvars.copy_context()
        block = open_block()
        await _InContext(context, block.__aenter__())
        inner = function(*args, **kwargs)
        try:
            step = functools.partial(inner.asend, None)
            while True:
                try:
                    item = await _InContext(context, step())
                except StopAsyncIteration:
                    break
                try:
                    sent = yield item
                except GeneratorExit:
                    await _InContext(context, inner.aclose())
                    raise
                except BaseException as error:
                    step = functools.partial(inner.athrow, error)
                else:
                    step = functools.partial(inner.asend, sent)
        except BaseException as error:
            await _InContext(context, block.__aexit__(type(error), error, error.__traceback__))
            raise
        await _InContext(context, block.__aexit__(None, None, None))

    return run


class _InContext:
    """Await `awaitable` with every step of it run in `context` (the body's private context)."""

    def __init__(self, context: contextvars.Context, awaitable):
        self.context = context
        self.iterator = awaitable.__await__()

    def __await__(self):
        step = functools.partial(self.iterator.send, None)
        while True:
            try:
                future = self.context.run(step)
            except StopIteration as stop:
                return stop.value
            try:
                result = yield future
            except BaseException as error:  # a cancellation reaches the body where it is waiting
                step = functools.partial(self.iterator.throw, error)
            else:
                step = functools.partial(self.iterator.send, result)
