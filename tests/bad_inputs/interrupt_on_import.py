# expect: :2: | failed to import | KeyboardInterrupt
raise KeyboardInterrupt
