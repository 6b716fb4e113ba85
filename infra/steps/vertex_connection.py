"""Tutorial step 4, shared: the Cloud resource connection remote models call Vertex AI through.

One connection and one grant serve every remote model of the stack (BERT's
endpoint, a managed embedding model), whichever of them are chosen.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from infra.config import Settings
from infra.naming import connection_id

IDENTITY_PROPAGATION = "120s"  # magic-modules' own tests wait 120 s for this identity


class VertexConnection(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        services: dict[str, gcp.projects.Service],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:VertexConnection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.connection = gcp.bigquery.Connection(
            "vertex-connection",
            project=settings.project,
            location=settings.location,
            connection_id=connection_id(settings),
            friendly_name="Vertex AI for the stack's remote models",
            cloud_resource={},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[services["bigqueryconnection.googleapis.com"]]),
        )
        # What CREATE MODEL ... REMOTE WITH CONNECTION names: project.location.connection_id.
        self.reference = f"{settings.project}.{settings.location.lower()}.{connection_id(settings)}"
        service_account = self.connection.cloud_resource.apply(lambda c: c.service_account_id if c else None)
        # A brand-new connection's service account is not yet known to IAM ("Service account ... does
        # not exist"), and the provider retries that only if the policy changed meanwhile. Wait once,
        # when the identity is new (the trigger), as Google's blueprints do with time_sleep.
        self.identity_propagation = pulumi_time.Sleep(
            "connection-identity-propagation",
            create_duration=IDENTITY_PROPAGATION,
            triggers={"service_account": service_account},
            opts=child,
        )
        self.grant = gcp.projects.IAMMember(
            "connection-may-call-vertex",
            project=settings.project,
            role="roles/aiplatform.user",
            member=pulumi.Output.concat("serviceAccount:", service_account),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.identity_propagation]),
        )
        self.register_outputs({"connection": self.reference})
