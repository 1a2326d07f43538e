# expect: :3: | failed to import | SystemExit
import sys
sys.exit(0)
