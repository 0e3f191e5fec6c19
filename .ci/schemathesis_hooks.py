"""What the API's OpenAPI document says in words but JSON Schema cannot:

- a menu item's option ids are distinct (after surrounding spaces are dropped). Without
  this the generator makes items like [{"id": "0"}, {"id": "0"}], which the server rightly
  refuses with a 400 naming `options`;
- an order's lines, quantity times unit price and added up, stay within what an amount
  holds exactly (999,999,999,999.9999). Without this the generator multiplies a quantity of
  seventy billion by a price of eighteen thousand, which the server rightly refuses with a
  400 naming the line's `qty`.

Loaded by .ci/contract through SCHEMATHESIS_HOOKS."""

from decimal import Decimal, InvalidOperation

import schemathesis

AMOUNT_BOUND = Decimal("999999999999.9999")


def number(value):
    """A quantity or price as the server reads it, or None when it is not one."""
    try:
        if isinstance(value, str):
            return abs(Decimal(value.strip()))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return abs(Decimal(value))
    except (InvalidOperation, ValueError):
        return None
    return None


def bounded_orders(body):
    events = body.get("events") if isinstance(body, dict) else body
    if not isinstance(events, list):
        return body
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("lines"), list):
            continue
        total = Decimal(0)
        for line in event["lines"]:
            if isinstance(line, dict):
                qty, price = number(line.get("qty")), number(line.get("unit_price"))
                if qty is not None and price is not None:
                    total += qty * price
        if total > AMOUNT_BOUND:
            # Still valid lines: a small price, the quantity's sign kept.
            for line in event["lines"]:
                if isinstance(line, dict) and "unit_price" in line:
                    line["unit_price"] = "0.01"
                    qty = number(line.get("qty"))
                    if qty is not None and qty > 1000:
                        negative = str(line["qty"]).strip().startswith("-")
                        line["qty"] = -1000 if negative else 1000
    return body


@schemathesis.hook
def map_body(ctx, body):
    operation = ctx.operation
    if operation.method.upper() == "POST" and operation.path == "/api/events":
        return bounded_orders(body)
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
