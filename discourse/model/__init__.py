"""The model stage, inference only: a body (`discourse.encoder`) turns a sentence into a vector and small heads turn
it into labels.

`framing.FramingModel` (relevance, stance given relevance, sub-frames; `aggregate` makes the document label),
`textclassifier.TextClassifier` (any label set), `heads` (numpy heads with a fitted temperature, `calibration`),
`prefilter` (the cheap relevance gate in front of archive scoring) and `loading.load_model` (either model from its
folder). Nothing here imports the pipeline, the store, training or a face.
"""
