"""The pipeline stage: a text in, its scores out.

    language (refuse what is not Dutch) → segment (sentences, unless the caller brings its own units, such as an
    interview's turns) → pre-filter (optional: sentences plainly off-topic skip the model) → predict → aggregate

`score.score_documents` is the one function that runs these steps; the CLI's and the service's classify, archive
scoring (local and Ray) and interview ingestion all call it and differ only in its options and in what they do with
its plain results.

`language` is the language check, `classify` the CLI's and the service's records in and results out,
`score_archive` the resumable archive run (`score_records`, the one batch loop), `ray_engine` the same loop on Ray
Data, `jobs` archive runs for the service. The sentence splitter (`discourse.segment`) sits below the stages: the
model uses it too.
"""
