"""Recommendations learned from the click stream: per-user state, the item-to-item model, its
training and evaluation, and the synthetic click-stream generator.

Import from the modules: ``state`` (``UserState``, no torch), ``recommender`` (``Recommender``),
``training`` (``train_version``), ``synthetic`` (``generate_clicks``), ``evaluation``.
"""
