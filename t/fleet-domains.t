#!/usr/bin/perl
# Domain blocks across the fleet, with real servers on loopback: Unbound A
# publishes its domain blocks (QNAME triggers) in a.dnswarden.rpz., Knot DNS
# serves the zone with NOTIFY and IXFR, Unbound B consumes it. A domain that
# A blocks (from a dns_tunnel verdict, or by hand) is NXDOMAIN for B's
# clients within seconds; B's list_domains and status show it with A's zone
# as origin and what B's own guard says of it; an unblock on A propagates.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(ctl wait_answer);
use DWFleet;
use Test::More;
use Time::HiRes qw(sleep time);

for my $prog (qw(knotd knotc)) {
	my $found = grep { -x "$_/$prog" } split /:/, "$ENV{PATH}:/usr/sbin";
	BAIL_OUT("$prog not installed (tools/install-deps installs knot)") unless $found;
}
$ENV{PATH} .= ':/usr/sbin';

my $secret = DWFleet::tsig_secret();
my $C = '127.184.3.9';    # a client of B's that never did anything
my $SHOP = 'NOERROR 192.0.2.90';
my $CAMPUS = 'NOERROR 192.0.2.80';

sub yaml_of {
	my ($zone, $extra) = @_;
	return "mode: enforce\nenforcement: rpz\nrpz_zone: $zone\n"
		. "detectors:\n  mx_worm: { enabled: false }\n  spam_relay: { enabled: false }\n"
		. "  dns_tunnel: { threshold: 20, window: 10m, action: log, domain_action: nxdomain, domain_duration: 1h"
		. ($extra // '') . " }\n";
}

# Point an instance's own rpz: clause at $zone.
sub own_zone {
	my ($t, $zone) = @_;
	open(my $fh, '<', $t->conf) or die;
	my $c = do { local $/; <$fh> };
	close $fh;
	$c =~ s/name: dnswarden\.rpz\./name: $zone/ or die;
	(my $zfile = $zone) =~ s/\.$//;
	$c =~ s/dnswarden\.rpz\.zone/$zfile.zone/ or die;
	$t->write_file($t->conf, $c);
	return $t->dir . "/unbound/$zfile.zone";
}

srand(184);
sub rnd { my ($n) = @_; join '', map { substr('0123456789abcdef', int(rand(16)), 1) } 1 .. $n }

# the list_domains of B once it matches $re (or after 60 s)
sub b_domains {
	my ($t, $re) = @_;
	my ($st, $out);
	DWTest::wait_until(60, sub { ($st, $out) = $t->ctl('list_domains'); $out =~ $re });
	return $out;
}

# A: publishes a.dnswarden.rpz.
my $ra = DWTest->new(name => 'fleet-domains-a', yaml => yaml_of('a.dnswarden.rpz.'));
my $a_zone = own_zone($ra, 'a.dnswarden.rpz.');
my $kdir = $ra->dir . '/knot';
$ra->write_file($ra->yaml, $ra->with_paths(yaml_of('a.dnswarden.rpz.')
	. "publish:\n  command: /usr/sbin/knotc -s $kdir/knot.sock zone-reload a.dnswarden.rpz.\n"));
$ra->start;

# B: consumes it; its own guard keeps campus.test
my $rb = DWTest->new(name => 'fleet-domains-b', world_of => $ra,
	yaml => yaml_of('b.dnswarden.rpz.', ', never_block: [campus.test]') . "fleet:\n  peers: [a.dnswarden.rpz]\n");
own_zone($rb, 'b.dnswarden.rpz.');
my $b_peer = $rb->dir . '/unbound/peer-a.dnswarden.rpz.zone';
$rb->write_file($rb->dir . '/unbound/extra.conf', "rpz:\n\tname: a.dnswarden.rpz.\n\tprimary: $DWFleet::KNOT\n"
	. "\tallow-notify: $DWFleet::KNOT\n\tzonefile: \"$b_peer\"\n");
my $knot = DWFleet->knot(dir => $kdir, zone => 'a.dnswarden.rpz.', file => $a_zone, secret => $secret,
	unbound_notify => '127.0.0.1@' . $rb->port, named_notify => '127.0.0.1@' . DWTest::free_port());
$rb->start;

is($rb->ask($C, 'www.shop.test'), $SHOP, 'B: www.shop.test resolves');
is($rb->ask($C, 'www.campus.test'), $CAMPUS, 'B: www.campus.test resolves');

# a dns_tunnel verdict on A blocks shop.test: B enforces and lists it
my $n = 0;
$n++ for grep { $ra->ask('127.184.3.1', rnd(40) . '.shop.test', 'TXT') ne 'TIMEOUT' } 1 .. 25;
is($n, 25, 'A: a tunnel under shop.test');
ok(scalar $ra->wait_log(qr/event=block_domain domain=shop\.test .*reason=detector:dns_tunnel/, 1, 10), 'A blocks shop.test');
my $t0 = time;
is(wait_answer($rb, $C, 'www.shop.test', 'A', 'NXDOMAIN', 10), 'NXDOMAIN', 'B: www.shop.test is NXDOMAIN for its clients');
diag(sprintf('domain block A -> B in %.2f s', time - $t0));
is($rb->ask($C, 'shop.test', 'MX'), 'NXDOMAIN', 'B: the domain itself too');
is($rb->ask($C, 'www.campus.test'), $CAMPUS, 'B: a sibling domain resolves');
my $out = b_domains($rb, qr/shop\.test/);
like($out, qr/^domain=shop\.test action=nxdomain reason=peer origin=a\.dnswarden\.rpz\. enforced=yes local_guard=ok$/m,
	'B list_domains: the peer\'s domain block, with its origin') or diag $out;
like($out, qr/^domain_blocks_active=0$/m, 'B: no domain block of its own');
like($out, qr/^peer_domain_blocks=1$/m, 'B: one of the peer\'s');
my ($st, $status) = $rb->ctl('status');
like($status, qr/^peer_domain_blocks=1$/m, 'B status: peer_domain_blocks=1');
like($status, qr/^peer\.a\.dnswarden\.rpz\.="blocks=0 domains=1 serial=\d+"$/m, 'B status: the peer zone\'s counts');

# by hand on A, a domain B's own guard would refuse: B enforces it as
# published (Unbound follows the peer's zone) and says what its guard thinks
my ($ok, $err) = ctl($ra->socket, 'block_domain', 'campus.test', '1h', 'nxdomain');
ok($ok, 'A: block_domain campus.test') or diag $err;
is(wait_answer($rb, $C, 'www.campus.test', 'A', 'NXDOMAIN', 10), 'NXDOMAIN', 'B enforces it as published');
$out = b_domains($rb, qr/campus\.test/);
like($out, qr/^domain=campus\.test action=nxdomain reason=peer origin=a\.dnswarden\.rpz\. enforced=yes local_guard="campus\.test is, holds or is under campus\.test \(detectors\.dns_tunnel\.never_block\)"$/m,
	'B list_domains: its own guard would refuse it') or diag $out;
($st, $out) = $rb->ctl('--json', 'list_domains');
like($out, qr/"origin":\s*"a\.dnswarden\.rpz\."/, 'B list_domains --json: the origin');

# unblocks on A propagate
($ok, $err) = ctl($ra->socket, 'unblock_domain', 'shop.test');
ok($ok, 'A: unblock_domain shop.test') or diag $err;
is(wait_answer($rb, $C, 'www.shop.test', 'A', $SHOP, 10), $SHOP, 'B: www.shop.test resolves again');
$out = b_domains($rb, qr/^(?!.*shop\.test)/s);
unlike($out, qr/shop\.test/, 'B list_domains: shop.test is gone');
like($out, qr/^peer_domain_blocks=1$/m, 'B: one of the peer\'s left');
is($rb->ask($C, 'www.campus.test'), 'NXDOMAIN', 'B: campus.test still blocked');
($ok, $err) = ctl($ra->socket, 'unblock_domain', 'campus.test');
is(wait_answer($rb, $C, 'www.campus.test', 'A', $CAMPUS, 10), $CAMPUS, 'B: campus.test resolves again');

$knot->stop;
$rb->stop;
$ra->stop;
is_deeply([$ra->leftover_pids, $rb->leftover_pids], [], 'no process left running');
ok(!$knot->alive, 'Knot stopped');
done_testing;
