"""The classifier on top of the sentence encoder: multinomial logistic regression on the
L2-normalised embeddings (one linear layer, softmax over SENTIMENT_LABELS)."""

from __future__ import annotations

import torch

from channelpulse.models.sentiment.labels import NUM_LABELS


class SentimentHead(torch.nn.Module):
    """``embeddings [n, dim] -> logits [n, 3]``."""

    def __init__(self, dim: int, num_labels: int = NUM_LABELS) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(dim, num_labels)

    @property
    def dim(self) -> int:
        return int(self.linear.in_features)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.linear(embeddings)

    @torch.inference_mode()
    def probabilities(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities (float32) of ``embeddings``."""
        return torch.softmax(self(embeddings).float(), dim=-1)
