"""OpenAPI schema generation: component names and path hooks."""

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema


class AutoSchema(StandardizedErrorsAutoSchema):
    """Names a serializer nested in a view after the view: ``CheckoutView.OutputSerializer`` -> ``CheckoutOutput``."""

    def get_serializer_name(self, serializer, direction) -> str:
        outer, _, name = type(serializer).__qualname__.rpartition(".")
        if not outer or "<locals>" in outer:
            return name
        return outer.rpartition(".")[2].removesuffix("View") + name.removesuffix("Serializer")


def strip_trailing_slashes(result, generator, request, public):
    """Document each path in its canonical form, without the optional trailing slash."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result
