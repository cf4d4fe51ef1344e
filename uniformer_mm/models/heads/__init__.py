"""Heads for the codebases' own models, one module per codebase.

They subclass the codebases' head classes, so each module imports its codebase: a config imports the module it
needs next to the backbones, e.g. ``custom_imports=dict(imports=['uniformer_mm',
'uniformer_mm.models.heads.classification'])`` for mmpretrain (:mod:`.classification`) or
``'uniformer_mm.models.heads.recognition'`` for mmaction2 (:mod:`.recognition`), and processes that build no
such head do not import those codebases.
"""
