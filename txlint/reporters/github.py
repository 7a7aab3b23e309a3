"""GitHub Actions workflow commands: findings (and txlint's own failures) appear inline on pull requests."""

from txlint.reporters.escape import visible


def _data(text: str) -> str:
    """A command's message, escaped as the runner requires (so that a line break in it cannot
    start a forged workflow command, and a file name with one still names its file); the other
    control characters, which the runner would pass on, are shown as escapes."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


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
    for message in result.internal_errors:
        path = getattr(message, "path", None)
        where = f"file={_property(path)}," if path else ""
        lines.append(f"::error {where}title=txlint internal error::{_data(message)}")
    return "".join(line + "\n" for line in lines)
