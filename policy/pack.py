"""The rules as pulumi_policy ResourceValidationPolicy objects."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from bqml_policies import RULES, Rule

PACK_NAME = "bqml-text-embeddings-guardrails"


def _policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for problem in rule.check(args.resource_type, args.props, args.get_config() or {}):
            report_violation(problem, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema(rule.config_schema) if rule.config_schema else None,
    )


def policies() -> list[ResourceValidationPolicy]:
    return [_policy(rule) for rule in RULES]
