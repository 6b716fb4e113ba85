"""BERT's serving image: resolvable where Vertex AI will pull it from (only when `bert` is among the models).

Which image (bqml_text_embeddings/models/bert.py, build/runtimes.py): the runtime's own, TensorFlow
Serving's Docker Hub image through the Artifact Registry remote repository the stack makes in
gcp:region (`bqml-te-STACK`); Vertex AI's prebuilt image for a prebuilt runtime; or
`bert.servingImage`.

How: the image's manifest, read with a HEAD through the Docker Registry HTTP API that Artifact
Registry serves (`https://HOST/v2/PROJECT/REPOSITORY/IMAGE/manifests/TAG`, authenticated with an
access token, as artifact-registry/docs/reference/docker-api shows). It resolves a tag or a
digest exactly as a pull does, and through a remote repository it is the only read that reaches
the upstream: the Artifact Registry API (`dockerImages.get`, `tags.get`) lists only what the
repository has cached already. A HEAD transfers no layers; a remote repository may cache the
manifest it fetched, as it would for Vertex AI's own pull. The remote repository itself is read
with the Artifact Registry API's `repositories.get`: before the first `pulumi up` it does not
exist, and nothing can be pulled through it yet.
"""

from __future__ import annotations

from collections.abc import Callable

from bqml_text_embeddings.build import runtimes
from bqml_text_embeddings.config.bert import prebuilt_image
from bqml_text_embeddings.naming import serving_repository_id
from bqml_text_embeddings.vertex.image_pin import MANIFEST_TYPES, split
from stack.config import NAMESPACE, Settings
from stack.preflight import rest
from stack.preflight.report import Line, fail, note, ok

CHECK = "image"


def check(artifacts: rest.Rest, registry: Callable[[str], rest.Rest], settings: Settings, stack: str) -> list[Line]:
    if not settings.with_bert:
        return []
    runtime = runtimes.get(settings.bert.runtime)
    if settings.bert.serving_image is not None:
        # A prebuilt runtime's own image is what the config puts there when bert.servingImage is not set.
        own = runtime.prebuilt and settings.bert.serving_image == prebuilt_image(runtime, settings.region)
        option = f"{NAMESPACE}:bert.runtime" if own else f"{NAMESPACE}:bert.servingImage"
        return [_manifest(registry, settings.bert.serving_image, option)]
    repository_id = serving_repository_id(stack)
    name = f"projects/{settings.project}/locations/{settings.region}/repositories/{repository_id}"
    image = f"{settings.region}-docker.pkg.dev/{settings.project}/{repository_id}/{runtime.image}"
    try:
        repository = artifacts.get(f"v1/{name}")
    except Exception as exc:  # noqa: BLE001 - judged below
        return [_repository_unread(exc, name, image)]
    upstream = (repository.get("remoteRepositoryConfig") or {}).get("dockerRepository", {}).get("publicRepository")
    if repository.get("mode") != "REMOTE_REPOSITORY" or upstream != "DOCKER_HUB":
        return [
            fail(
                CHECK,
                f"{name} exists and is not a Docker Hub remote repository (mode {repository.get('mode')}, upstream {upstream}): "
                f"the stack makes its own there. Delete it, use another stack name, or set {NAMESPACE}:bert.servingImage",
            )
        ]
    return [ok(CHECK, f"{name} is a Docker Hub remote repository"), _manifest(registry, image, "the stack's remote repository")]


def _manifest(registry: Callable[[str], rest.Rest], image: str, option: str) -> Line:
    from google.api_core import exceptions as gexc

    host, path, reference = split(image)
    try:
        headers = registry(host).head(f"v2/{path}/manifests/{reference}", {"Accept": MANIFEST_TYPES})
    except gexc.NotFound:
        return fail(CHECK, f"{image} ({option}) does not exist: push it there, or fix the reference (Vertex AI would refuse the model at upload)")
    except (gexc.Unauthorized, gexc.Forbidden) as exc:
        return note(
            CHECK,
            f"{image} ({option}): cannot read its manifest with your credentials ({exc.code}): the preflight cannot tell whether "
            "it exists. Vertex AI pulls it with its own service agent; `gcloud artifacts docker images describe` shows it to a reader",
        )
    except Exception as exc:  # noqa: BLE001 - any other refusal is reported as it came
        return fail(CHECK, f"{image} ({option}): reading its manifest failed: {rest.message(exc)}")
    digest = {k.lower(): v for k, v in headers.items()}.get("docker-content-digest", "")
    return ok(CHECK, f"{image} resolves{f' to {digest}' if digest else ''} ({option})")


def _repository_unread(exc: BaseException, name: str, image: str) -> Line:
    from google.api_core import exceptions as gexc

    later = (
        f"whether {image} resolves through it can be checked only once it exists: run ./dev preflight again after the "
        "first `pulumi up` (the upload that uses it comes later in the same `up`)"
    )
    if isinstance(exc, gexc.NotFound):
        return note(CHECK, f"{name} does not exist yet; the first `pulumi up` makes it (a Docker Hub remote repository): {later}")
    if rest.service_disabled(exc):
        return note(CHECK, f"the Artifact Registry API is off, and the first `pulumi up` turns it on and makes {name}: {later}")
    return fail(CHECK, f"cannot read {name}: {rest.message(exc)} (the deployer needs artifactregistry.repositories.get)")
