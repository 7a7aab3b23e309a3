"""Deep but valid code, import cycles and imports of modules that are not in the project are
analysed without an internal error (issue 12): what `ast.parse` accepts, txlint analyses, and a
hazard in the same project is still found."""

import json

import pytest

from examples import MULTI_TABLE

_DEPTH = 500


def _check(txlint, root):
    code, out, err = txlint("check", "--format", "json", cwd=root, timeout=120)
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert code == 1, err
    return json.loads(out)


def _hazard_found(document):
    return any(finding["code"] == "TXL101" and finding["function"] == "app.good.place_order"
               for finding in document["findings"])


# A hazard that reads a name through the cycle or the missing module, so resolving it must end.
_USES_X = MULTI_TABLE + "\n\ndef uses_x():\n    x.save()\n    order = Order.objects.create(total=1)\n" \
                        "    Invoice.objects.create(order=order)\n"

PROJECTS = {
    "import-cycle": {
        "app/a.py": "from app.b import x\n",
        "app/b.py": "from app.a import x\n",
        "app/good.py": "from app.a import x\n" + _USES_X,
    },
    "relative-import-cycle": {
        "app/__init__.py": "from .a import x\n",
        "app/a.py": "from . import x\n",
        "app/good.py": "from app import x\n" + _USES_X,
    },
    "extension-module": {
        "pkg/__init__.py": "from . import _speedups\nfrom ._speedups import x\n",
        "app/good.py": "from pkg import x, _speedups\n" + _USES_X.replace("x.save()", "_speedups.x.save()"),
    },
    "submodule-with-syntax-error": {
        "pkg/__init__.py": "from .broken import x\nfrom . import broken\n",
        "pkg/broken.py": "def broken(:\n",
        "app/good.py": "from pkg import x, broken\n" + _USES_X,
    },
    "python-2-submodule": {
        "pkg/__init__.py": "from .old import x\n",
        "pkg/old.py": "print 'hello'\nx = 1\n",
        "app/good.py": "from pkg import x\n" + _USES_X,
    },
    "re-export-chain": {
        **{f"app/m{index}.py": f"from app.m{index + 1} import x\n" for index in range(_DEPTH)},
        f"app/m{_DEPTH}.py": "x = None\n",
        "app/good.py": "from app.m0 import x\n" + _USES_X,
    },
    "class-hierarchy": {
        "app/classes.py": "class C0:\n    pass\n" + "".join(
            f"\n\nclass C{index}(C{index - 1}):\n    pass\n" for index in range(1, 110)),
        "app/good.py": "from app.classes import C109\n" + _USES_X.replace("x.save()", "C109().save()"),
    },
    "helpers-calling-down-a-chain": {
        "app/chain.py": "".join(f"def f{index}():\n    return f{index + 1}()\n\n\n" for index in range(_DEPTH))
                        + f"def f{_DEPTH}():\n    return None\n",
        "app/good.py": "from app.chain import f0 as x\n" + _USES_X.replace("x.save()", "x().save()"),
    },
    "callers-up-a-chain": {  # is uses_x always called inside a transaction? ask its 500 callers
        "app/callers.py": "from app.good import uses_x as f0\n" + "".join(
            f"\n\ndef f{index}():\n    f{index - 1}()\n" for index in range(1, _DEPTH)),
        "app/good.py": "x = None\n" + _USES_X,
    },
}


@pytest.mark.parametrize("files", PROJECTS.values(), ids=PROJECTS.keys())
def test_resolution_ends_and_the_hazard_is_found(txlint, tree, files):
    document = _check(txlint, tree({"app/__init__.py": "", **files}))
    assert _hazard_found(document)
    uses_x = [finding for finding in document["findings"] if finding["function"] == "app.good.uses_x"]
    assert [finding["code"] for finding in uses_x] == ["TXL101"]


