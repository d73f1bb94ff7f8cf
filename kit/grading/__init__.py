"""Sealed grading: the student's kernel runs the notebook, a judge outside it runs the tests (shipped in each autograder.zip)."""
