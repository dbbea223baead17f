#!/bin/sh
# The GeoIP of a build without libmaxminddb (geoip_none.c): a geoip: database
# in the YAML is a configuration error. make check says which build this is
# (DW_WITH_MAXMINDDB); a build with libmaxminddb is tested by t/geoip.t.
if [ "${DW_WITH_MAXMINDDB:-yes}" != no ]; then
	echo "1..0 # SKIP built with libmaxminddb: t/geoip.t tests GeoIP; this tests configure --without-maxminddb"
	exit 0
fi
exec "${DW_BUILDDIR:-$(dirname "$0")/..}/t/unit/test_geoip_none"
