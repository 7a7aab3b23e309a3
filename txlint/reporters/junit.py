"""JUnit XML: one failing test case per finding, grouped by file, which CI systems show as failures;
an internal error (a file txlint could not analyse, a rule that failed on it) is an erroring test case."""

from xml.etree import ElementTree

from txlint.reporters.escape import visible

# The suite of internal errors that are not one file's (the project could not be resolved), and of none.
_RUN_SUITE = "txlint"


def render(result, options) -> str:
    failures, errors = len(result.findings), len(result.internal_errors)
    suites = ElementTree.Element("testsuites", name="txlint", tests=str(failures + errors),
                                 failures=str(failures), errors=str(errors))
    by_path = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, ([], []))[0].append(finding)
    for message in result.internal_errors:
        by_path.setdefault(getattr(message, "path", None) or "", ([], []))[1].append(message)
    # Every string from the tree goes through `visible`: XML 1.0 cannot hold most control characters
    # (not even as character references), and a file name's undecodable bytes are no characters at all.
    for path, (findings, messages) in sorted(by_path.items()):
        shown = visible(path) if path else _RUN_SUITE
        suite = ElementTree.SubElement(suites, "testsuite", name=shown, tests=str(len(findings) + len(messages)),
                                       failures=str(len(findings)), errors=str(len(messages)))
        for finding in findings:
            case = ElementTree.SubElement(suite, "testcase", classname=shown,
                                          name=f"{finding.code} {finding.name} at line {finding.line}")
            where = f"{shown}:{finding.line}:{finding.column}"
            message = visible(finding.message)
            failure = ElementTree.SubElement(case, "failure", type=finding.code, message=f"{where}: {message}")
            failure.text = f"{where}: {finding.code} {message}"
        for message in messages:
            case = ElementTree.SubElement(suite, "testcase", classname=shown, name="txlint internal error")
            error = ElementTree.SubElement(case, "error", type="internal-error", message=visible(message))
            error.text = visible(message)
    if not by_path:
        ElementTree.SubElement(suites, "testsuite", name=_RUN_SUITE, tests="0", failures="0", errors="0")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
