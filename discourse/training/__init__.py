"""The training side: builds the model folders under `models/` that the model stage loads; never imported by
inference code.

`framing` trains the framing model (authored and real annotated units), `classifier` a model on the user's own
labels, `corpus` and `realcorpus` read the
annotated units, `agreement` compares coders, `card` writes the model card, `distill` trains a smaller student.
"""
