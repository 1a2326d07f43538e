# expect: :5: | build() raised | KeyboardInterrupt
from gryt import Pipeline

def build() -> Pipeline:
    raise KeyboardInterrupt
