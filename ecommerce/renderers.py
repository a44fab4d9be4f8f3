"""How the API writes JSON: camelCase keys, each distinct key renamed once per process rather than per response.

djangorestframework-camel-case's renderer runs a regular expression over every key of every response; the
names are a small fixed set (field names), so the renaming is memoised. Otherwise the same output: DRF's
JSONRenderer (compact, UTF-8) over the same camelCase names, which the OpenAPI schema also uses.
"""

import json
from functools import lru_cache

from django.utils.encoding import force_str
from django.utils.functional import Promise
from djangorestframework_camel_case.util import camelize_re, underscore_to_camel
from rest_framework.compat import LONG_SEPARATORS, SHORT_SEPARATORS
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

ANY_JSON = frozenset({"", "*/*", "application/json"})


@lru_cache(maxsize=8192)
def camel_case(key: str) -> str:
    """``unit_price`` -> ``unitPrice``, as djangorestframework-camel-case spells it."""
    return camelize_re.sub(underscore_to_camel, key) if "_" in key else key


def camelize(data):
    """``data`` with every dict key in camelCase, at any depth; lists and other iterables become lists."""
    if isinstance(data, dict):
        renamed = {}
        for key, value in data.items():
            if isinstance(key, Promise):
                key = force_str(key)
            renamed[camel_case(key) if isinstance(key, str) else key] = camelize(value)
        return renamed
    if isinstance(data, list | tuple):
        return [camelize(item) for item in data]
    if isinstance(data, str | bytes | int | float | Promise) or data is None or not hasattr(data, "__iter__"):
        return data
    return [camelize(item) for item in data]


class CamelCaseJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is not None and accepted_media_type == self.media_type and "indent" not in (renderer_context or ()):
            # The usual request: no indent to parse from the media type's parameters, so JSONRenderer's
            # compact output without its per-request set-up.
            text = json.dumps(
                camelize(data),
                cls=self.encoder_class,
                ensure_ascii=self.ensure_ascii,
                allow_nan=not self.strict,
                separators=SHORT_SEPARATORS if self.compact else LONG_SEPARATORS,
            )
            return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        return super().render(camelize(data), accepted_media_type, renderer_context)


class JSONContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with a shortcut for the usual request: no ``Accept``, ``*/*`` or plain JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        meta = request.META
        format_override = f"{self.settings.URL_FORMAT_OVERRIDE}="
        if (
            meta.get("HTTP_ACCEPT", "") in ANY_JSON
            and not format_suffix
            and format_override not in meta.get("QUERY_STRING", "")  # not parsed: most requests have no query
        ):
            renderer = renderers[0]
            if renderer.media_type == "application/json":
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
