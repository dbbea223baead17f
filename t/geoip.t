#!/bin/sh
# geoip.c against MaxMind's own test databases. They come from Debian's
# libmaxminddb source package through t/lib/geoip-testdata (cached under
# _deps/); set DW_GEOIP_TESTDATA to a directory of them to skip that step.
# No test data is a failure, not a skip: the checks would silently vanish.
# A build without libmaxminddb has no geoip.c: t/geoip-none.t tests its stub.
here=$(dirname "$0")
if [ "${DW_WITH_MAXMINDDB:-yes}" = no ]; then
	echo "1..0 # SKIP built without libmaxminddb (configure --without-maxminddb): t/geoip-none.t tests that build"
	exit 0
fi
if [ -z "${DW_GEOIP_TESTDATA:-}" ]; then
	if ! DW_GEOIP_TESTDATA=$("$here/lib/geoip-testdata"); then
		echo "Bail out! cannot obtain MaxMind's test databases (see t/lib/geoip-testdata's message above)"
		exit 1
	fi
fi
export DW_GEOIP_TESTDATA
exec "${DW_BUILDDIR:-$here/..}/t/unit/test_geoip"
