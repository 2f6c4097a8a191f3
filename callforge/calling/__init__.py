"""The function-calling model shared by every stage: tools, calls, schema checks, formats, BFCL, offline values."""
