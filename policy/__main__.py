"""The policy pack: `pulumi preview --policy-pack policy` (see docs/operations.md, "Policy pack")."""

from pulumi_policy import PolicyPack

from pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
