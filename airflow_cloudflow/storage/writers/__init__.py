"""Result writers: child-execution records to object storage (CloudFlow and ASL layouts)."""
