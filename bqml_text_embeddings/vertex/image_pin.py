"""A serving image pinned by digest at the first `pulumi up`, and kept there: `ImagePin`.

TensorFlow Serving's image comes from Docker Hub by tag (`tensorflow/serving:2.20.0`), and whoever
owns a tag can move it to other bytes. Vertex AI ingests the image it is given at each upload, so a
later upload of BERT (a rebuilt model) would take whatever the tag names then, and the op registry
BERT was judged against (build/runtimes.py) would no longer be the one serving it. So the stack
resolves the tag once, through the Artifact Registry remote repository Vertex AI pulls from, and
uploads `HOST/PATH@sha256:…` from then on. The digest lives in the stack's state: `pulumi refresh`
and later runs keep it and show it; another image path (a runtime's new tag, another project, region
or repository) pins again, and so does `pulumi up --replace` on the pin.

How: the manifest's HEAD through the Docker Registry HTTP API that Artifact Registry serves
(`https://HOST/v2/PROJECT/REPOSITORY/IMAGE/manifests/TAG` with an OAuth access token,
artifact-registry/docs/reference/docker-api), answered with `Docker-Content-Digest`, the digest a
pull of the tag resolves to: for a multi-platform tag, its index, whose bytes fix every platform's
manifest. A HEAD transfers no layers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from bqml_text_embeddings import retry, validate

# What a registry may answer for a manifest: Docker's and OCI's single-platform and multi-platform forms.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class ImagePinError(Exception):
    """The image could not be pinned: what was asked, the registry's answer, and the fix."""


def split(image: str) -> tuple[str, str, str]:
    """HOST, PATH and what a pull asks for: the digest where there is one (it decides), else the tag."""
    match = validate.IMAGE_RE.fullmatch(image)
    if match is None:
        raise ValueError(f"{image!r} is not an image URI with a tag or a digest")
    return match["host"], match["path"], match["digest"] or match["tag"]


@dataclass
class Registry:
    """A Docker registry host's root URL, over an authorized session (google-auth's AuthorizedSession)."""

    session: Any
    root: str
    sleep: Callable[[float], None] = time.sleep


def adc_registry(host: str) -> Registry:
    """The registry at https://HOST with Application Default Credentials."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=_SCOPES)
    return Registry(AuthorizedSession(credentials), f"https://{host}")


def _transient(exc: BaseException) -> bool:
    """Worth another try: a 429 or 5xx, a dropped or timed-out connection, a token endpoint out of reach."""
    import requests
    from google.auth import exceptions as auth_errors

    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate problem does not fix itself in minutes
    return retry.is_transient(exc) or isinstance(exc, (requests.ConnectionError, requests.Timeout, auth_errors.TransportError))


def resolve(connect: Callable[[str], Registry], image: str) -> str:
    """The digest (sha256:…) that `image` (HOST/PATH:TAG) resolves to now, as a pull would."""
    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_errors

    host, path, reference = split(image)
    fix = "or set bert.servingImage (BertEmbeddingModel: serving_image) to an image@sha256:… of your own"
    login = "run `gcloud auth application-default login` (in CI: the deploy job's Workload Identity)"
    try:
        registry = connect(host)
    except auth_errors.DefaultCredentialsError as exc:
        raise ImagePinError(f"pinning {image}: no Application Default Credentials ({exc}); {login}") from exc
    url = f"{registry.root.rstrip('/')}/v2/{path}/manifests/{reference}"

    def head() -> Any:
        response = registry.session.request("HEAD", url, headers={"Accept": MANIFEST_TYPES}, timeout=60)
        if response.status_code >= 400:
            raise gexc.from_http_response(response)
        return response

    try:
        response = retry.call(head, _transient, retry.TRANSIENT, registry.sleep)
    except retry.RetriesExhausted as exc:
        raise ImagePinError(
            f"pinning {image}: the registry still fails after {exc.waited:.0f}s of retries ({exc.last}); run `pulumi up` again later"
        ) from exc.last
    except auth_errors.RefreshError as exc:
        raise ImagePinError(f"pinning {image}: the deployer's credentials could not be refreshed ({exc}); {login}") from exc
    except gexc.NotFound as exc:
        raise ImagePinError(
            f"pinning {image}: no such image ({exc.code}); check the runtime's tag in build/runtimes.py, {fix}"
        ) from exc
    except gexc.Unauthorized as exc:
        raise ImagePinError(
            f"pinning {image}: the registry did not accept the deployer's credentials ({exc.code}); {login}"
        ) from exc
    except gexc.Forbidden as exc:
        raise ImagePinError(
            f"pinning {image}: the registry refused the deployer ({exc.code}); it needs artifactregistry.repositories.downloadArtifacts "
            f"on the repository (roles/artifactregistry.reader, or the admin role it was made with), {fix}"
        ) from exc
    except requests.RequestException as exc:  # not retried: a certificate or a URL that will not change by waiting
        raise ImagePinError(f"pinning {image}: cannot reach {registry.root}: {exc}") from exc
    except gexc.GoogleAPICallError as exc:
        raise ImagePinError(f"pinning {image}: the registry answered {exc.code}: {exc.message}; {fix}") from exc
    digest = response.headers.get("Docker-Content-Digest", "")
    if not validate.DIGEST_RE.fullmatch(digest):
        raise ImagePinError(
            f"pinning {image}: the registry answered without a sha256 digest (Docker-Content-Digest {digest!r}); {fix}"
        )
    return digest


def pinned(image: str, digest: str) -> str:
    """HOST/PATH@DIGEST: what Vertex AI pulls once `image` is pinned."""
    host, path, _reference = split(image)
    return f"{host}/{path}@{digest}"


class ImagePinProvider(ResourceProvider):
    """Keep this class small and stable: its pickled code is part of every resource's inputs."""

    def __init__(self, registry: Callable[[str], Registry] = adc_registry) -> None:
        self._registry = registry

    def create(self, props: dict[str, Any]) -> CreateResult:
        image = props["image"]
        digest = resolve(self._registry, image)
        return CreateResult(pinned(image, digest), {**props, "digest": digest, "pinned": pinned(image, digest)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # a pin does not move on `pulumi refresh`: that is what it is for

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Only the image counts, not `__provider` (an edit of this code). In a preview where the repository is
        # replaced, the image is unknown and the pin shows as replaced too; `pulumi up` diffs known values.
        moved = olds.get("image") != news.get("image")
        return DiffResult(changes=moved, replaces=["image"] if moved else [], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "digest": olds["digest"], "pinned": olds["pinned"]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to remove: the pin exists only in the stack's state."""


class ImagePin(pulumi.dynamic.Resource):
    """`image` (HOST/PATH:TAG) resolved to its digest at creation: `pinned` is HOST/PATH@sha256:…"""

    digest: pulumi.Output[str]
    pinned: pulumi.Output[str]

    def __init__(
        self, name: str, image: pulumi.Input[str], opts: pulumi.ResourceOptions, provider: ResourceProvider | None = None
    ) -> None:
        super().__init__(provider or ImagePinProvider(), name, {"image": image, "digest": None, "pinned": None}, opts)
