"""Gitignore-style patterns compiled with pathspec, and what to do with the ones it cannot compile."""

import re
import warnings
from typing import Iterable, List, Optional

import pathspec


def compile_patterns(patterns: Iterable[str]) -> pathspec.PathSpec:
    """The patterns as one spec. Raises ValueError or re.error when pathspec cannot compile one of
    them (`pattern_error` says why)."""
    with warnings.catch_warnings():
        # pathspec turns a bracket expression such as `[[:alpha:]]` or `[a&&b]` into a regular
        # expression that `re` warns a future Python may read differently; the pattern still
        # compiles, and the warning would be two lines of noise in a linter's output.
        warnings.simplefilter("ignore", FutureWarning)
        return pathspec.GitIgnoreSpec.from_lines(patterns)


def pattern_error(pattern: str) -> Optional[str]:
    """Why pathspec cannot compile a pattern, in a few words; None when it can."""
    try:
        compile_patterns([pattern])
    except re.error as error:  # the regular expression built from a range such as `[z-a]`
        return error.msg
    except ValueError as error:  # pathspec refuses it (`!`, a trailing `\`)
        # The refusal only repeats the pattern; the error it wraps says what is wrong with it.
        return str(error.__cause__ or error)
    return None


def compile_as_git_does(lines: List[str]) -> pathspec.PathSpec:
    """The lines of a .gitignore as one spec. Git never rejects a .gitignore: a line it cannot use
    matches nothing, so such a line is left out and the others apply as written."""
    try:
        return compile_patterns(lines)
    except (ValueError, re.error):
        return compile_patterns([line for line in lines if pattern_error(line) is None])
