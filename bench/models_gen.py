"""Input files of a million people for bench/models.sh (docs/performance.md, "Models").

    python3 bench/models_gen.py OUT_DIR [PEOPLE]      (default 1,000,000 people)

Deterministic (no randomness), so every run and every machine fits the same files:

- OUT_DIR/summary.csv: ID,frequency,recency,T for PEOPLE people, the CDNOW summary's
  rows over and over; copy k (0, 1, 2, …) keeps frequency and recency and moves T on by
  (k mod 30)/7 weeks, so there are many distinct rows (30 × the CDNOW rows), not one file
  repeated.
- OUT_DIR/donations-patterns.csv: the donations patterns (BG/BB) with every weight × ~90
  (PEOPLE / 11,104 donors), a pattern file of about PEOPLE people.
- OUT_DIR/donations-people.csv: the same people one row each (frequency,recency,periods,
  no weights), the BG/BB's per-person form.
- OUT_DIR/customers.csv: id,periods,churned for PEOPLE contract customers whose churn
  follows Fader & Hardie's regular cohort (years 0–12, scaled), the sBG/BdW per-customer
  form.
"""
import csv
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "crates", "models", "tests", "data")


def read(name):
    with open(os.path.join(DATA, name), newline="") as f:
        return list(csv.DictReader(f))


def summary(out, people):
    rows = read("cdnow_customers_summary.csv")
    n = len(rows)
    with open(os.path.join(out, "summary.csv"), "w") as f:
        f.write("ID,frequency,recency,T\n")
        for i in range(people):
            row = rows[i % n]
            k = i // n
            t = float(row["T"]) + (k % 30) / 7
            f.write(f"{i + 1},{row['frequency']},{row['recency']},{t:.4f}\n")


def donations(out, people):
    rows = read("donations.csv")
    donors = sum(int(r["weights"]) for r in rows)
    scale = round(people / donors)
    with open(os.path.join(out, "donations-patterns.csv"), "w") as f:
        f.write("frequency,recency,periods,weights\n")
        for r in rows:
            f.write(f"{r['frequency']},{r['recency']},{r['periods']},{int(r['weights']) * scale}\n")
    with open(os.path.join(out, "donations-people.csv"), "w") as f:
        f.write("frequency,recency,periods\n")
        for r in rows:
            line = f"{r['frequency']},{r['recency']},{r['periods']}\n"
            f.write(line * (int(r["weights"]) * scale))


def customers(out, people):
    rows = read("fader_hardie_2007.csv")
    alive = [float(r["regular_alive"]) for r in rows]
    last = len(alive) - 1
    scale = people / alive[0]
    # survivors at each year, scaled to whole customers
    left = [round(a * scale) for a in alive]
    left[0] = people
    with open(os.path.join(out, "customers.csv"), "w") as f:
        f.write("id,periods,churned\n")
        i = 0
        for year in range(1, last + 1):
            for _ in range(left[year - 1] - left[year]):
                i += 1
                f.write(f"{i},{year},yes\n")
        for _ in range(left[last]):
            i += 1
            f.write(f"{i},{last},no\n")


def main():
    out = sys.argv[1]
    people = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    os.makedirs(out, exist_ok=True)
    summary(out, people)
    donations(out, people)
    customers(out, people)


if __name__ == "__main__":
    main()
