"""Descriptions of model fields that have none in the code yet, for the reference pages.

Each entry is ``Model.key`` -> the text ``Field(description=...)`` should hold. The models
are the one source: every field now carries its own description, so this is empty. Use it
only as a stopgap; ``scripts/docs_reference.py`` prints which entries are still in use, and
each belongs in its model.
"""

#: ``Model.key`` -> description, for fields whose model has none yet (move them there).
FALLBACK: dict[str, str] = {}