EXPRESSIONS = {
    "elif-chain": "if a:\n    pass\n" + "".join(f"elif a == {index}:\n    b.save()\n" for index in range(300)),
    "method-chain": "x = a" + ".b()" * 200 + "\n",
    "additions": "x = " + " + ".join(["a"] * _DEPTH) + "\n",
    "not": "x = " + "not " * _DEPTH + "a\n",
    "unary-minus": "x = " + "-" * _DEPTH + "a\n",
    "ternaries": "x = " + "a if b else " * _DEPTH + "c\n",
    "lambdas": "x = " + "lambda: " * _DEPTH + "a\n",
    "attributes": "x = a" + ".b" * _DEPTH + "\n",
    "subscripts": "x = a" + "[0]" * _DEPTH + "\n",
    "calls-in-additions": "x = " + " + ".join(["f()"] * _DEPTH) + "\n",
    "decorator-attributes": "@a" + ".b" * _DEPTH + "\ndef f():\n    pass\n",
}


@pytest.mark.parametrize("source", EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_deep_expressions_are_analysed(txlint, tree, source):
    # The deep code sits in the module that has the hazard, and in a function of its own.
    function = "def deep():\n" + "".join(f"    {line}\n" for line in source.splitlines())
    document = _check(txlint, tree({"app/__init__.py": "", "app/good.py": source + MULTI_TABLE,
                                    "app/deep.py": function}))
    assert _hazard_found(document)
    assert document["summary"]["parse_errors"] == 0


def test_a_hazard_deep_in_an_elif_chain_is_found(txlint, tree):
    """Not skipped as too deep: the last branch of a long `elif` chain is analysed like the first."""
    branches = "".join(f"    elif total == {index}:\n        pass\n" for index in range(300))
    source = MULTI_TABLE.replace("    order = Order.objects.create(total=total)\n",
                                 "    if total is None:\n        pass\n" + branches +
                                 "    else:\n        order = Order.objects.create(total=total)\n")
    document = _check(txlint, tree({"app/__init__.py": "", "app/good.py": source}))
    assert _hazard_found(document)


def test_a_write_at_the_end_of_a_method_chain_is_found(txlint, tree):
    """Bounding how deep an expression is followed leaves the chains of real code whole."""
    source = MULTI_TABLE.replace("Invoice.objects.create(order=order)",
                                 "Invoice.objects" + ".filter(total=1)" * 8 + ".update(order=order)")
    document = _check(txlint, tree({"app/__init__.py": "", "app/good.py": source}))
    assert _hazard_found(document)


def test_a_failure_building_the_call_graph_is_an_internal_error(monkeypatch):
    """The call graph is built inside the run's error handling: a bug there is reported, not a traceback."""
    from txlint.linter import InternalError, lint_sources
    from txlint.project import Project

    def fail(project):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(Project, "call_graph", fail)
    with pytest.raises(InternalError, match="internal error while resolving the project: RecursionError"):
        lint_sources({"app/good.py": MULTI_TABLE})


def _findings_in_order(sources, order):
    from txlint.linter import lint_sources

    return sorted((finding.code, finding.path, finding.line, finding.function)
                  for finding in lint_sources({path: sources[path] for path in order}))


def test_a_model_hierarchy_deeper_than_the_model_can_follow_gives_the_same_findings_in_any_order():
    """Each M<i> derives from the one before; f<i> writes M<i> and M0 (given the M<i> it made). Past the nesting bound a
    model is not known to be one, and which those are must not depend on which function was
    checked first (checked from the top of the chain down, the first ones asked would be cut
    short, from the bottom up each would reuse the one before)."""
    sources = {"app/__init__.py": "",
               "app/m0.py": "from django.db import models\n\n\nclass M0(models.Model):\n    pass\n"}
    for index in range(1, 100):
        sources[f"app/m{index}.py"] = (
            f"from app.m{index - 1} import M{index - 1}\nfrom app.m0 import M0\n\n\n"
            f"class M{index}(M{index - 1}):\n    pass\n\n\n"
            f"def f{index}():\n    made = M{index}.objects.create()\n    M0.objects.create(source=made)\n")
    forward = _findings_in_order(sources, list(sources))
    assert forward == _findings_in_order(sources, list(sources)[::-1])
    assert ("TXL101", "app/m1.py", 11, "app.m1.f1") in forward  # the near ones are still found


@pytest.mark.parametrize("files", PROJECTS.values(), ids=PROJECTS.keys())
def test_deep_projects_give_the_same_findings_in_any_order(files):
    import textwrap

    sources = {path: textwrap.dedent(text) for path, text in {"app/__init__.py": "", **files}.items()}
    assert _findings_in_order(sources, list(sources)) == _findings_in_order(sources, list(sources)[::-1])
