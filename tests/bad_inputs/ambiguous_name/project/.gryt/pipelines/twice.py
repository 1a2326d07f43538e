from gryt import CommandStep, Pipeline, Runner

PIPELINE = Pipeline([Runner([CommandStep("a", {"cmd": ["true"]})])])
