"""The components as every Pulumi language sees them: the schema the provider infers from their type
hints, and construction through the provider itself (camelCase inputs mapped onto the Args, as
`pulumi package add` users construct them), under the SDK's mocks."""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from bqml_text_embeddings.args import camel
from bqml_text_embeddings.config import keys, rules
from bqml_text_embeddings.config.corpus_keys import CORPUS
from bqml_text_embeddings.provider import COMPONENTS, NAME
from tests.pulumi_harness import DYNAMIC, ProgramRun, run_declared

PROJECT = "my-proj-123"
PROVIDER = ComponentProvider(list(COMPONENTS), NAME)
SCHEMA = json.loads(PROVIDER.schema)
RESOURCES = SCHEMA["resources"]


def _token(component: type) -> str:
    return f"{NAME}:index:{component.__name__}"


def _described_and_typed(where: str, props: dict[str, Any]) -> list[str]:
    problems = []
    for name, prop in props.items():
        if not prop.get("description", "").strip():
            problems.append(f"{where}.{name}: no description")
        if not (prop.get("type") or prop.get("$ref")):
            problems.append(f"{where}.{name}: no type")
        if "pulumi.json#/Any" in json.dumps(prop):
            problems.append(f"{where}.{name}: Any")
    return problems


def test_every_component_is_in_the_schema_every_property_typed_and_described() -> None:
    assert set(RESOURCES) == {_token(c) for c in COMPONENTS}
    problems = []
    for token, resource in RESOURCES.items():
        assert resource["isComponent"] is True and resource["description"].strip(), token
        problems += _described_and_typed(f"{token} input", resource["inputProperties"])
        problems += _described_and_typed(f"{token} output", resource["properties"])
    for token, type_ in SCHEMA["types"].items():
        problems += _described_and_typed(token, type_["properties"])
    assert problems == []


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_the_schema_holds_each_components_args_and_outputs(component: type) -> None:
    args = component.__init__.__annotations__["args"]
    resource = RESOURCES[_token(component)]
    assert set(resource["inputProperties"]) == {camel(k) for k in args.__annotations__}
    assert set(resource.get("requiredInputs", [])) == {camel(k) for k in args.__required_keys__}
    outputs = {k for k, hint in component.__annotations__.items() if typing.get_origin(hint) is pulumi.Output}
    assert set(resource["properties"]) == {camel(k) for k in outputs}


def _doc(component: str, prop: str, kind: str = "inputProperties") -> str:
    return RESOURCES[f"{NAME}:index:{component}"][kind][prop]["description"]


def _type_doc(type_name: str, prop: str) -> str:
    return SCHEMA["types"][f"{NAME}:index:{type_name}"]["properties"][prop]["description"]


