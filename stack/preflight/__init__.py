"""`./dev preflight`: what the stack assumes of a project, checked with read-only calls before the first `pulumi up`.

One module per concern: the stack's config (`stack_config`), the APIs (`apis`), the deployer's
permissions (`permissions`), the source tables (`tables`), BERT's serving image (`image`) and the
quotas that bound a first fill (`quotas`); `report` is the lines they print, `rest` the REST calls
for the APIs no pinned client library covers, `__main__` the command. Every check takes its
clients as parameters; Google's libraries are imported only where a client is made.
"""
