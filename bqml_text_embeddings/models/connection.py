"""The BigQuery Cloud resource connection remote models call Vertex AI through.

A connection lives in the location of the dataset whose remote models use it
(`bigqueryml-syntax-create-remote-model-https`). One connection and one grant
serve every remote model of a dataset (BERT's endpoint, a managed embedding model).
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from bqml_text_embeddings import validate
from bqml_text_embeddings.args import checked, opts_after

TYPE = "bqml-text-embeddings:index:VertexConnection"
IDENTITY_PROPAGATION = "120s"  # magic-modules' own tests wait 120 s for this identity


class VertexConnectionArgs(TypedDict):
    project: str
    """The Google Cloud project the connection and its grant belong to."""
    location: str
    """The BigQuery location of the datasets whose remote models call through it (US, EU or a region)."""
    connection_id: str
    """The connection's id, e.g. `mydataset_vertex`."""
    friendly_name: NotRequired[str]
    """A name people read in the console."""


class VertexConnection(pulumi.ComponentResource):
    """A BigQuery Cloud resource connection to Vertex AI, and its service account's grant to call it (roles/aiplatform.user, a non-authoritative member)."""

    reference: pulumi.Output[str]
    """What `CREATE MODEL … REMOTE WITH CONNECTION` names: project.location.connection_id; a remote model's `connection`."""
    service_account: pulumi.Output[str]
    """The connection's own identity, granted roles/aiplatform.user on the project."""

    def __init__(self, name: str, args: VertexConnectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        project, location, connection_id = checked(
            f"VertexConnection {name}",
            args,
            project=validate.project_id,
            location=validate.location,
            connection_id=validate.dataset_id,
        )
        # The tutorial's connection, `vertex`, keeps its children's first names.
        prefix = "" if name == "vertex" else f"{name.removesuffix('-vertex')}-"
        self.connection = gcp.bigquery.Connection(
            f"{prefix}vertex-connection",
            project=project,
            location=location,
            connection_id=connection_id,
            friendly_name=args.get("friendly_name", "Vertex AI for BigQuery's remote models"),
            cloud_resource={},
            opts=opts_after(self, opts),
        )
        self.reference_id = f"{project}.{location.lower()}.{connection_id}"
        self.reference = pulumi.Output.from_input(self.reference_id)
        self.service_account = self.connection.cloud_resource.apply(lambda c: c.service_account_id if c else None)
        # A brand-new connection's service account is not yet known to IAM ("Service account ... does
        # not exist"), and the provider retries that only if the policy changed meanwhile. Wait once,
        # when the identity is new (the trigger), as Google's blueprints do with time_sleep.
        self.identity_propagation = pulumi_time.Sleep(
            f"{prefix}connection-identity-propagation",
            create_duration=IDENTITY_PROPAGATION,
            triggers={"service_account": self.service_account},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grant = gcp.projects.IAMMember(
            f"{prefix}connection-may-call-vertex",
            project=project,
            role="roles/aiplatform.user",
            member=pulumi.Output.concat("serviceAccount:", self.service_account),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.identity_propagation]),
        )
        self.register_outputs({"reference": self.reference, "service_account": self.service_account})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What a remote model waits for: the connection, and its identity's grant."""
        return [self.connection, self.grant]


