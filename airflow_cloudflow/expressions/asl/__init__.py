"""ASL's expression languages: JSONPath, intrinsic functions, JSONata, Choice rules, I/O paths, payload templates."""
