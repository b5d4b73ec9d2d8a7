"""`python -m bench.abuse` (make bench-abuse)."""
import sys

from bench.abuse.cli import main

sys.exit(main())