def _number(value: int) -> str:
    return f"{value:,}"


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        # A corpus's defaults and bounds are the stack's corpora.NAME keys'.
        (lambda: _doc("EmbeddedCorpus", "maxAttempts"), [f"default {CORPUS['maxAttempts'].default}", f"at most {rules.MAX_ATTEMPTS}"]),
        (
            lambda: _doc("EmbeddedCorpus", "timeBudgetMinutes"),
            [f"default {CORPUS['timeBudgetMinutes'].default}", f"at most {rules.MAX_TIME_BUDGET_MINUTES}"],
        ),
        (lambda: _doc("EmbeddedCorpus", "maxDeletePercent"), [f"default {CORPUS['maxDeletePercent'].default}", f"{rules.MAX_DELETE_PERCENT} turns"]),
        (lambda: _doc("EmbeddedCorpus", "batchSize"), [_number(rules.IMPORTED_BATCH_SIZE), _number(rules.REMOTE_BATCH_SIZE)]),
        (lambda: _doc("EmbeddedCorpus", "index"), [*rules.INDEX_TYPES, rules.NO_INDEX, f"{CORPUS['index'].default} (the default)"]),
        # The tutorial's are the stack's keys'.
        (lambda: _doc("TextEmbeddingsTutorial", "region"), [f"default {keys.REGION.default}"]),
        (lambda: _doc("TextEmbeddingsTutorial", "location"), [f"{keys.LOCATION.default} (default)"]),
        (lambda: _doc("TextEmbeddingsTutorial", "dataset"), [f"default {keys.DATASET.default}"]),
        (lambda: _doc("TextEmbeddingsTutorial", "models"), [f"default {' and '.join(keys.MODELS.default)}", *rules.MODEL_CHOICES]),
        (lambda: _type_doc("SamplePredictionsArgs", "rows"), [f"default {keys.SAMPLES.default['rows']}"]),
        (lambda: _type_doc("SamplePredictionsArgs", "table"), [f"default {keys.SAMPLES.default['table']}"]),
        (lambda: _type_doc("SamplePredictionsArgs", "column"), [f"default {keys.SAMPLES.default['column']}"]),
        (lambda: _type_doc("BertArgs", "machineType"), [f"default {keys.BERT.default['machineType']}"]),
        (lambda: _type_doc("BertArgs", "maxReplicas"), [f"1 to {rules.MAX_BERT_REPLICAS}", f"default {keys.BERT.default['maxReplicas']}"]),
        (lambda: _type_doc("BertArgs", "runtime"), [f"{keys.BERT.default['runtime']} (default)"]),
        (lambda: _type_doc("TextEmbeddingArgs", "endpoint"), [f"default {keys.TEXT_EMBEDDING.default['endpoint']}"]),
        (
            lambda: _type_doc("EvaluationArgs", "rows"),
            [f"from {rules.MIN_EVALUATION_ROWS} to {_number(rules.MAX_EVALUATION_ROWS)}", f"default {_number(keys.EVALUATION.default['rows'])}"],
        ),
        (lambda: _doc("BertEmbeddingModel", "maxReplicas"), [f"1 to {rules.MAX_BERT_REPLICAS}", f"default {keys.BERT.default['maxReplicas']}"]),
        (lambda: _doc("ManagedEmbeddingModel", "endpoint"), [f"{keys.TEXT_EMBEDDING.default['endpoint']} (the default)"]),
    ],
    ids=lambda value: "" if callable(value) else None,
)
def test_documented_defaults_and_bounds_are_the_rules(doc: Any, says: list[str]) -> None:
    """What another language's SDK shows a user is what the rules enforce: a changed default fails here until its doc follows."""
    text = doc()
    assert [phrase for phrase in says if phrase not in text] == [], text


def _construct(*resources: tuple[str, type, dict[str, Any]]) -> tuple[ProgramRun, dict[str, dict[str, Any]]]:
    """Constructs `resources` through the provider in order; an input "${name.output}" reads an earlier one's state."""
    states: dict[str, dict[str, Any]] = {}
    resolved: dict[str, dict[str, Any]] = {}

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and (ref := re.fullmatch(r"\$\{(\w[\w-]*)\.(\w+)\}", value)):
            return states[ref[1]][ref[2]]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    def declare() -> Any:
        for name, component, inputs in resources:
            result = PROVIDER.construct(name, _token(component), resolve(inputs), None)
            states[name] = result.state
        return {name: pulumi.Output.from_input(state) for name, state in states.items()}

    run = run_declared(declare, {"gcp:project": PROJECT})
    resolved.update(run.outputs)
    return run, resolved


def _components() -> dict[str, type]:
    return {c.__name__: c for c in COMPONENTS}


MANAGED_CORPUS = (
    ("vertex-embeddings", _components()["VertexConnection"], {"project": PROJECT, "location": "US", "connectionId": "embeddings_vertex"}),
    (
        "textembedding",
        _components()["ManagedEmbeddingModel"],
        {"project": PROJECT, "location": "US", "dataset": "embeddings", "connection": "${vertex-embeddings.reference}"},
    ),
    (
        "tickets",
        _components()["EmbeddedCorpus"],
        {
            "project": PROJECT,
            "location": "US",
            "dataset": "embeddings",
            "table": f"{PROJECT}.support.tickets",
            "key": ["ticket_id"],
            "text": "body",
            "models": {"textembedding": "${textembedding.embeddingModel}"},
            "connection": "${vertex-embeddings.reference}",
            "schedule": "every 24 hours",
            "maxAttempts": 5,
            "newestBy": "updated_at",
        },
    ),
)


