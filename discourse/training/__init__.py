"""The training side: builds the model folders under `models/` that the model stage loads; never imported by
inference code.

`framing` trains the framing model (authored and real annotated units), `classifier` a model on the user's own
labels, `finetune` LoRA-tunes the encoder for either, `adapt` adapts it to a domain's unlabelled text, `distill`
trains a smaller student; `corpus` and `realcorpus` read the annotated units, `metrics` and `agreement` measure
models and coders, `card` writes the model card.
"""
