"""Alias kept for scripts and people: `python -m chalicelib.admin` runs ops.admin.

The operator command itself lives outside chalicelib/ so it never ships in
the Lambda bundle; this file only forwards to it.
"""
if __name__ == "__main__":
    import sys

    from ops.admin import main

    sys.exit(main())
