"""Coding sentences by hand: queues of stored sentences for coders (queue.py), agreement between coders
(agreement.py) and the export of their codes (export.py). The tables are written by discourse.store.annotations."""
