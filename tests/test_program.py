"""The Pulumi program under pulumi.runtime mocks: resources, inputs, dependencies, SQL, outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
from sqlglot import exp

from bqml_text_embeddings.build.check import CORE_OPS_DIR
from tests.bigquery_sql import parse as _parse
from tests.bigquery_sql import table_name as _table_name
from tests.conftest import PROJECT, ROOT, run_python
from tests.pulumi_harness import DYNAMIC, FAKE_SERVICE_ACCOUNT, SERVING_DIGEST, ProgramRun, run_program


def _per_model(models: tuple[str, ...], *steps: str) -> set[str]:
    return {f"{m}-{step}" for m in models for step in steps}


EVALUATION = ("evaluation-embeddings", "sentiment-classifier", "quality")
# BERT in a dataset of its own in gcp:region: the dataset, its connection and grant, the rows it reads copied in, its figures copied out.
BERT_APART = (
    "bert-dataset", "bert-vertex-connection", "bert-connection-identity-propagation", "bert-connection-may-call-vertex",
    "bert-sample-source", "bert-evaluation-reviews", "bert-quality-row",
)


def _names(run: ProgramRun, type_: str) -> set[str]:
    return {d.name for d in run.of_type(type_)}


def _files(built_model) -> list[str]:
    return [f["path"] for f in built_model.files]


def test_default_config_declares_the_bigquery_half_only(runs: dict, built: dict) -> None:
    run = runs["default"]
    assert _names(run, "gcp:projects/service:Service") == {"api-bigquery", "api-storage"}
    assert _names(run, "gcp:bigquery/dataset:Dataset") == {"dataset"}
    assert _names(run, "gcp:storage/bucket:Bucket") == {"models"}
    objects = {f"{m}-savedmodel/{p}" for m in ("nnlm", "swivel") for p in _files(built[m])}
    assert _names(run, "gcp:storage/bucketObject:BucketObject") == objects
    models = ("nnlm", "swivel")
    assert set(run.statements()) == _per_model(models, "create-model", "sample-embeddings", "search-function", *EVALUATION) | {
        "evaluation-reviews",
        "embedding-quality",
    }
    assert len(run.of_type(DYNAMIC)) == len(run.statements())
    for absent in ("gcp:bigquery/connection:Connection", "gcp:projects/iAMMember:IAMMember", "gcp:vertex/aiEndpoint:AiEndpoint"):
        assert run.of_type(absent) == []
    assert {t for t in (d.type for d in run.declared.values()) if t.startswith("bqml-text-embeddings:")} == {
        "bqml-text-embeddings:index:TextEmbeddingsTutorial",
        "bqml-text-embeddings:index:Foundation",
        "bqml-text-embeddings:index:TfHubEmbeddingModel",
        "bqml-text-embeddings:storage:ModelArtifact",
        "bqml-text-embeddings:bigquery:SqlStatement",
        "bqml-text-embeddings:bigquery:SamplePredictions",
        "bqml-text-embeddings:bigquery:SemanticSearch",
        "bqml-text-embeddings:bigquery:EmbeddingQuality",
        "bqml-text-embeddings:bigquery:ModelEvaluation",
    }


def test_foundation_inputs_are_secure_and_clean_up_after_themselves(runs: dict) -> None:
    run = runs["default"]
    bucket = run.named("models").inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is True and bucket["location"] == "US" and bucket["project"] == PROJECT
    dataset = run.named("dataset").inputs
    assert dataset == {
        "datasetId": "tf_models_tutorial",
        "project": PROJECT,
        "location": "US",
        "deleteContentsOnDestroy": True,
        "description": dataset["description"],
        "labels": {"app": "bqml-text-embeddings", "managed-by": "pulumi"},
    }
    for service in run.of_type("gcp:projects/service:Service"):
        assert service.inputs["disableOnDestroy"] is False and service.inputs["disableDependentServices"] is False
        assert run.depends_on("dataset", service.name) and run.depends_on("models", service.name)


def test_objects_sit_under_a_prefix_that_changes_with_the_bytes(runs: dict, built: dict) -> None:
    run = runs["default"]
    for model in ("nnlm", "swivel"):
        prefix = f"{model}_model/{built[model].digest[:16]}/"
        for item in built[model].files:
            obj = run.named(f"{model}-savedmodel/{item['path']}").inputs
            assert obj["name"] == prefix + item["path"]
            assert obj["bucket"] == "models-bucket-1a2b3c"
            assert Path(obj["source"].path) == built[model].path / item["path"]


def test_create_model_sql_imports_the_uploaded_prefix_after_every_object(runs: dict, built: dict) -> None:
    run = runs["default"]
    for model in ("nnlm", "swivel"):
        statement = run.statements()[f"{model}-create-model"]
        tree = _parse(statement.inputs["sql"])
        assert isinstance(tree, exp.Create) and tree.args["kind"] == "MODEL" and tree.args["replace"]
        assert _table_name(tree.this) == f"{PROJECT}.tf_models_tutorial.{model}_model"
        options = {p.name.lower(): p.args["value"].name for p in tree.find(exp.Properties).expressions if isinstance(p, exp.Property)}
        assert options == {
            "model_type": "TENSORFLOW",
            "model_path": f"gs://models-bucket-1a2b3c/{model}_model/{built[model].digest[:16]}/*",
        }
        drop = _parse(statement.inputs["drop_sql"])
        assert isinstance(drop, exp.Drop) and drop.args["kind"] == "MODEL" and drop.args["exists"]
        assert [_table_name(t) for t in drop.args["tables"]] == [f"{PROJECT}.tf_models_tutorial.{model}_model"]
        for item in built[model].files:
            assert run.depends_on(statement.name, f"{model}-savedmodel/{item['path']}"), item["path"]
        assert run.depends_on(statement.name, "dataset")
        assert statement.inputs["location"] == "US" and statement.inputs["project"] == PROJECT
        # What `pulumi refresh` checks: the model exists and is still imported from our artifact.
        assert (statement.inputs["target_kind"], statement.inputs["target"]) == ("MODEL", f"{PROJECT}.tf_models_tutorial.{model}_model")
        assert statement.inputs["expect"] == {"modelUri": options["model_path"]}


def test_sample_sql_predicts_500_reviews_with_its_model_after_it(runs: dict, built: dict) -> None:
    run = runs["default"]
    for model in ("nnlm", "swivel"):
        sample = run.statements()[f"{model}-sample-embeddings"]
        tree = _parse(sample.inputs["sql"])
        assert isinstance(tree, exp.Create) and tree.args["kind"] == "TABLE" and tree.args["replace"]
        assert _table_name(tree.this) == f"{PROJECT}.tf_models_tutorial.{model}_sample_embeddings"
        outer = tree.expression
        assert [e.alias_or_name for e in outer.expressions[:2]] == ["content", "embedding"]
        assert outer.expressions[1].this.name == built[model].output_name  # the signature's output, renamed
        predict = tree.find(exp.Predict)
        assert predict is not None
        assert _table_name(predict.this) == f"{PROJECT}.tf_models_tutorial.{model}_model"
        inner = predict.expression.find(exp.Select)
        assert [(c.this.name, c.alias) for c in inner.expressions] == [("review", "content")]
        assert _table_name(inner.args["from_"].this) == "bigquery-public-data.imdb.reviews"
        assert inner.args["limit"].expression.name == "500"
        assert inner.args["from_"].this.name == "reviews"
        assert _parse(sample.inputs["drop_sql"]).args["kind"] == "TABLE"
        assert (sample.inputs["target_kind"], sample.inputs["target"]) == ("TABLE", _table_name(tree.this))
        assert run.depends_on(sample.name, f"{model}-create-model")
        assert sample.inputs["triggers"] == [run.statements()[f"{model}-create-model"].inputs["sql"]]


def test_all_three_models_add_the_vertex_stack(runs: dict, built: dict) -> None:
    run = runs["all"]
    assert _names(run, "gcp:projects/service:Service") == {
        "api-bigquery", "api-storage", "api-bigqueryconnection", "api-aiplatform", "api-artifactregistry",
    }
    # BERT lives in a dataset of its own in the endpoint's region, with a connection there.
    bert_dataset = run.named("bert-dataset").inputs
    assert (bert_dataset["datasetId"], bert_dataset["location"], bert_dataset["project"]) == ("tf_models_tutorial_us_central1", "us-central1", PROJECT)
    assert bert_dataset["deleteContentsOnDestroy"] is True and bert_dataset["labels"] == {"app": "bqml-text-embeddings", "managed-by": "pulumi"}
    connection = run.named("bert-vertex-connection").inputs
    assert connection["location"] == "us-central1" and connection["cloudResource"] == {}
    assert connection["connectionId"] == "tf_models_tutorial_us_central1_vertex"
    assert run.of_type("gcp:bigquery/connection:Connection") == [run.named("bert-vertex-connection")]  # nothing else needs one in US
    grant = run.named("bert-connection-may-call-vertex").inputs
    assert grant == {"project": PROJECT, "role": "roles/aiplatform.user", "member": f"serviceAccount:{FAKE_SERVICE_ACCOUNT}"}
    assert run.depends_on("bert-connection-may-call-vertex", "bert-vertex-connection")
    # The grant waits for the new service account to be known to IAM, once per identity.
    wait = run.named("bert-connection-identity-propagation")
    assert wait.type == "time:index/sleep:Sleep"
    assert wait.inputs == {"createDuration": "120s", "triggers": {"service_account": FAKE_SERVICE_ACCOUNT}}
    assert run.depends_on("bert-connection-identity-propagation", "bert-vertex-connection")
    assert run.urn("bert-connection-identity-propagation") in run.named("bert-connection-may-call-vertex").dependencies

    # Vertex AI reads artifacts only from a bucket in the endpoint's region.
    bert_bucket = run.named("bert-artifacts").inputs
    assert bert_bucket["location"] == "US-CENTRAL1" and bert_bucket["project"] == PROJECT
    assert bert_bucket["uniformBucketLevelAccess"] is True and bert_bucket["publicAccessPrevention"] == "enforced"
    assert bert_bucket["forceDestroy"] is True and run.depends_on("bert-artifacts", "api-storage")
    for item in built["bert"].files:
        obj = run.named(f"bert-savedmodel/{item['path']}").inputs
        assert obj["bucket"] == "bert-artifacts-bucket-1a2b3c"
        # TensorFlow Serving serves numbered versions under its base path: the files go under 1/.
        assert obj["name"] == f"bert_model/{built['bert'].digest[:16]}/1/{item['path']}"
    assert run.outputs["bertBucket"] == "bert-artifacts-bucket-1a2b3c"

    # TensorFlow Serving's image from Docker Hub, through a remote repository in the model's region.
    repository = run.named("bert-serving-images").inputs
    assert repository == {
        "project": PROJECT,
        "location": "us-central1",
        "repositoryId": "bqml-te-dev",
        "format": "DOCKER",
        "mode": "REMOTE_REPOSITORY",
        "description": repository["description"],
        "remoteRepositoryConfig": {"description": "Docker Hub", "dockerRepository": {"publicRepository": "DOCKER_HUB"}},
        "labels": {"app": "bqml-text-embeddings", "managed-by": "pulumi"},
    }
    assert run.depends_on("bert-serving-images", "api-artifactregistry")

    endpoint = run.named("bert-endpoint").inputs
    assert endpoint["location"] == "us-central1" and endpoint["displayName"] == "bert_model_endpoint"
    assert endpoint["name"].isdigit() and len(endpoint["name"]) == 10 and endpoint["name"][0] != "0"

    # TensorFlow Serving's tag, through that repository, pinned to the digest it resolves to (vertex/image_pin.py).
    assert run.named("bert-serving-image").inputs["image"] == "us-central1-docker.pkg.dev/my-proj-123/bqml-te-dev/tensorflow/serving:2.20.0"
    assert run.depends_on("bert-serving-image", "bert-serving-images")
    model = run.named("bert-registry-model").inputs
    prefix = f"bert_model/{built['bert'].digest[:16]}/"
    assert model["artifact_uri"] == f"gs://bert-artifacts-bucket-1a2b3c/{prefix}"
    assert model["container"] == {
        "image_uri": f"us-central1-docker.pkg.dev/my-proj-123/bqml-te-dev/tensorflow/serving@{SERVING_DIGEST}",
        "command": ["/usr/bin/tensorflow_model_server"],
        "args": [
            "--model_name=bert", "--model_base_path=$(AIP_STORAGE_URI)", "--rest_api_port=8080", "--port=8500",
            "--file_system_poll_wait_seconds=0",
        ],
        "ports": [{"container_port": 8080}],
        "predict_route": "/v1/models/bert:predict",
        "health_route": "/v1/models/bert/metadata",
    }
    assert run.depends_on("bert-registry-model", "bert-serving-image") and run.depends_on("bert-registry-model", "bert-serving-images")
    assert run.outputs["bertServingImage"] == model["container"]["image_uri"]
    assert model["labels"]["bqml-te-digest"] == built["bert"].digest[:16]
    assert model["labels"]["bqml-te-owner"] == f"{PROJECT}-dev"
    for item in built["bert"].files:
        assert run.depends_on("bert-registry-model", f"bert-savedmodel/{item['path']}")
    assert run.depends_on("bert-registry-model", "api-aiplatform")

    deployment = run.named("bert-deployment").inputs
    assert deployment["endpoint"] == f"projects/{PROJECT}/locations/us-central1/endpoints/{endpoint['name']}"
    assert deployment["model_name"] == f"projects/{PROJECT}/locations/us-central1/models/4242"
    assert (deployment["machine_type"], deployment["min_replica_count"], deployment["max_replica_count"]) == ("n1-standard-2", 1, 1)
    assert run.depends_on("bert-deployment", "bert-endpoint") and run.depends_on("bert-deployment", "bert-registry-model")

    remote = run.statements()["bert-create-remote-model"]
    assert remote.inputs["wait_for_iam"] is True and remote.inputs["location"] == "us-central1"
    tree = _parse(remote.inputs["sql"])
    assert _table_name(tree.this) == f"{PROJECT}.tf_models_tutorial_us_central1.bert_model"
    sql = remote.inputs["sql"]
    assert "INPUT(content STRING)" in sql and "OUTPUT(embedding ARRAY<FLOAT64>)" in sql
    assert f"REMOTE WITH CONNECTION `{PROJECT}.us-central1.tf_models_tutorial_us_central1_vertex`" in sql
    url = f"https://us-central1-aiplatform.googleapis.com/v1/projects/{PROJECT}/locations/us-central1/endpoints/{endpoint['name']}"
    assert f"ENDPOINT = '{url}'" in sql
    assert remote.inputs["expect"] == {"endpoint": url}
    for dependency in ("bert-connection-may-call-vertex", "bert-deployment", "bert-vertex-connection", "bert-dataset"):
        assert run.depends_on("bert-create-remote-model", dependency), dependency
    assert run.depends_on("bert-sample-embeddings", "bert-create-remote-model")
    # A new BERT behind the same endpoint re-runs the sample table: the uploaded model is a trigger (then the rows' copy).
    assert run.statements()["bert-sample-embeddings"].inputs["triggers"][:2] == [remote.inputs["sql"], deployment["model_name"]]
    assert run.depends_on("bert-sample-embeddings", "bert-deployment")
    assert run.outputs["bertEndpoint"] == url


def test_resizing_berts_endpoint_redeploys_it_and_embeds_nothing_again(base_config: dict, runs: dict) -> None:
    # The harness gives a resized deployment a new deployed model id, as Vertex AI does.
    resized = run_program({**base_config, "models": ["bert"], "bert": {"maxReplicas": 3}})
    before = runs["bert"]
    assert set(resized.declared) == set(before.declared)
    changed = {before.declared[urn].name for urn in before.declared if _comparable(resized.declared[urn].inputs) != _comparable(before.declared[urn].inputs)}
    assert changed == {"bert-deployment"}, "the same model answers: its samples, evaluation and version stay"
    assert resized.named("bert-deployment").inputs["max_replica_count"] == 3


def test_the_entry_point_declares_the_same_program(base_config: dict, runs: dict) -> None:
    run = run_program(base_config, entry_point=True)
    assert set(run.declared) == set(runs["default"].declared)


def _custom_names(run: ProgramRun) -> set[str]:
    return {d.name for d in run.declared.values() if not d.type.startswith("bqml-text-embeddings:")}


def test_all_three_models_declare_exactly_these_resources(runs: dict, built: dict) -> None:
    objects = {f"{m}-savedmodel/{p}" for m in ("nnlm", "swivel", "bert") for p in _files(built[m])}
    assert _custom_names(runs["all"]) == objects | {
        "api-bigquery", "api-storage", "api-bigqueryconnection", "api-aiplatform", "api-artifactregistry", "dataset", "models",
        "nnlm-create-model", "swivel-create-model", *BERT_APART, "bert-artifacts", "bert-serving-images", "bert-serving-image", "bert-registry-model",
        "bert-endpoint", "bert-deployment", "bert-create-remote-model", "evaluation-reviews", "embedding-quality",
    } | _per_model(("nnlm", "swivel", "bert"), "sample-embeddings", "search-function", *EVALUATION)


def test_bert_only_declares_no_imported_models(runs: dict, built: dict) -> None:
    run = runs["bert"]
    assert _custom_names(run) == {f"bert-savedmodel/{p}" for p in _files(built["bert"])} | {
        "api-bigquery", "api-storage", "api-bigqueryconnection", "api-aiplatform", "api-artifactregistry", "dataset", "models",
        *BERT_APART, "bert-artifacts", "bert-serving-images", "bert-serving-image", "bert-registry-model", "bert-endpoint", "bert-deployment",
        "bert-create-remote-model", "bert-sample-embeddings", "bert-search-function", "evaluation-reviews", "embedding-quality",
        *_per_model(("bert",), *EVALUATION),
    }
    assert set(run.statements()) == {"bert-create-remote-model", "evaluation-reviews", "embedding-quality"} | _per_model(
        ("bert",), "sample-embeddings", "search-function", *EVALUATION
    )
    assert not any(d.name.startswith(("nnlm", "swivel")) for d in run.declared.values())
    assert run.outputs["models"] == {"bert": f"{PROJECT}.tf_models_tutorial_us_central1.bert_model"}


def test_samples_off_declares_no_sample_tables(runs: dict) -> None:
    run = runs["no_samples"]
    assert set(run.statements()) == _per_model(("nnlm", "swivel"), "create-model", *EVALUATION) | {"evaluation-reviews", "embedding-quality"}
    assert {"sampleTables", "searchQueries", "searchFunctions"}.isdisjoint(run.outputs)


def test_evaluation_off_declares_no_evaluation(runs: dict) -> None:
    run = runs["no_evaluation"]
    assert set(run.statements()) == _per_model(("nnlm", "swivel"), "create-model", "sample-embeddings", "search-function")
    assert {"embeddingQuality", "embeddingQualityTable"}.isdisjoint(run.outputs)


def test_outputs_name_everything_a_user_needs(runs: dict) -> None:
    out = runs["default"].outputs
    assert out["dataset"] == f"{PROJECT}.tf_models_tutorial"
    assert out["bucket"] == "models-bucket-1a2b3c"
    assert out["models"] == {m: f"{PROJECT}.tf_models_tutorial.{m}_model" for m in ("nnlm", "swivel")}
    assert out["sampleTables"] == {m: f"{PROJECT}.tf_models_tutorial.{m}_sample_embeddings" for m in ("nnlm", "swivel")}
    for model, query in out["predictQueries"].items():
        predict = _parse(query).find(exp.Predict)
        assert _table_name(predict.this) == f"{PROJECT}.tf_models_tutorial.{model}_model"
    assert set(out["consoleLinks"]) == {"dataset", "bucket"}
    assert out["consoleLinks"]["bucket"] == f"https://console.cloud.google.com/storage/browser/models-bucket-1a2b3c?project={PROJECT}"


def test_every_statement_parses_as_bigquery_sql(runs: dict) -> None:
    for run in runs.values():
        for statement in run.statements().values():
            for key in ("sql", "drop_sql"):
                assert _parse(statement.inputs[key]) is not None


def _comparable(inputs: dict) -> dict:
    """Assets compare by identity; compare them by what they point at."""
    return {k: ("asset", v.path) if isinstance(v, pulumi.FileAsset) else v for k, v in inputs.items()}


def test_running_twice_gives_identical_inputs(base_config: dict, runs: dict) -> None:
    again = run_program({**base_config, "models": ["nnlm", "swivel", "bert"]})
    first = runs["all"]
    assert set(again.declared) == set(first.declared)
    for urn, declared in first.declared.items():
        assert _comparable(again.declared[urn].inputs) == _comparable(declared.inputs), urn
        assert again.declared[urn].dependencies == declared.dependencies, urn
    assert again.outputs == first.outputs


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"models": ["elmo"]}, "bqml-text-embeddings:models: unknown model(s) ['elmo']"),
        ({"samplePredictions": {"column": "review; DROP TABLE x"}}, "samplePredictions.column: 'review; DROP TABLE x' is not a plain column name"),
        ({"gcp:project": ""}, "gcp:project: required"),
        ({"modelSources": {"nnlm": "/no/such/model"}}, "source nnlm: /no/such/model does not exist"),
    ],
)
def test_bad_configuration_fails_clearly_and_declares_nothing(base_config: dict, overrides: dict, message: str) -> None:
    config = {**base_config, **overrides}
    if "modelSources" in overrides:
        config["modelSources"] = {**base_config["modelSources"], **overrides["modelSources"]}
    with pytest.raises(pulumi.RunError) as failure:
        run_program(config)
    assert message in str(failure.value)
    assert "Traceback" not in str(failure.value)


def test_the_prebuilt_runtime_uploads_a_flat_artifact_with_googles_image_and_no_repository(base_config: dict, built: dict) -> None:
    run = run_program({**base_config, "models": ["bert"], "bert": {"runtime": "prebuilt-tf2-cpu.2-15"}})
    assert run.named("bert-registry-model").inputs["container"] == {"image_uri": "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"}
    for item in built["bert"].files:  # saved_model.pb at the artifact's top, as the prebuilt image wants
        assert run.named(f"bert-savedmodel/{item['path']}").inputs["name"] == f"bert_model/{built['bert'].digest[:16]}/{item['path']}"
    assert run.of_type("gcp:artifactregistry/repository:Repository") == []
    assert "api-artifactregistry" not in _names(run, "gcp:projects/service:Service")
    assert not [d for d in run.of_type(DYNAMIC) if "image" in d.inputs], "Google's prebuilt image is pulled by Google's tag"


def test_an_image_of_ones_own_needs_no_repository(base_config: dict) -> None:
    own = "us-central1-docker.pkg.dev/my-proj-123/serving/tensorflow/serving:2.20.0"
    run = run_program({**base_config, "models": ["bert"], "bert": {"servingImage": own}})
    assert run.named("bert-registry-model").inputs["container"]["image_uri"] == own
    assert run.named("bert-registry-model").inputs["container"]["command"] == ["/usr/bin/tensorflow_model_server"]
    assert run.of_type("gcp:artifactregistry/repository:Repository") == []
    assert not [d for d in run.of_type(DYNAMIC) if "image" in d.inputs], "an image of one's own is served as given"


def test_bert_that_needs_ops_its_runtime_lacks_is_refused_before_anything_is_declared(
    base_config: dict, round_robin_bert, round_robin_sources: dict
) -> None:
    from tests import pulumi_harness

    seen: list = []
    original = pulumi_harness._RecordingMonitor.RegisterResource
    pulumi_harness._RecordingMonitor.RegisterResource = lambda self, request: seen.append(request.type) or original(self, request)
    config = {**base_config, "models": ["bert"], "modelSources": {**base_config["modelSources"], **round_robin_sources}}
    try:
        with pytest.raises(pulumi.RunError) as failure:
            run_program({**config, "bert": {"runtime": "prebuilt-tf2-cpu.2-15"}})
    finally:
        pulumi_harness._RecordingMonitor.RegisterResource = original
    message = str(failure.value)
    assert message.startswith("bert cannot be served by runtime prebuilt-tf2-cpu.2-15 (")
    assert "op type(s) not registered there: TFText>RoundRobinTrim" in message
    assert "Fix: set bqml-text-embeddings:bert.runtime to tf-serving-2.20" in message
    assert [t for t in seen if t != "pulumi:pulumi:Stack"] == []
    served = run_program(config)  # the default runtime, TensorFlow Serving 2.20, has the op
    assert served.named("bert-registry-model").inputs["labels"]["bqml-te-digest"] == round_robin_bert.digest[:16]


def test_bad_configuration_declares_no_resource(base_config: dict) -> None:
    from tests import pulumi_harness

    seen: list = []
    original = pulumi_harness._RecordingMonitor.RegisterResource

    def spy(self, request):
        seen.append(request.type)
        return original(self, request)

    pulumi_harness._RecordingMonitor.RegisterResource = spy
    try:
        with pytest.raises(pulumi.RunError):
            run_program({**base_config, "bert": {"minReplicas": 2, "maxReplicas": 1}})
    finally:
        pulumi_harness._RecordingMonitor.RegisterResource = original
    assert [t for t in seen if t != "pulumi:pulumi:Stack"] == []


_WARM_RUN = (
    "import json, sys\n"
    "from tests.pulumi_harness import run_program\n"
    "run = run_program(json.loads(sys.argv[1]))\n"
    "heavy = ('tensorflow', 'tensorflow_text', 'tensorflow_hub', 'keras', 'google.api_core', 'google.cloud.bigquery', 'google.cloud.aiplatform_v1')\n"
    "print(json.dumps({'resources': len(run.declared), 'heavy': sorted({h for h in heavy for m in sys.modules if (m + '.').startswith(h + '.')})}))\n"
)


def test_a_warm_cache_evaluates_the_program_without_tensorflow_or_google_clients(base_config: dict, runs: dict) -> None:
    """A warm preview builds nothing and calls no Google API: it imports neither (seconds, hundreds of MB)."""
    result = run_python(_WARM_RUN, json.dumps({**base_config, "models": ["nnlm", "swivel", "bert"]}))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"resources": len(runs["all"].declared), "heavy": []}


_PROVIDER_HOST = (
    "import base64, json, sys\n"
    "import dill\n"
    "blobs = json.loads(sys.stdin.read())\n"
    "out = {}\n"
    "for name, blob in blobs.items():\n"
    "    provider = dill.loads(base64.b64decode(blob))\n"
    "    out[name] = type(provider).__module__ + '.' + type(provider).__name__\n"
    "out['tf'] = any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules)\n"
    "print(json.dumps(out))\n"
)


def test_pickled_providers_load_in_a_fresh_provider_host(runs: dict) -> None:
    """What the dynamic-provider host does: unpickle __provider, from the project directory."""
    run = runs["all"]
    # The provider is stored as a secret: {<secret signature>: ..., "value": base64 pickle}.
    blobs = {
        name: run.named(name).inputs["__provider"]["value"]
        for name in ("nnlm-create-model", "bert-registry-model", "bert-deployment", "bert-sample-source")
    }
    result = subprocess.run([sys.executable, "-c", _PROVIDER_HOST], input=json.dumps(blobs), cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "nnlm-create-model": "bqml_text_embeddings.bigquery.statement.BigQueryStatementProvider",
        "bert-registry-model": "bqml_text_embeddings.vertex.resources.VertexModelProvider",
        "bert-deployment": "bqml_text_embeddings.vertex.resources.VertexDeploymentProvider",
        "bert-sample-source": "bqml_text_embeddings.bigquery.row_copy.RowCopyProvider",
        "tf": False,
    }


def test_a_cold_build_that_fails_names_its_model_declares_nothing_and_keeps_the_others(
    base_config: dict, hub_sources: dict, tmp_path: Path
) -> None:
    from tests import pulumi_harness

    seen: list[str] = []
    original = pulumi_harness._RecordingMonitor.RegisterResource
    pulumi_harness._RecordingMonitor.RegisterResource = lambda self, request: seen.append(request.type) or original(self, request)
    config = {
        **base_config,
        "buildDir": str(tmp_path),
        "buildJobs": 2,
        "modelSources": {**base_config["modelSources"], "swivel": str(hub_sources["non_text"])},
    }
    try:
        with pytest.raises(pulumi.RunError) as failure:
            run_program(config)
    finally:
        pulumi_harness._RecordingMonitor.RegisterResource = original
    assert str(failure.value).startswith("source swivel: ")
    assert "is not a text-embedding model: calling it on a batch of strings failed" in str(failure.value)
    assert "(nnlm built and cached)" in str(failure.value)
    assert [t for t in seen if t != "pulumi:pulumi:Stack"] == []
    assert [p.name.split("-")[0] for p in tmp_path.iterdir() if p.name != CORE_OPS_DIR] == ["nnlm"]


def test_build_jobs_reach_the_builder(base_config: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from stack import config, program

    calls: list[dict] = []
    monkeypatch.setattr(program, "ensure_all_built", lambda requested, build_dir, **kw: calls.append(kw) or {})
    settings = config.parse({"project": PROJECT, "buildJobs": 3, "models": ["nnlm", "textembedding"]})
    program.build_models(settings)
    assert calls[0]["jobs"] == 3
    program.build_models(config.parse({"project": PROJECT}))
    assert calls[1]["jobs"] is None  # the builder's default: one per core