def test_a_corpus_of_a_managed_model_constructs_through_the_provider() -> None:
    run, states = _construct(*MANAGED_CORPUS)
    connection, model, corpus = (states[name] for name, _, _ in MANAGED_CORPUS)
    assert connection["reference"] == f"{PROJECT}.us.embeddings_vertex"
    assert model["modelId"] == f"{PROJECT}.embeddings.textembedding_model"
    assert json.loads(model["embeddingModel"])["model_id"] == model["modelId"]
    # Outputs come back under their schema names, for every language.
    assert set(corpus) == set(RESOURCES[_token(_components()["EmbeddedCorpus"])]["properties"])
    assert corpus["tables"] == {"textembedding": f"{PROJECT}.embeddings.tickets_textembedding_embeddings"}
    assert f"CALL `{PROJECT}.embeddings.refresh_tickets_textembedding`(NULL);" in corpus["refreshNow"]["textembedding"]
    # camelCase inputs reached the Args: maxAttempts and newestBy are in the procedure.
    procedure = next(d for d in run.of_type(DYNAMIC) if "CREATE OR REPLACE PROCEDURE" in str(d.inputs.get("sql", "")))
    assert "updated_at" in procedure.inputs["sql"] and "attempts >= 5" in procedure.inputs["sql"]
    # The model's remote model is in place before the corpus's first fill calls it.
    assert run.depends_on("tickets-textembedding-first-fill", "textembedding-create-remote-model")
    assert {d.type for d in run.declared.values()} >= {
        "gcp:bigquery/connection:Connection",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:serviceaccount/account:Account",
        "gcp:bigquery/dataTransferConfig:DataTransferConfig",
    }


def test_a_bad_argument_through_the_provider_names_the_component_and_the_argument() -> None:
    bad = [(name, component, {**inputs, "maxAttempts": 99} if name == "tickets" else inputs) for name, component, inputs in MANAGED_CORPUS]
    with pytest.raises(ComponentInitError) as failure:
        _construct(*bad)
    assert f"EmbeddedCorpus tickets: max_attempts: 99: give a whole number from 1 to {rules.MAX_ATTEMPTS}" in str(failure.value)


def test_the_tutorial_constructs_through_the_provider_with_its_nested_args() -> None:
    tutorial = _components()["TextEmbeddingsTutorial"]
    run, states = _construct(
        (
            "tutorial-of-mine",
            tutorial,
            {
                "project": PROJECT,
                "dataset": "mine",
                "models": ["textembedding"],
                "samplePredictions": {"rows": 25},
                "textEmbedding": {"endpoint": "gemini-embedding-001"},
                "evaluation": {"rows": 0},
            },
        )
    )
    state = states["tutorial-of-mine"]
    assert state["dataset"] == f"{PROJECT}.mine"
    assert state["modelIds"] == {"textembedding": f"{PROJECT}.mine.textembedding_model"}
    statements = run.statements()
    assert "gemini-embedding-001" in statements["textembedding-create-remote-model"].inputs["sql"]
    assert "LIMIT 25" in statements["textembedding-sample-embeddings"].inputs["sql"]
    assert not any("evaluation" in name for name in statements)


def test_a_nested_argument_through_the_provider_is_named_as_python_spells_it() -> None:
    tutorial = _components()["TextEmbeddingsTutorial"]
    with pytest.raises(ComponentInitError) as failure:
        _construct(("t", tutorial, {"project": PROJECT, "models": ["bert"], "bert": {"maxReplicas": 30}}))
    assert f"TextEmbeddingsTutorial t: bert.max_replicas: 30: give a whole number from 1 to {rules.MAX_BERT_REPLICAS}" in str(
        failure.value
    )


def test_the_provider_process_never_loads_googles_clients() -> None:
    """The provider server's google.rpc.Status and Google's cannot share a process (tests/one_status_proto.py):
    constructing every component must not import Google's API clients, which load the latter."""
    import subprocess
    import sys

    probe = (
        "import sys, json\n"
        "from pulumi.provider.experimental.component import ComponentProvider\n"
        "from bqml_text_embeddings.provider import COMPONENTS, NAME\n"
        "ComponentProvider(list(COMPONENTS), NAME)\n"
        "import bqml_text_embeddings.corpus.component, bqml_text_embeddings.models.bert, bqml_text_embeddings.tutorial.component\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('google.rpc', 'google.api_core', 'google.cloud.')))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
