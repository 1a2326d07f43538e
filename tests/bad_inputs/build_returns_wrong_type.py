# expect: Pipeline
def build():
    return 42
