"""Accessibility checks in the browser: axe-core against WCAG 2.1 level A and AA.

`assert_no_axe_violations(page, context="sign-in page, Swedish")` runs axe on what the
page shows now and fails the test with every violation: its rule, impact, what it
asks for, and each offending element. Nothing is switched off: a violation is fixed
in the templates or the stylesheet, not here.
"""
import pytest
from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

_axe = Axe()


def axe_violations(page) -> list[dict]:
    """axe-core's violations for the page as it is now (the whole document)."""
    page.wait_for_load_state("load")
    return _axe.run(page, options=AXE_OPTIONS).response["violations"]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact') or 'no impact given'}): "
                     f"{violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(_selector(part) for part in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {' '.join(node['html'].split())[:200]}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend(f"       {line.strip()}" for line in summary.splitlines() if line.strip())
    return "\n".join(lines)


def _selector(part) -> str:
    # Inside iframes or shadow roots axe gives a list of selectors for one node.
    return " >>> ".join(part) if isinstance(part, list) else str(part)


def assert_no_axe_violations(page, context: str = "") -> None:
    """Fail the test, naming every WCAG 2.1 A/AA violation axe finds on the page."""
    __tracebackhide__ = True
    violations = axe_violations(page)
    if violations:
        where = f"{context} ({page.url})" if context else page.url
        count = sum(len(v["nodes"]) for v in violations)
        pytest.fail(f"axe found {len(violations)} accessibility rule(s) violated on {count} element(s) "
                    f"on {where}:\n{format_violations(violations)}")
