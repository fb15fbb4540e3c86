"""The pipeline steps as functions, run in process by the C++ CLI (tools/longctx/cli.h): each takes
the command's options as keyword arguments, named as the CLI's long flags with '_' for '-'
(long_threshold= is --long-threshold), and positional arguments as the CLI's. True adds a flag,
False or None leaves it out, a list repeats the option. Errors raise longctx.Error with the CLI's
one-line message, as `longctx CMD ...` prints it.

    longctx.ingest("corpus/*.jsonl.zst", tokenizer="tokenizer.json", out="out/store", threads=8)
    longctx.stats("out/store")["domains"]
    longctx.mix("out/store", strategy="per-source", tokens="5B", seed=1, out="out/plan")
    longctx.pack("out/plan", seq_len="64K", format="flat", out="out/packed")
    longctx.prepare("examples/sample.json")

`longctx.cli(["verify", "out/packed"])` runs any data command from an argument list.
"""
import glob as _glob
import json as _json

from ._longctx import Error, run as _run


def _args(command, positional, options):
    args = [command] + [str(p) for p in positional]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                args += [flag, str(v)]
        else:
            args += [flag, str(value)]
    return args


def cli(args, capture_stdout=False):
    """Runs `longctx ARGS` (a data command) in this process; returns its standard output when
    capture_stdout, else None. Raises Error on a user error or a non-zero exit."""
    code, out = _run([str(a) for a in args], capture_stdout)
    if code != 0:
        raise Error(f"longctx {args[0] if args else ''}: exit status {code}")
    return out if capture_stdout else None


def _expand(inputs):
    # The shell expands globs for the CLI; here we do (a pattern that matches nothing stays, so
    # the CLI names it in its error).
    out = []
    for p in inputs:
        p = str(p)
        matches = sorted(_glob.glob(p)) if any(c in p for c in "*?[") else []
        out += matches or [p]
    return out


def ingest(*inputs, **options):
    """Raw corpora -> a document store; returns the store folder (out=)."""
    cli(_args("ingest", _expand(inputs), options))
    return options.get("out")


def merge(*stores, **options):
    """Joins an array ingest's task stores; returns the merged store folder."""
    cli(_args("merge", stores, options))
    return options.get("out") or (str(stores[0]) if stores else None)


def stats(store, **options):
    """Per-domain length statistics of a store, as the dict `longctx stats --json` prints."""
    options = dict(options, json=True)
    return _json.loads(cli(_args("stats", [store], options), capture_stdout=True))


def mix(store, **options):
    """A store -> a plan (the paper's mixture strategies); returns the plan folder (out=)."""
    cli(_args("mix", [store], options))
    return options.get("out")


def pack(plan, **options):
    """A plan -> packed sequences in a trainer's layout; returns the output folder (out=)."""
    cli(_args("pack", [plan], options))
    return options.get("out")


def verify(path):
    """Rechecks a store, plan, packed output or checkpoint against its manifest; returns the CLI's
    summary line, raises Error on any mismatch."""
    return cli(["verify", str(path)], capture_stdout=True).strip()


def prepare(config, **options):
    """ingest -> stats -> mix -> pack -> report from one config file (resumable)."""
    cli(_args("prepare", [config], options))


def tokenize(input, **options):
    """JSONL -> one JSON array of ids per line (out=, or captured and returned when out is not given)."""
    if options.get("out"):
        cli(_args("tokenize", [input], options))
        return options["out"]
    return cli(_args("tokenize", [input], options), capture_stdout=True)
