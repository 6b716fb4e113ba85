"""The Vertex AI Model Registry and endpoints: dynamic resources and the calls under them."""
