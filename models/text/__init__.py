"""Text encoding shared by the text models (sentiment, catalog similarity)."""
