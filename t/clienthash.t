#!/bin/sh
exec "${DW_BUILDDIR:-$(dirname "$0")/..}/t/unit/test_clienthash"
