"""The examples run: the Python program under the SDK's mocks, and the YAML program interpreted against the
provider's schema and constructed through the provider (no Pulumi CLI or YAML engine offline).

The YAML interpreter resolves `${config}`, `${resource}` and `${resource.output}` as Pulumi YAML does and holds
every reference to the schema: a property the component lacks, a required one left out, an output it does not
have, or an Output passed where the schema wants a plain value fails here before it fails a user's `pulumi up`.
"""

from __future__ import annotations

import importlib
import json
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from bqml_text_embeddings.args import snake
from bqml_text_embeddings.provider import NAME
from tests.pulumi_harness import ProgramRun, run_declared
from tests.test_components import PROVIDER, RESOURCES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROJECT = "my-proj-123"
TABLE = f"{PROJECT}.support.tickets"
REFERENCE = re.compile(r"\$\{([^}]+)\}")
OURS = f"{NAME}:index:"


def _declared_types(run: ProgramRun) -> dict[str, str]:
    return {d.name: d.type for d in run.declared.values()}


def _assert_the_managed_corpus(run: ProgramRun, outputs: dict[str, Any]) -> None:
    """What both examples make: five APIs, a dataset, a connection, the managed model and a corpus over it."""
    services = {d.inputs["service"] for d in run.of_type("gcp:projects/service:Service")}
    assert services == {f"{api}.googleapis.com" for api in ("bigquery", "bigqueryconnection", "aiplatform", "iam", "bigquerydatatransfer")}
    assert all(d.inputs["disableOnDestroy"] is False for d in run.of_type("gcp:projects/service:Service"))
    types = _declared_types(run)
    assert types["tickets"] == f"{OURS}EmbeddedCorpus" and types["textembedding"] == f"{OURS}ManagedEmbeddingModel"
    assert types["vertex"] == f"{OURS}VertexConnection" and types["vertex-connection"] == "gcp:bigquery/connection:Connection"
    source_check = next(d for d in run.declared.values() if d.name == "tickets-source-table")
    assert source_check.inputs["table"] == TABLE
    # The corpus's first fill comes after the remote model it calls, and that after the connection's grant.
    assert run.depends_on("tickets-textembedding-first-fill", "textembedding-create-remote-model")
    assert run.depends_on("textembedding-create-remote-model", "vertex-connection")
    assert "VECTOR_SEARCH" in outputs["searchQueries"]["textembedding"]
    assert f"SELECT * FROM `{PROJECT}.embeddings.tickets_status`" in outputs["statusQuery"]


def test_the_python_example_declares_a_corpus_of_the_managed_model(monkeypatch: pytest.MonkeyPatch) -> None:
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exported.__setitem__(name, value))

    def declare() -> Any:
        runpy.run_path(str(EXAMPLES / "python" / "__main__.py"), run_name="__main__")
        return exported

    run = run_declared(declare, {"gcp:project": PROJECT, "embedded-tickets:table": TABLE}, project="embedded-tickets")
    _assert_the_managed_corpus(run, run.outputs)


