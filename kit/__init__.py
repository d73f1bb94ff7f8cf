"""The course kit's tools: build releases from master notebooks, grade submissions, run the demo."""
