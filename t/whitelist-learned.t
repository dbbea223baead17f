#!/usr/bin/perl
# The NS/glue whitelist learned live by a real Unbound walking the world:
# after resolving the world's names it holds exactly the authoritative
# servers that were used, with their zones; an address never involved is
# unknown; an entry with a short TTL expires, a static one does not; and the
# list survives a restart of Unbound (state file).
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);

my $net = $ENV{DW_WORLD_NET} // '127.0.53';
my $yaml = <<"EOF2";
mode: observe
enforcement: rpz
whitelist: { min_ttl: 1, max_ttl: 4, static: [8.8.4.4] }
EOF2
my $w = DWTest->new(yaml => $yaml);
$w->start;
for (['www.campus.test', 'A'], ['www.shop.test', 'A'], ['x1.victim.lab', 'A'], ['www.corp.lab', 'A'],
     ['80.2.0.192.in-addr.arpa', 'PTR']) {
	like($w->ask('127.0.46.1', @$_), qr/^NOERROR \S+/, "resolve $_->[0] $_->[1]");
}

sub dump_wl {
	my ($st, $out) = $w->ctl('--json', 'dump_whitelist');
	return {} if $st;
	return { map { $_->{addr} => $_ } @{decode_json($out)->{whitelist}} };
}
my %want = (
	"$net.1" => '.', "$net.2" => 'test.', "$net.3" => 'lab.', "$net.4" => 'in-addr.arpa.',
	"$net.5" => 'campus.test.,hosting.test.,shop.test.', "$net.6" => 'corp.lab.,victim.lab.',
	"$net.7" => '2.0.192.in-addr.arpa.,rev.lab.',
);
my $wl;
$wl = DWTest::wait_until(60, sub { my $d = dump_wl(); keys %$d >= 8 ? $d : undef }) // dump_wl();
is_deeply([sort keys %$wl], [sort('8.8.4.4', keys %want)], 'exactly the seven world servers used, plus the static')
	or diag explain $wl;
for my $a (sort keys %want) {
	is($wl->{$a}{zones}, $want{$a}, "$a serves $want{$a}");
}
like($wl->{"$net.5"}{src}, qr/resolved/, "$net.5 was also learned by resolving an out-of-bailiwick NS name (ns.hosting.test)");
is($wl->{'8.8.4.4'}{expires}, 'never', 'the static entry never expires');

my ($st, $out) = $w->ctl('check_ns', '192.0.2.80');
like($out, qr/^known=no$/m, 'check_ns: a web server address (www.campus.test) is not a nameserver');
($st, $out) = $w->ctl('check_ns', '127.0.99.99');
like($out, qr/^known=no$/m, 'check_ns: an address never involved is unknown');
($st, $out) = $w->ctl('check_ns', "$net.6");
like($out, qr/^zones=corp\.lab\.,victim\.lab\.\n(?:.*\n)*?known=yes$/m, 'check_ns: known, with its zones');

# export for the firewall, checked by nft itself
($st, $out) = $w->ctl('export_nft');
my $nft = $w->dir . '/ns.nft';
$w->write_file($nft, $out);
my $check = `nft -c -f '$nft' 2>&1`;
if ($?) { $check = `unshare -rn nft -c -f '$nft' 2>&1` }
is($? >> 8, 0, 'export_nft output is accepted by nft -c -f') or diag $check;

# short TTL (max_ttl 4 s): learned entries expire, the static stays (the
# sweep runs on the module's thread: wait for the answer that shows it)
$wl = DWTest::wait_until(60, sub { my $d = dump_wl(); keys %$d == 1 ? $d : undef }) // dump_wl();
is_deeply([sort keys %$wl], ['8.8.4.4'], 'after max_ttl without queries only the static is left');

# learn again, then restart: the list comes back from the state file
$w->ask('127.0.46.2', 'www.campus.test', 'A');    # cached: no upstream traffic
$w->ask('127.0.46.2', 'new1.victim.lab', 'A');
# the module's thread learns from Unbound's upstream answer after the client
# has its own: wait for the control answer that shows it
$wl = DWTest::wait_until(60, sub { my $d = dump_wl(); $d->{"$net.6"} ? $d : undef }) // {};
ok($wl->{"$net.6"}, 'relearned the victim.lab server');
sleep 1.5;    # the state file is written at most once a second
my $before = dump_wl();
$w->stop_unbound;
$w->start;
my $after = dump_wl();
is_deeply([sort keys %$after], [sort keys %$before], 'the whitelist survives a restart of Unbound')
	or diag explain [$before, $after];

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
