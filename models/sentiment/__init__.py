"""Sentence sentiment (negative / neutral / positive): version 1 = a head on the frozen shared text
encoder, version 2 = the encoder fine-tuned end to end with a three-class head.

* :mod:`channelpulse.models.sentiment.data` - :class:`TextDataset`, VADER/table loaders, the fixed hash split
* :mod:`channelpulse.models.sentiment.labels` - rating -> label mapping, score = p(positive) - p(negative)
* :mod:`channelpulse.models.sentiment.model` - :class:`SentimentModel` (load a version folder, predict)
* :mod:`channelpulse.models.sentiment.training` - :func:`train_version`, :func:`train_candidate`
* :mod:`channelpulse.models.sentiment.evaluate` - accuracy / macro-F1, binary accuracy, ECE, per-domain figures
* :mod:`channelpulse.models.sentiment.classifier` - the fine-tuned :class:`SentimentClassifier` (version 2 format)
* :mod:`channelpulse.models.sentiment.sources` / :mod:`channelpulse.models.sentiment.corpus` - the shared sources
  and their splits
* :mod:`channelpulse.models.sentiment.finetune` / :mod:`channelpulse.models.sentiment.recipe` (+ ``recipe_config``) -
  fine-tuning and building a version 2 folder

The package itself imports nothing (the modules that need torch load only when imported), so
`channelpulse --help` and the worker never load torch through it. See docs/models.md (## Sentiment).
"""
