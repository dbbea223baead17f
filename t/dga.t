#!/bin/sh
# The DGA character model against exact edge cases and extracts of nDPI's lists
# (the binary in the build tree, the lists next to this script).
exec "${DW_BUILDDIR:-$(dirname "$0")/..}/t/unit/test_dga" "$(dirname "$0")/data/dga"
