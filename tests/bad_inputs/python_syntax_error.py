# expect: syntax
def broken(:
    pass
