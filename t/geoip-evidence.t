#!/usr/bin/perl
# GeoIP evidence end to end: with MaxMind's test databases configured, an
# IP-literal scanner's verdict names the country and ASN of the literals it
# asked for; a configured database that does not exist stops Unbound with a
# clear message.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

# A build without libmaxminddb (make check says so in DW_WITH_MAXMINDDB) has
# no evidence to show: a configured database stops Unbound with the reason.
if (($ENV{DW_WITH_MAXMINDDB} // 'yes') eq 'no') {
	my $w = DWTest->new(name => 'geoip-none', yaml => "geoip:\n  country_db: /dev/null\n");
	$w->start(no_wait => 1);
	my $st = $w->wait_exit(20);
	ok(defined $st && $st != 0, 'built without libmaxminddb: a geoip: database stops unbound');
	ok(scalar $w->log_grep(qr/dnswarden: cannot start: geoip\.country_db: \/dev\/null: this dnswarden was built without libmaxminddb/),
		'the message says why') or diag $w->start_errors;
	$w->stop;
	is_deeply([$w->leftover_pids], [], 'no process of this test left running');
	done_testing;
	exit 0;
}

chomp(my $data = `"$DWTest::SRCDIR/t/lib/geoip-testdata"`);
BAIL_OUT("cannot obtain MaxMind's test databases") if $? || !-d $data;

my $yaml = <<"EOF2";
mode: observe
enforcement: rpz
geoip:
  country_db: $data/GeoIP2-Country-Test.mmdb
  asn_db: $data/GeoLite2-ASN-Test.mmdb
detectors:
  ip_literal: { threshold: 4, window: 1h, action: nxdomain }
EOF2

my $w = DWTest->new(yaml => $yaml);
my $names = $w->dir . '/literals.txt';
$w->write_file($names, "89.160.20.112 A\n1.128.0.1 A\n192.0.2.9 A\n2.125.160.216 A\n");
$w->start;
like($w->dwsim('-S', '127.0.43.1', '-n', 4, 'names', $names), qr/answered=4 /, 'four IPv4-literal queries');
my ($line) = $w->wait_log(qr/client=127\.0\.43\.1 detector=ip_literal /);
ok($line, 'ip_literal verdict') or diag $w->log_text;
like($line // '', qr/ literal_geo="[^"]*\b89\.160\.20\.112:SE:-(?: |")/, 'country of a literal (89.160.20.112 is SE in the test db)');
like($line // '', qr/ literal_geo="[^"]*\b1\.128\.0\.1:-:AS1221\b/, 'ASN of a literal (1.128.0.1 is AS1221)');
unlike($line // '', qr/192\.0\.2\.9:/, 'a documentation address is never looked up');
unlike($line // '', qr/client_cc=/, 'a loopback client has no GeoIP');
$w->stop;

# a configured database that does not exist: Unbound refuses to start
my $w2 = DWTest->new(name => 'geoip-missing', yaml => "geoip:\n  asn_db: $data/no-such.mmdb\n");
$w2->start(no_wait => 1);
my $st = $w2->wait_exit(20);
ok(defined $st && $st != 0, 'missing GeoIP database: unbound exits with an error');
ok(scalar $w2->log_grep(qr/dnswarden: cannot start: geoip\.asn_db: \Q$data\E\/no-such\.mmdb: /),
	'the message names the key and the file') or diag $w2->log_text;
$w2->stop;
is_deeply([$w->leftover_pids, $w2->leftover_pids], [], 'no process of this test left running');
done_testing;
