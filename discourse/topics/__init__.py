"""Topic modelling of Dutch sentences (BERTopic on the project's own embeddings): see model.py."""

from .model import TopicConfig, TopicModel, topic_encoder
from .vocabulary import dutch_stop_words, dutch_vectorizer

__all__ = ["TopicConfig", "TopicModel", "topic_encoder", "dutch_stop_words", "dutch_vectorizer"]
