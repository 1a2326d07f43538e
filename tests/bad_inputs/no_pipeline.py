# expect: PIPELINE
VALUE = 1
