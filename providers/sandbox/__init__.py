"""What the local provider sandboxes share: the threaded HTTP server and its lifecycle, the
request log and fault injection ("chaos"). Each provider's sandbox (``providers/<name>/sandbox``)
adds its own API, store and control routes. Used by tests and ``make demo``; never shipped in the
installed package."""
