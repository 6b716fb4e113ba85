"""python -m bqml_text_embeddings.build {list,build,check,predict,evaluate}: the build step from the shell."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from bqml_text_embeddings.build import cache, catalog, runtimes, sources
from bqml_text_embeddings.build.api import DEFAULT_BUILD_DIR
from bqml_text_embeddings.build.cache import BuiltModel
from bqml_text_embeddings.build.catalog import Target
from bqml_text_embeddings.build.errors import BuildError
from bqml_text_embeddings.build.parallel import ensure_all_built
from bqml_text_embeddings.build.predict import DEFAULT_BATCH_SIZE
from bqml_text_embeddings.build.redact import redact


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (BuildError, catalog.UnknownModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bqml_text_embeddings.build",
        description="Build, check and try the tutorial's text-embedding SavedModels (NNLM, SWIVEL, BERT).",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR, help="build cache (default: .build)")
        sub.add_argument(
            "--source",
            action="append",
            default=[],
            metavar="KEY=HANDLE",
            help=f"override a source handle; keys: {', '.join(catalog.ALL_SOURCE_KEYS)}. "
            "HANDLE is a TF Hub URL, a gs:// path or a local SavedModel directory",
        )

    listing = commands.add_parser("list", help="the models, their sources and whether they are built")
    common(listing)
    listing.set_defaults(run=_list)

    build = commands.add_parser("build", help="build (or find in the cache) and check models")
    build.add_argument("models", nargs="+", metavar="MODEL", help=", ".join(catalog.MODELS))
    build.add_argument(
        "--jobs", type=_positive, default=None, metavar="N", help="cold models built at once, each in its own process (default: one per core)"
    )
    _runtime_option(build)
    common(build)
    build.set_defaults(run=_build)

    check = commands.add_parser("check", help="can BigQuery / Vertex AI serve it? a verdict per target")
    check.add_argument("target", metavar="MODEL_OR_DIR", help="a model name (built if needed) or a SavedModel directory")
    check.add_argument("--dims", type=int, help="embedding size, for a directory without a manifest")
    check.add_argument("--serve-on", choices=[t.value for t in Target], help="target whose failure fails the command")
    _runtime_option(check)
    common(check)
    check.set_defaults(run=_check)

    predict = commands.add_parser("predict", help="embed texts locally with a built model (JSONL out)")
    predict.add_argument("target", metavar="MODEL_OR_DIR", help="a model name (built if needed) or a SavedModel directory")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="texts to embed (else --input, else stdin)")
    predict.add_argument("--input", help="a .txt (one text a line), .csv or .jsonl file; '-' for stdin")
    predict.add_argument("--column", default="content", help="CSV column / JSONL field holding the text (default: content)")
    predict.add_argument("--output", help="write JSONL here instead of stdout")
    predict.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    common(predict)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser(
        "evaluate", help="measure models on labelled texts: a logistic regression on each one's embeddings"
    )
    evaluate.add_argument("targets", nargs="+", metavar="MODEL_OR_DIR", help="model names (built if needed) or SavedModel directories")
    evaluate.add_argument("--input", required=True, help="a .csv or .jsonl file of labelled texts")
    evaluate.add_argument("--text-column", required=True, metavar="C", help="the column holding the text")
    evaluate.add_argument("--label-column", required=True, metavar="L", help="the column holding one of exactly two labels")
    evaluate.add_argument(
        "--split-column", metavar="S", help="a column of train/test; without it, a seeded, stratified half/half split"
    )
    evaluate.add_argument("--output", help="also write {MODEL: {metric: value}} as JSON here")
    evaluate.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    common(evaluate)
    evaluate.set_defaults(run=_evaluate)
    return parser


def _runtime_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--runtime",
        choices=list(runtimes.RUNTIMES),
        default=runtimes.DEFAULT,
        help=f"the Vertex AI runtime that will serve BERT, whose op registry judges it (default {runtimes.DEFAULT})",
    )


def _refusal(built: BuiltModel, runtime: str) -> str | None:
    if built.manifest["target"] != Target.VERTEX.value:
        return None
    return runtimes.refusal(built.model, built.manifest.get("runtimes", {}), runtime, "--runtime")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, handle = pair.partition("=")
        if not sep or not key or not handle:
            raise BuildError(f"--source {pair!r}: expected KEY=HANDLE, e.g. nnlm=/models/nnlm")
        if key not in catalog.ALL_SOURCE_KEYS:
            raise BuildError(f"--source {key}: unknown source; keys are {', '.join(catalog.ALL_SOURCE_KEYS)}")
        out[key] = handle
    return out


def _for_model(spec: catalog.ModelSpec, overrides: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in overrides.items() if k in spec.source_keys()}


def _list(args: argparse.Namespace) -> int:
    overrides = _overrides(args.source)
    print(f"{'model':<8} {'dims':>4}  {'served by':<9}  {'built':<5}  sources")
    for spec in catalog.MODELS.values():
        try:
            handles = sources.resolve(spec, _for_model(spec, overrides))
            built = cache.load(cache.entry_dir(args.build_dir, spec, cache.cache_key(spec, handles)))
            state = "yes" if built else "no"
        except BuildError:
            handles, state = {r.key: overrides.get(r.key, r.default) for r in spec.sources}, "bad source"
        shown = ", ".join(f"{k}={redact(v)}" for k, v in handles.items())
        print(f"{spec.name:<8} {spec.dims:>4}  {spec.target.value:<9}  {state:<5}  {shown}")
    return 0


def _build(args: argparse.Namespace) -> int:
    refused = []
    for name, built in _built(list(dict.fromkeys(args.models)), args, jobs=args.jobs).items():
        print(f"{name}: {built.path} ({built.manifest['total_size']:,} bytes, digest {built.digest[:12]})")
        refusal = _refusal(built, args.runtime)
        if refusal:
            refused.append(refusal)
    if refused:
        raise BuildError("\n".join(refused))
    return 0


def _check(args: argparse.Namespace) -> int:
    from bqml_text_embeddings.build import check

    if args.target in catalog.MODELS:
        spec = catalog.get(args.target)
        try:
            (built,) = _built([spec.name], args).values()
        except BuildError as exc:
            print(f"{spec.target.value} (this model's target): FAIL\n  - {exc}")
            return 1
        verdicts, own = built.manifest["check"], args.serve_on or spec.target.value
        runtime_verdicts = built.manifest.get("runtimes", {})
    else:
        model_dir = Path(args.target)
        if not (model_dir / "saved_model.pb").is_file():
            raise BuildError(f"{args.target} is neither a model ({', '.join(catalog.MODELS)}) nor a SavedModel directory")
        manifest = cache.load(model_dir.parent)
        dims = args.dims or (manifest.manifest["dims"] if manifest else None)
        if dims is None:
            raise BuildError("--dims is required to check a SavedModel directory that has no build manifest")
        core = check.core_ops(args.build_dir)
        _, total, _ = cache.describe_files(model_dir)
        inspection = check.inspect(model_dir)
        verdicts = check.verdicts(inspection, dims, total, core)
        own = args.serve_on or (manifest.manifest["target"] if manifest else Target.BIGQUERY.value)
        runtime_verdicts = runtimes.verdicts(inspection.requirements)
    runtime_ok = True
    if own == Target.VERTEX.value:
        runtime_ok = runtime_verdicts.get(args.runtime, {"ok": False})["ok"]
    else:
        runtime_verdicts = {}
    print(check.format_verdicts(verdicts, own, runtime_verdicts, args.runtime))
    if not runtime_ok:
        print(runtimes.refusal(args.target, runtime_verdicts, args.runtime, "--runtime"))
    return 0 if verdicts[own]["ok"] and runtime_ok else 1


def _predict(args: argparse.Namespace) -> int:
    from bqml_text_embeddings.build import predict

    texts = predict.read_texts(args.texts, args.input, args.column)
    if not texts:
        raise BuildError("no texts to embed: give them as arguments, with --input, or on stdin")
    if args.batch_size < 1:
        raise BuildError(f"--batch-size must be at least 1, got {args.batch_size}")
    (model_dir,) = _model_dirs([args.target], args).values()
    if args.output is None:
        predict.predict(model_dir, texts, sys.stdout, args.batch_size)
        return 0
    count = _write_atomically(args.output, lambda out: predict.predict(model_dir, texts, out, args.batch_size))
    print(json.dumps({"written": count, "output": args.output}), file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from bqml_text_embeddings.build import evaluate

    if args.batch_size < 1:
        raise BuildError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.output is not None and not Path(args.output).parent.is_dir():
        raise BuildError(f"--output {args.output}: directory {Path(args.output).parent} does not exist")
    data = evaluate.load(args.input, args.text_column, args.label_column, args.split_column)
    models = _model_dirs(list(dict.fromkeys(args.targets)), args)
    results = evaluate.evaluate(models, data, args.batch_size)
    print(evaluate.format_table(results, data))
    if args.output is not None:
        _write_atomically(args.output, lambda out: out.write(json.dumps(results, indent=2) + "\n"))
    return 0


def _built(names: list[str], args: argparse.Namespace, jobs: int | None = None) -> dict[str, BuiltModel]:
    """Models by name, built if needed, each in a process of its own (as the program builds them)."""
    overrides = _overrides(args.source)
    requested = {name: _for_model(catalog.get(name), overrides) for name in names}
    return ensure_all_built(requested, args.build_dir, jobs=jobs, report=lambda line: print(line, file=sys.stderr))


def _model_dirs(targets: list[str], args: argparse.Namespace) -> dict[str, Path]:
    """Each target's SavedModel: a model name (built if needed) or a SavedModel directory."""
    for target in targets:
        if target not in catalog.MODELS and not (Path(target) / "saved_model.pb").is_file():
            raise BuildError(f"{target} is neither a model ({', '.join(catalog.MODELS)}) nor a SavedModel directory")
    built = _built([t for t in targets if t in catalog.MODELS], args)
    return {target: built[target].path if target in built else Path(target) for target in targets}


def _write_atomically(path: str, write: Callable[[IO[str]], Any]) -> Any:
    target = Path(path)
    if not target.parent.is_dir():
        raise BuildError(f"--output {path}: directory {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            result = write(out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


if __name__ == "__main__":
    sys.exit(main())
