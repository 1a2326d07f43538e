"""The step cache: keys over a step's inputs, entries holding its outputs, log and result, and the stores.

`gryt.cache.base` is the contract a store implements (the `caches` plugin kind); `gryt.cache.entry` is
what a store keeps. The rest is gryt's own machinery around `Step.run` and its built-in local store.
"""
