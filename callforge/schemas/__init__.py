"""JSON Schemas of the records callforge writes."""
