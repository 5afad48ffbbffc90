"""Item readers: stream items out of objects (CloudFlow ``SourceType``s and ASL ``ItemReader``s)."""
