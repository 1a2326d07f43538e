# expect: :4: | build() raised | SystemExit | sys.exit(3)

def build():
    raise SystemExit(3)
