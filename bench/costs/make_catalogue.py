#!/usr/bin/env python3
"""Makes an illustrative hidden-cost catalogue for the products of UCI Online Retail.

    python3 bench/costs/make_catalogue.py /path/to/online_retail.csv.gz OUT_DIR

writes OUT_DIR/factors.csv and OUT_DIR/products.csv in the format of docs/costs.md.

The figures are NOT measured data. Each product gets per-unit figures from the first
product-type keyword found in its description (mug, bag, candle, card, ...), so that the
costs code can be tested and benchmarked on real order lines. Every factor's `source` says
so. Non-products (postage, manual adjustments, fees, discounts, samples, vouchers) are
listed without any figure, so they show up as unmatched; some product types lack a water
figure, so that "missing for this factor" shows up too.

Python 3 standard library only; the output depends only on the input file.
"""

import collections
import csv
import gzip
import re
import sys
from pathlib import Path

SOURCE = ("Illustrative estimate for testing rapport, assigned by product-type keyword "
          "(bench/costs/make_catalogue.py); not measured data")

FACTORS = [
    ("co2e_kg", "kg CO2e"),
    ("water_l", "litres of water"),
    ("packaging_g", "grams of packaging"),
]

# (keywords, co2e_kg, water_l, packaging_g); the first rule whose keyword is a word of the
# description wins. None = unknown for that product type (left empty, never zero).
RULES = [
    (["HOT WATER BOTTLE"], 0.8, 8.0, 40.0),
    (["CUSHION COVER", "CUSHION"], 1.2, 60.0, 30.0),
    (["DOORMAT"], 2.0, 10.0, 40.0),
    (["MUG", "CUP", "CUPS", "SAUCER", "TEAPOT", "PLATE", "PLATES", "BOWL", "BOWLS"], 0.9, 4.0, 60.0),
    (["GLASS", "JAR", "BOTTLE", "VASE"], 0.6, 3.0, 50.0),
    (["CANDLE", "CANDLES", "T-LIGHT", "T-LIGHTS", "TEALIGHT", "TEA LIGHT"], 0.4, 1.5, 15.0),
    (["BAG", "BAGS", "TOTE", "SHOPPER"], 0.5, 20.0, 10.0),
    (["CLOCK"], 1.5, 5.0, 120.0),
    (["LIGHTS", "LIGHT", "LANTERN", "LAMP"], 1.0, 4.0, 80.0),
    (["FRAME"], 0.6, 2.0, 50.0),
    (["SIGN", "PLAQUE"], 0.7, 2.0, 40.0),
    (["BOX", "BOXES", "TIN", "TINS"], 0.3, 1.0, 20.0),
    (["BUNTING", "GARLAND"], 0.2, 5.0, 10.0),
    (["CARD", "CARDS", "WRAP", "PAPER", "NAPKINS", "NOTEBOOK", "TISSUES", "TISSUE"], 0.05, 0.5, 5.0),
    (["RIBBON", "RIBBONS", "STRING", "TAPE"], 0.02, 0.2, 2.0),
    (["NECKLACE", "BRACELET", "EARRINGS", "RING"], 0.1, None, 5.0),
    (["STICKER", "STICKERS"], 0.01, None, 2.0),
]
# Anything else that is a product: other giftware, water unknown.
DEFAULT = (0.5, None, 25.0)

NON_PRODUCTS = {"POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE",
                "CRUK", "PADS", "B"}


def is_non_product(code):
    return code in NON_PRODUCTS or code.startswith("gift_0001")


def figures(description):
    words = " " + re.sub(r"[^A-Z0-9\- ]", " ", description.upper()) + " "
    for keywords, *values in RULES:
        if any(f" {k} " in words for k in keywords):
            return values
    return list(DEFAULT)


def fmt(v):
    return "" if v is None else f"{v:g}"


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    source, out = Path(argv[1]), Path(argv[2])
    names = collections.defaultdict(collections.Counter)
    order = []
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            code = row["StockCode"].strip()
            if code not in names:
                order.append(code)
            if row["Description"].strip():
                names[code][row["Description"].strip()] += 1
            else:
                names[code]  # noqa: B018 — known, without a name
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "factors.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["factor", "unit", "source"])
        for name, unit in FACTORS:
            w.writerow([name, unit, SOURCE])
    counts = collections.Counter()
    with open(out / "products.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["product", "name"] + [name for name, _ in FACTORS])
        for code in sorted(order):
            common = names[code].most_common()
            # The most frequent description; ties go to the alphabetically first.
            name = min(common, key=lambda c: (-c[1], c[0]))[0] if common else ""
            if is_non_product(code):
                values = [None, None, None]
                counts["without figures"] += 1
            else:
                values = figures(name)
                counts["with figures"] += 1
            w.writerow([code, name] + [fmt(v) for v in values])
    print(f"{sum(counts.values())} products ({counts['with figures']} with figures, "
          f"{counts['without figures']} without) in {out / 'products.csv'}; "
          f"{len(FACTORS)} factors in {out / 'factors.csv'}")


if __name__ == "__main__":
    main(sys.argv)
