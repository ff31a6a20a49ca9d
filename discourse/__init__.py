"""discourse — how Dutch texts frame early parenthood (supportive or pressuring), with sub-frames, topics
and the comparison of parent speech with institutional discourse."""

__version__ = "0.1.0"
