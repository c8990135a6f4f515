"""Sentence sentiment (negative / neutral / positive): version 1 = a head on the frozen shared text
encoder, version 2 = the encoder fine-tuned end to end with a three-class head.

* :mod:`models.sentiment.data` - :class:`TextDataset`, VADER/table loaders, the fixed hash split
* :mod:`models.sentiment.labels` - rating -> label mapping, score = p(positive) - p(negative)
* :mod:`models.sentiment.model` - :class:`SentimentModel` (load a version folder, predict)
* :mod:`models.sentiment.training` - :func:`train_version`, :func:`train_candidate`
* :mod:`models.sentiment.evaluate` - accuracy / macro-F1, binary accuracy, ECE, per-domain figures
* :mod:`models.sentiment.classifier` - the fine-tuned :class:`SentimentClassifier` (version 2 format)
* :mod:`models.sentiment.sources` / :mod:`models.sentiment.corpus` - the shared sources and their splits
* :mod:`models.sentiment.finetune` / :mod:`models.sentiment.recipe` (+ ``recipe_config``) - fine-tuning
  and building a version 2 folder

See docs/models.md (## Sentiment).
"""
