"""make grade: a batch of submissions, each graded by a worker process of its own."""
