"""Tutorial step 4, shared: the Cloud resource connection remote models call Vertex AI through.

A connection lives in the location of the dataset whose remote models use it
(`bigqueryml-syntax-create-remote-model-https`). One connection and one grant
serve every remote model of the stack's dataset (BERT's endpoint, a managed
embedding model); BERT in a dataset of its own in gcp:region gets its own.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from bqml_text_embeddings.naming import connection_id

IDENTITY_PROPAGATION = "120s"  # magic-modules' own tests wait 120 s for this identity


class VertexConnection(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        project: str,
        location: str,
        dataset: str,
        services: dict[str, gcp.projects.Service],
        prefix: str = "",
        friendly_name: str = "Vertex AI for the stack's remote models",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`prefix` names the children apart (bert-…) from the stack's connection's, which keep their names."""
        super().__init__("bqml-text-embeddings:bigquery:VertexConnection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.connection = gcp.bigquery.Connection(
            f"{prefix}vertex-connection",
            project=project,
            location=location,
            connection_id=connection_id(dataset),
            friendly_name=friendly_name,
            cloud_resource={},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[services["bigqueryconnection.googleapis.com"]]),
        )
        # What CREATE MODEL ... REMOTE WITH CONNECTION names: project.location.connection_id.
        self.reference = f"{project}.{location.lower()}.{connection_id(dataset)}"
        service_account = self.connection.cloud_resource.apply(lambda c: c.service_account_id if c else None)
        # A brand-new connection's service account is not yet known to IAM ("Service account ... does
        # not exist"), and the provider retries that only if the policy changed meanwhile. Wait once,
        # when the identity is new (the trigger), as Google's blueprints do with time_sleep.
        self.identity_propagation = pulumi_time.Sleep(
            f"{prefix}connection-identity-propagation",
            create_duration=IDENTITY_PROPAGATION,
            triggers={"service_account": service_account},
            opts=child,
        )
        self.grant = gcp.projects.IAMMember(
            f"{prefix}connection-may-call-vertex",
            project=project,
            role="roles/aiplatform.user",
            member=pulumi.Output.concat("serviceAccount:", service_account),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.identity_propagation]),
        )
        self.register_outputs({"connection": self.reference})
