"""JUnit XML: one test case per finding, grouped by file, which CI systems show as failures."""

from xml.etree import ElementTree


def render(result, options) -> str:
    suites = ElementTree.Element("testsuites", name="txlint", tests=str(len(result.findings)),
                                 failures=str(len(result.findings)))
    by_path = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path, findings in sorted(by_path.items()):
        suite = ElementTree.SubElement(suites, "testsuite", name=path, tests=str(len(findings)),
                                       failures=str(len(findings)))
        for finding in findings:
            case = ElementTree.SubElement(suite, "testcase", classname=path,
                                          name=f"{finding.code} {finding.name} at line {finding.line}")
            where = f"{finding.path}:{finding.line}:{finding.column}"
            failure = ElementTree.SubElement(case, "failure", type=finding.code, message=f"{where}: {finding.message}")
            failure.text = f"{where}: {finding.code} {finding.message}"
    if not by_path:
        ElementTree.SubElement(suites, "testsuite", name="txlint", tests="0", failures="0")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
