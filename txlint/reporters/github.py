"""GitHub Actions workflow commands: findings appear inline on pull requests."""


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result, options) -> str:
    lines = []
    for finding in result.findings:
        properties = ",".join((
            f"file={_property(finding.path)}", f"line={finding.line}", f"col={finding.column}",
            f"endLine={finding.end_line}", f"endColumn={finding.end_column}",
            f"title={_property(f'{finding.code} {finding.name}')}",
        ))
        lines.append(f"::error {properties}::{_data(finding.message)}")
    return "".join(line + "\n" for line in lines)
