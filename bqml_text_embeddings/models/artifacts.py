"""A built SavedModel uploaded as bucket objects, one per file (the tutorial's step 2)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.build import BuiltModel
from bqml_text_embeddings.naming import artifact_prefix


class ModelArtifact(pulumi.ComponentResource):
    """The files of one build under gs://BUCKET/<model>_model/<digest>/[<version_dir>].

    `version_dir` ("1/") is for TensorFlow Serving, which serves numbered version
    directories under its model base path; `uri` stays the base.
    """

    def __init__(
        self,
        name: str,
        built: BuiltModel,
        bucket: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        version_dir: str = "",
    ) -> None:
        super().__init__("bqml-text-embeddings:storage:ModelArtifact", name, None, opts)
        self.prefix = artifact_prefix(built.model, built.digest)
        # Resource names follow the file path (stable); the object name carries the digest,
        # so a new build replaces objects create-before-delete and never overwrites them.
        self.objects = [
            gcp.storage.BucketObject(
                f"{name}/{item['path']}",
                bucket=bucket,
                name=f"{self.prefix}{version_dir}{item['path']}",
                source=pulumi.FileAsset(str(built.path / item["path"])),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for item in built.files
        ]
        self.uri = pulumi.Output.concat("gs://", bucket, "/", self.prefix)
        self.register_outputs({"uri": self.uri})
