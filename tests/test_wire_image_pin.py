"""TensorFlow Serving's tag pinned by digest (ImagePinProvider), through google-auth's AuthorizedSession on the wire.

The registry is tests/wire/preflight_servers.py's Artifact Registry: it serves the Docker Registry
HTTP API's manifest HEAD for a Docker Hub remote repository, checks the request (a manifest media
type in Accept, a Bearer token) and injects faults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials

from bqml_text_embeddings.vertex.image_pin import ImagePinError, ImagePinProvider, Registry, adc_registry
from tests.wire.preflight_servers import ArtifactRegistryServer
from tests.wire.rest_server import DROPPED, TOKEN, http_error

PROJECT = "my-proj-123"
HOST = "us-central1-docker.pkg.dev"
IMAGE = f"{HOST}/{PROJECT}/bqml-te-dev/tensorflow/serving:2.20.0"
DIGEST = "sha256:" + "ab12" * 16
MOVED = "sha256:" + "cd34" * 16
HEAD = ArtifactRegistryServer.MANIFEST


@pytest.fixture
def registry() -> Iterator[ArtifactRegistryServer]:
    server = ArtifactRegistryServer(PROJECT).start()
    server.add_remote_repository("us-central1", "bqml-te-dev")
    server.docker_hub["tensorflow/serving:2.20.0"] = DIGEST
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def pinner(
    registry: ArtifactRegistryServer, sleeps: list[float], credentials: Credentials, root: str = "", **session: object
) -> ImagePinProvider:
    """A provider whose every registry host lands on the test server (recorded in `registry.hosts`)."""

    def connect(host: str) -> Registry:
        registry.hosts.append(host)
        return Registry(AuthorizedSession(credentials, **session), root or registry.url, sleep=sleeps.append)

    return ImagePinProvider(registry=connect)


@pytest.fixture
def provider(registry: ArtifactRegistryServer, sleeps: list[float]) -> ImagePinProvider:
    # A fixed token that cannot be refreshed: a 401 comes back as the server sent it, as it does
    # to ADC once google-auth's own refresh and retry did not help.
    return pinner(registry, sleeps, Credentials(token=TOKEN), refresh_status_codes=())


def test_the_tag_is_resolved_once_to_the_digest_a_pull_would_take(
    provider: ImagePinProvider, registry: ArtifactRegistryServer
) -> None:
    created = provider.create({"image": IMAGE, "digest": None, "pinned": None})
    pinned = f"{HOST}/{PROJECT}/bqml-te-dev/tensorflow/serving@{DIGEST}"
    assert created.id == pinned
    assert created.outs == {"image": IMAGE, "digest": DIGEST, "pinned": pinned}
    (call,) = registry.called(HEAD)
    assert call["params"] == {"name": f"{PROJECT}/bqml-te-dev/tensorflow/serving", "reference": "2.20.0"}
    assert "application/vnd.oci.image.index.v1+json" in call["headers"]["Accept"]
    assert "application/vnd.docker.distribution.manifest.v2+json" in call["headers"]["Accept"]
    assert registry.hosts == [HOST] and registry.problems == []


def test_the_pin_holds_when_the_tag_moves_and_a_new_tag_pins_again(
    provider: ImagePinProvider, registry: ArtifactRegistryServer
) -> None:
    outs = provider.create({"image": IMAGE, "digest": None, "pinned": None}).outs
    registry.docker_hub["tensorflow/serving:2.20.0"] = MOVED  # someone moved the tag on Docker Hub
    read = provider.read(outs["pinned"], outs)
    assert (read.id, read.outs) == (outs["pinned"], outs)
    # An edit of the provider's code changes `__provider`, and keeps the pin.
    same = provider.diff(
        outs["pinned"],
        {**outs, "__provider": "old code"},
        {"image": IMAGE, "digest": None, "pinned": None, "__provider": "new code"},
    )
    assert not same.changes and not same.replaces
    assert len(registry.called(HEAD)) == 1, "refresh and diff ask the registry nothing"
    assert provider.update(outs["pinned"], outs, {"image": IMAGE, "digest": None, "pinned": None}).outs == outs

    newer = IMAGE.replace("2.20.0", "2.21.0")
    registry.docker_hub["tensorflow/serving:2.21.0"] = MOVED
    moved = provider.diff(outs["pinned"], outs, {"image": newer, "digest": None, "pinned": None})
    assert moved.changes and moved.replaces == ["image"] and moved.delete_before_replace is False
    assert provider.create({"image": newer, "digest": None, "pinned": None}).outs["digest"] == MOVED
    provider.delete(outs["pinned"], outs)
    assert len(registry.called(HEAD)) == 2, "deleting a pin calls nothing"


def test_transient_failures_and_dropped_connections_are_retried(
    provider: ImagePinProvider, registry: ArtifactRegistryServer, sleeps: list[float]
) -> None:
    registry.inject(HEAD, http_error(503, "The service is currently unavailable."), DROPPED, http_error(429, "Quota exceeded"))
    assert provider.create({"image": IMAGE, "digest": None, "pinned": None}).outs["digest"] == DIGEST
    assert len(registry.called(HEAD)) == 4 and sleeps == [2.0, 4.0, 8.0]


def test_a_registry_that_keeps_failing_is_one_error_after_the_deadline(
    provider: ImagePinProvider, registry: ArtifactRegistryServer, sleeps: list[float]
) -> None:
    registry.inject(HEAD, *[http_error(503, "The service is currently unavailable.")] * 20)
    with pytest.raises(ImagePinError) as failure:
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    assert str(failure.value).startswith(f"pinning {IMAGE}: the registry still fails after 242s of retries")
    assert "run `pulumi up` again later" in str(failure.value)
    assert sum(sleeps) == 242.0 and len(registry.called(HEAD)) == 9


def test_a_refusal_names_the_permission_and_the_way_out(provider: ImagePinProvider, registry: ArtifactRegistryServer) -> None:
    registry.inject(HEAD, http_error(403, "Permission 'artifactregistry.repositories.downloadArtifacts' denied"))
    with pytest.raises(ImagePinError) as failure:
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    message = str(failure.value)
    assert message.startswith(f"pinning {IMAGE}: the registry refused the deployer (403)")
    assert "artifactregistry.repositories.downloadArtifacts" in message and "bert.servingImage" in message
    assert len(registry.called(HEAD)) == 1, "a refusal is not retried"


@pytest.mark.parametrize(
    "refreshing, words",
    [
        (False, "the registry did not accept the deployer's credentials (401); "),
        # AuthorizedSession as ADC uses it: a 401 makes it refresh the token, which a token without a refresh token cannot.
        (True, "the deployer's credentials could not be refreshed ("),
    ],
)
def test_credentials_the_registry_does_not_accept_say_how_to_log_in(
    registry: ArtifactRegistryServer, sleeps: list[float], refreshing: bool, words: str
) -> None:
    provider = pinner(registry, sleeps, Credentials(token=TOKEN), **({} if refreshing else {"refresh_status_codes": ()}))
    registry.inject(HEAD, http_error(401, "Request had invalid authentication credentials."))
    with pytest.raises(ImagePinError) as failure:
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    assert str(failure.value).startswith(f"pinning {IMAGE}: {words}")
    assert "run `gcloud auth application-default login`" in str(failure.value)
    assert len(registry.called(HEAD)) == 1 and sleeps == []


def test_a_token_endpoint_out_of_reach_is_retried_then_one_error(registry: ArtifactRegistryServer, sleeps: list[float]) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on: the token refresh cannot connect
        closed.bind(("127.0.0.1", 0))
        token_uri = f"http://127.0.0.1:{closed.getsockname()[1]}/token"
    expired = Credentials(token=None, refresh_token="r", client_id="c", client_secret="s", token_uri=token_uri)
    provider = pinner(registry, sleeps, expired)
    with pytest.raises(ImagePinError, match=r"the registry still fails after 242s of retries"):
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    assert len(sleeps) == 8 and registry.called(HEAD) == [], "no request without a token"


def test_a_tls_failure_is_not_retried(registry: ArtifactRegistryServer, sleeps: list[float]) -> None:
    tls = registry.url.replace("http://", "https://")  # a TLS handshake with a plain HTTP server fails
    provider = pinner(registry, sleeps, Credentials(token=TOKEN), root=tls)
    with pytest.raises(ImagePinError) as failure:
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    assert str(failure.value).startswith(f"pinning {IMAGE}: cannot reach {tls}: ")
    assert sleeps == []


def test_another_refusal_is_reported_with_the_registrys_words(
    provider: ImagePinProvider, registry: ArtifactRegistryServer
) -> None:
    registry.inject(HEAD, http_error(400, "invalid repository name"))
    with pytest.raises(ImagePinError) as failure:
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    assert str(failure.value).startswith(f"pinning {IMAGE}: the registry answered 400: ")
    assert len(registry.called(HEAD)) == 1


def test_no_application_default_credentials_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.auth import exceptions as auth_errors

    def no_credentials(**_kwargs: object) -> None:
        raise auth_errors.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    with pytest.raises(ImagePinError) as failure:
        ImagePinProvider().create({"image": IMAGE, "digest": None, "pinned": None})
    assert str(failure.value) == (
        f"pinning {IMAGE}: no Application Default Credentials (Your default credentials were not found.); "
        "run `gcloud auth application-default login` (in CI: the deploy job's Workload Identity)"
    )


def test_the_registry_is_the_images_host_with_application_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth

    credentials = Credentials(token=TOKEN)
    asked: list[object] = []
    monkeypatch.setattr(google.auth, "default", lambda **kwargs: asked.append(kwargs) or (credentials, PROJECT))
    found = adc_registry(HOST)
    assert found.root == f"https://{HOST}"
    assert isinstance(found.session, AuthorizedSession) and found.session.credentials is credentials
    assert asked == [{"scopes": ("https://www.googleapis.com/auth/cloud-platform",)}]


def test_a_tag_docker_hub_does_not_have_is_named(provider: ImagePinProvider, registry: ArtifactRegistryServer) -> None:
    missing = IMAGE.replace("2.20.0", "9.9.9")
    with pytest.raises(ImagePinError) as failure:
        provider.create({"image": missing, "digest": None, "pinned": None})
    assert str(failure.value).startswith(f"pinning {missing}: no such image (404); check the runtime's tag in build/runtimes.py")


def test_an_answer_without_a_sha256_digest_pins_nothing(provider: ImagePinProvider, registry: ArtifactRegistryServer) -> None:
    registry.docker_hub["tensorflow/serving:2.20.0"] = ""  # a registry that names no Docker-Content-Digest
    with pytest.raises(ImagePinError, match=r"answered without a sha256 digest \(Docker-Content-Digest ''\)"):
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
    registry.docker_hub["tensorflow/serving:2.20.0"] = "sha512:" + "ab" * 64
    with pytest.raises(ImagePinError, match="answered without a sha256 digest"):
        provider.create({"image": IMAGE, "digest": None, "pinned": None})
