"""The sandbox: the unchanged bot against an embedded Bot API server on loopback, with a web chat to talk to it.

``sandbox.botapi`` is that server; the end-to-end tests and the benchmarks use it too.
"""
