"""ASL's run-time pieces: processing paths, Task/Map/Parallel handlers, the distributed Map, the Context object."""
