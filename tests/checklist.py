"""The accumulating check every CLI / reference test script uses: each check prints `ok: NAME` or
`FAIL: NAME -- detail` and is remembered, so one run reports every failure; the script ends with
`sys.exit(1 if failures else 0)`.

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from checklist import check, failures
"""
failures = []


def check(name, cond, detail=""):
    print(f"{'ok' if cond else 'FAIL'}: {name}{'' if cond else ' -- ' + str(detail)[:2000]}", flush=True)
    if not cond:
        failures.append(name)
