# expect: boom at import
raise RuntimeError("boom at import")
