"""Privacy: user identifiers pseudonymised (keyed HMAC) wherever they leave the scoring path, and
erasure of one user (``channelpulse privacy forget``). See docs/operations.md, "Privacy"."""
