"""The API's JSON parser: camelCase in, snake_case out, and no nesting deep enough to exhaust the stack."""

from djangorestframework_camel_case.parser import CamelCaseJSONParser
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32  # no request of this API nests deeper than a few levels


def _depth_exceeds(data, limit: int) -> bool:
    """True if lists/objects in ``data`` nest deeper than ``limit`` (iterative: no recursion of our own)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(CamelCaseJSONParser):
    """CamelCaseJSONParser that answers 400 to JSON nested too deeply (which would otherwise be a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
