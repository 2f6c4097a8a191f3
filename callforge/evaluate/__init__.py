"""Stage evaluate: the base and fine-tuned models on BFCL questions and held-out samples."""
