#!/bin/sh
# The DGA character model against exact edge cases and extracts of nDPI's lists.
here=$(dirname "$0")
exec "$here/unit/test_dga" "$here/data/dga"