class YamlProgram:
    """A Pulumi YAML program's resources declared in dependency order: ours through the provider, gcp's as pulumi_gcp classes."""

    def __init__(self, program: dict[str, Any], config: dict[str, Any]) -> None:
        self.program = program
        self.values: dict[str, Any] = dict(config)
        self.resources: dict[str, Any] = {}  # name -> pulumi resource
        self.states: dict[str, dict[str, Any]] = {}  # name -> our component's outputs, schema names
        self.problems: list[str] = []

    def _refs(self, value: Any) -> set[str]:
        return {m.split(".")[0] for m in REFERENCE.findall(json.dumps(value))}

    def order(self) -> list[str]:
        resources = self.program["resources"]
        done: list[str] = []
        while len(done) < len(resources):
            ready = [n for n, r in resources.items() if n not in done and self._refs(r) <= set(done) | set(self.values)]
            assert ready, f"a reference cycle or an unknown name among {sorted(set(resources) - set(done))}"
            done += ready
        return done

    def resolve(self, value: Any, schema: dict[str, Any] | None, where: str) -> Any:
        if isinstance(value, dict):
            extra = schema.get("additionalProperties") if schema else None
            return {k: self.resolve(v, extra, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            items = schema.get("items") if schema else None
            return [self.resolve(v, items, f"{where}[]") for v in value]
        if not isinstance(value, str) or not (ref := REFERENCE.fullmatch(value)):
            return value
        name, _, output = ref[1].partition(".")
        if name in self.values:
            return self.values[name]
        if not output:
            return self.resources[name]
        if name in self.states:
            state_schema = RESOURCES[self.program["resources"][name]["type"]]["properties"]
            if output not in state_schema:
                self.problems.append(f"{where}: {name} has no output {output} (it has {sorted(state_schema)})")
                return None
            if schema is not None and schema.get("plain"):
                self.problems.append(f"{where}: takes a plain value, not the output {value}")
            return self.states[name][output]
        return getattr(self.resources[name], snake(output))

    def declare(self) -> dict[str, Any]:
        # The provider hands back a URN; `dependsOn: [${name}]` needs the component itself, so keep what it constructs.
        classes = dict(PROVIDER._components)
        self.constructed: dict[str, Any] = {}

        def keeping(cls: type) -> Any:
            def construct(name: str, args: Any, opts: Any) -> Any:
                self.constructed[name] = cls(name, args, opts)
                return self.constructed[name]

            return construct

        PROVIDER._components.update({token: keeping(cls) for token, cls in classes.items()})
        try:
            return self._declare()
        finally:
            PROVIDER._components.update(classes)

    def _declare(self) -> dict[str, Any]:
        for name in self.order():
            spec = self.program["resources"][name]
            token, props = spec["type"], spec.get("properties", {})
            depends_on = [self.resolve(d, None, f"{name}.options.dependsOn") for d in spec.get("options", {}).get("dependsOn", [])]
            opts = pulumi.ResourceOptions(depends_on=depends_on)
            if token.startswith(OURS):
                schema = RESOURCES[token]
                unknown = set(props) - set(schema["inputProperties"])
                missing = set(schema.get("requiredInputs", [])) - set(props)
                self.problems += [f"{name}.{p}: not an input of {token}" for p in sorted(unknown)]
                self.problems += [f"{name}.{p}: required by {token}" for p in sorted(missing)]
                inputs = {k: self.resolve(v, schema["inputProperties"].get(k), f"{name}.{k}") for k, v in props.items()}
                # Refused here as Pulumi's YAML engine refuses them, before the provider sees the inputs.
                assert not self.problems, "\n".join(self.problems)
                result = PROVIDER.construct(name, token, inputs, opts)
                self.states[name] = result.state
                self.resources[name] = self.constructed[name]
            else:
                provider, module, kind = token.split(":")
                assert provider == "gcp", token
                cls = getattr(importlib.import_module(f"pulumi_gcp.{module}"), kind)
                self.resources[name] = cls(name, **{snake(k): self.resolve(v, None, f"{name}.{k}") for k, v in props.items()}, opts=opts)
        outputs = {k: self.resolve(v, None, f"outputs.{k}") for k, v in self.program.get("outputs", {}).items()}
        assert not self.problems, "\n".join(self.problems)
        return outputs


def _yaml_program() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))


def _run_yaml(program: dict[str, Any]) -> tuple[ProgramRun, YamlProgram]:
    config = {"table": TABLE, "gcp:project": PROJECT}
    variables = {k: v.replace("${gcp:project}", PROJECT) for k, v in program.get("variables", {}).items()}
    interpreter = YamlProgram(program, {**config, **variables})
    run = run_declared(interpreter.declare, {"gcp:project": PROJECT, "embedded-tickets-yaml:table": TABLE}, project=program["name"])
    return run, interpreter


def test_the_yaml_example_uses_this_package_and_declares_what_the_python_one_does() -> None:
    program = _yaml_program()
    assert program["runtime"] == "yaml" and (EXAMPLES / "yaml" / program["packages"][NAME] / "PulumiPlugin.yaml").is_file()
    run, _ = _run_yaml(program)
    _assert_the_managed_corpus(run, run.outputs)


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda p: p["resources"]["tickets"]["properties"].pop("schedule"), "tickets.schedule: required by"),
        (lambda p: p["resources"]["tickets"]["properties"].update(maxAttempt=3), "tickets.maxAttempt: not an input of"),
        (lambda p: p["outputs"].update(nope="${tickets.statusQueries}"), "tickets has no output statusQueries"),
        (lambda p: p["resources"]["tickets"]["properties"].update(table="${textembedding.modelId}"), "tickets.table: takes a plain value"),
    ],
    ids=["required", "unknown-input", "unknown-output", "output-to-plain"],
)
def test_the_yaml_interpreter_holds_the_program_to_the_schema(mutate: Any, problem: str) -> None:
    program = _yaml_program()
    mutate(program)
    with pytest.raises(AssertionError) as refused:
        _run_yaml(program)
    assert problem in str(refused.value)
