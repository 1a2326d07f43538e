# expect: :13: | build() raised | nested more than 64 levels | flatten
from gryt import CommandStep, Pipeline, Runner


def deep(levels: int) -> object:
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def build() -> Pipeline:
    step = CommandStep("s", config={"cmd": ["true"], "env": {"X": deep(5000)}})
    return Pipeline([Runner([step], id="main")])
