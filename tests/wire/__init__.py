"""Servers on 127.0.0.1 that speak the subset of Google's APIs this project uses.

The real client libraries talk to them over the wire; every request is decoded
into the API's own types (BigQuery: its discovery document; Vertex AI: the
aiplatform_v1 protobuf messages) and faults are injected where a real server
would produce them.
"""
