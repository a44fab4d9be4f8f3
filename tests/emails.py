"""Reading the links of the account emails, for tests that follow them as their recipient would."""

import re

LINK_TOKEN = re.compile(r"\?token=([A-Za-z0-9_:\-]+)")


def token_in(body: str) -> str:
    """The token of the (first) link in an email's text."""
    found = LINK_TOKEN.search(body)
    assert found, f"no link with a token in: {body!r}"
    return found.group(1)
