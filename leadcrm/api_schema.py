"""OpenAPI post-processing: every API operation documents the errors it can answer with.

drf-spectacular documents what a view declares; the errors that come from the framework around it
(authentication, permissions, throttling, body parsing and size) are added here, once, so a client
and schemathesis see every status the API really sends.
"""

from django.utils.translation import gettext_lazy as _

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A 400 names each field (or parameter) with its messages; "non_field_errors" and "detail" hold
# errors about the request as a whole.
VALIDATION_ERROR = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string"},
            {"type": "object"},
        ]
    },
}

COMMON = {
    "401": _("Not signed in: no or an invalid token or session"),
    "403": _("Signed in, but the role lacks the permission (or the CSRF token is missing)"),
    "406": _("The Accept header asks for something other than JSON"),
    "429": _("Too many requests; wait for the seconds in Retry-After"),
}
WITH_BODY = {
    "413": _("The request body is too large"),
    "415": _("The body is not JSON (Content-Type: application/json)"),
}


def _error(description, schema: str = "Error") -> dict:
    return {
        "description": str(description),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def document_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method == "post" and "requestBody" in operation:
                # Every POST of this API needs its body (at least the required fields).
                operation["requestBody"]["required"] = True
            responses = operation.setdefault("responses", {})
            extra = dict(COMMON)
            if "requestBody" in operation:
                extra.update(WITH_BODY)
            if "{" in path:
                extra.setdefault("404", _("No such object, or not one you may see"))
            for code, description in extra.items():
                responses.setdefault(code, _error(description))
            for code in ("400", "404", "409"):
                response = responses.get(code)
                if response is not None and "content" not in response:
                    schema = "ValidationError" if code == "400" else "Error"
                    response["content"] = _error(response["description"], schema)["content"]
    return result
