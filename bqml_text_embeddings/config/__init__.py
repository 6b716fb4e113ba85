"""What users set, and the rules it must follow: one table of keys for the stack's config and the components' arguments.

Every value that reaches SQL or a resource name is checked against what BigQuery or Vertex AI
accept (bqml_text_embeddings/validate.py); an error names the key (or the argument) and the fix.

    keys.py, corpus_keys.py  the keys: defaults, bounds, fixes, their documentation (docs/configuration.md)
    rules.py                 the limits and choices those take, with why
    field.py                 what a key is
    settings.py              what the validated configuration means (Settings and its parts)
    parsing.py               parse(): the top-level keys, then each section
    sections.py, bert.py, corpora.py   the sections
    placement.py             where BERT's remote model may live
    unknown.py               keys nobody reads, and the nearest known one
    problems.py              ConfigError: every problem, each naming its key

The stack reads these from Pulumi's config (stack/config); TextEmbeddingsTutorial and
BertEmbeddingModel from their arguments (tutorial/spec.py, args.by_config_rules).
"""
