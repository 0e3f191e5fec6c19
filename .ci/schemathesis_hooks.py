"""What the API's OpenAPI document says in words but JSON Schema cannot: a menu item's
option ids are distinct (after surrounding spaces are dropped). Without this the generator
makes items like [{"id": "0"}, {"id": "0"}], which the server rightly refuses with a 400
naming `options`. Loaded by .ci/run through SCHEMATHESIS_HOOKS."""

import schemathesis


@schemathesis.hook
def map_body(ctx, body):
    operation = ctx.operation
    if operation.method.upper() != "PUT" or operation.path != "/api/menu/{item}":
        return body
    if not isinstance(body, dict) or not isinstance(body.get("options"), list):
        return body
    seen = set()
    for i, option in enumerate(body["options"]):
        if not isinstance(option, dict) or not isinstance(option.get("id"), str):
            continue
        key = option["id"].strip()
        if key in seen:
            # Still a valid id: at most 50 characters, no control characters.
            option["id"] = f"{key[:40]}~{i}"
        seen.add(option["id"].strip())
    return body
