#!/usr/bin/python3
"""What each continuation's plan holds (the repro's Figure 2): planned tokens against the budget,
the domain shares and the share of tokens in documents longer than the long threshold, per
strategy and seed; then one `note: ` line per strategy (means over seeds) for the report's page.

usage: plans.py OUT CONT_TOKENS SEEDS STRATEGY...   (reads OUT/cont-NAME-sS-plan/plan.json)
"""
import json
import os
import sys


def short(domain):
    return domain.replace("RedPajama", "")


def load(out, strategy, seed):
    with open(os.path.join(out, f"cont-{strategy.replace(':', '-')}-s{seed}-plan", "plan.json")) as f:
        return json.load(f)


def long_share(plan):
    doms = plan["domains"].values()
    total = sum(d["tokens"] for d in doms)
    return sum(d["tokens"] * d.get("long_token_share", 0) for d in doms) / total if total else 0.0


def main():
    out, budget, seeds, strategies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    print(f"Continuation plans: budget {budget:,} tokens (training reads {budget - 1:,} of them)")
    notes = []
    for strategy in strategies:
        plans = [load(out, strategy, s) for s in range(1, seeds + 1)]
        domains = sorted({d for p in plans for d in p["domains"]})
        for s, p in enumerate(plans, start=1):
            shares = ", ".join(f"{short(d)} {100 * p['domains'][d]['share']:.1f}%" for d in domains if d in p["domains"])
            print(f"{strategy:<26} seed {s}: {p['tokens']:>10,} tokens ({p['tokens'] - budget:+,}); {shares}; "
                  f"long-document tokens {100 * long_share(p):.1f}%")
        mean = {d: sum(p["domains"].get(d, {}).get("share", 0) for p in plans) / len(plans) for d in domains}
        over = max(p["tokens"] - budget for p in plans)
        notes.append(f"{strategy}: domain shares (mean of {len(plans)} seeds) " +
                     ", ".join(f"{short(d)} {100 * mean[d]:.1f}%" for d in domains) +
                     f"; long-document tokens {100 * sum(map(long_share, plans)) / len(plans):.1f}%; " +
                     ("every plan exactly the budget" if over == 0 else f"plans up to {over:,} tokens over the budget"))
    print()
    for n in notes:
        print("note: " + n)


if __name__ == "__main__":
    main()
