#!/usr/bin/perl
# A resolver fleet sharing blocks through standard RPZ zone transfer, with
# real servers on loopback: Unbound A with dnswarden publishes its block list
# as a.dnswarden.rpz. (the zone file of its rpz: clause); Knot DNS serves it
# with NOTIFY and IXFR (publish.command runs knotc zone-reload); Unbound B
# with dnswarden and BIND 9 named consume it (rpz-client-ip triggers). A
# client blocked on A is NXDOMAIN'd by B and BIND within seconds; unblock and
# expiry propagate; B keeps peer blocks across a restart; A enforces the same
# with Knot down; 1,000 blocks at once travel as IXFR, never AXFR.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(ctl wait_answer);
use DWFleet;
use Test::More;
use Time::HiRes qw(sleep time);

for my $prog (qw(knotd knotc named named-checkconf)) {
	my $found = grep { -x "$_/$prog" } split /:/, "$ENV{PATH}:/usr/sbin";
	BAIL_OUT("$prog not installed (tools/install-deps installs knot and bind9)") unless $found;
}
$ENV{PATH} .= ':/usr/sbin';

# the shipped examples are valid for the servers they are for
is(system("knotc -c '$DWTest::SRCDIR/etc/knot-dnswarden.conf' conf-check >/dev/null 2>&1"), 0,
	'etc/knot-dnswarden.conf passes knotc conf-check');
is(system("named-checkconf '$DWTest::SRCDIR/etc/named-dnswarden-fleet.conf' >/dev/null 2>&1"), 0,
	'etc/named-dnswarden-fleet.conf passes named-checkconf');

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';
my $secret = DWFleet::tsig_secret();

sub yaml_of {
	my ($zone, $extra) = @_;
	return "mode: enforce\nenforcement: rpz\nrpz_zone: $zone\n"
		. "detectors:\n  mx_worm: { threshold: 5, window: 10m, action: nxdomain, duration: 1h }\n"
		. "  signature_names: { enabled: false }\n" . ($extra // '');
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
	$c =~ s/verbosity: 1/verbosity: 4/ if $ENV{DW_DEBUG};
	$t->write_file($t->conf, $c);
	return $t->dir . "/unbound/$zfile.zone";
}

# --- A: publishes a.dnswarden.rpz. ---------------------------------------------
my $ra = DWTest->new(name => 'fleet-a', yaml => yaml_of('a.dnswarden.rpz.'));
my $a_zone = own_zone($ra, 'a.dnswarden.rpz.');
my $kdir = $ra->dir . '/knot';
$ra->write_file($ra->yaml, $ra->with_paths(yaml_of('a.dnswarden.rpz.',
	"publish:\n  command: /usr/sbin/knotc -s $kdir/knot.sock zone-reload a.dnswarden.rpz.\n")));
$ra->start;
ok(-s $a_zone, 'A wrote its RPZ zone file before Unbound loaded it');

# --- B: consumes it, publishes b.dnswarden.rpz. -------------------------------
my $rb = DWTest->new(name => 'fleet-b', world_of => $ra,
	yaml => yaml_of('b.dnswarden.rpz.', "fleet:\n  peers: [a.dnswarden.rpz]\n"));
own_zone($rb, 'b.dnswarden.rpz.');
my $b_peer = $rb->dir . '/unbound/peer-a.dnswarden.rpz.zone';
$rb->write_file($rb->dir . '/unbound/extra.conf', <<EOF);
rpz:
	name: a.dnswarden.rpz.
	primary: $DWFleet::KNOT
	allow-notify: $DWFleet::KNOT
	zonefile: "$b_peer"
EOF

# --- Knot, then B and BIND ------------------------------------------------------
my $named_port = DWTest::free_port();
my $knot = DWFleet->knot(dir => $kdir, zone => 'a.dnswarden.rpz.', file => $a_zone, secret => $secret,
	unbound_notify => '127.0.0.1@' . $rb->port, named_notify => "127.0.0.1\@$named_port");
$rb->start;
my $named = DWFleet->named(dir => $ra->dir . '/named', zone => 'a.dnswarden.rpz.', secret => $secret,
	hints => $ra->dir . '/root.hints', port => $named_port);
sub ask_named { DWFleet::ask('127.0.0.1', $named_port, $_[0], $NAME) }

is($rb->ask('127.0.49.1', $NAME), $REAL, 'B answers normally');
is(ask_named('127.0.49.1'), $REAL, 'BIND answers normally');

# --- 20 blocks on A: time until B and BIND enforce them ---------------------------
my (@tb, @tn);
for my $i (1 .. 20) {
	my $c = "127.0.49.$i";
	my $t0 = time;
	my ($ok, $err) = ctl($ra->socket, 'block', $c, '1h', 'nxdomain');
	ok($ok, "A blocks $c") or diag $err;
	my ($db, $dn);
	while (time - $t0 < 20 && !(defined $db && defined $dn)) {
		$db //= time - $t0 if $rb->ask($c, $NAME, 'A', timeout => 1) eq 'NXDOMAIN';
		$dn //= time - $t0 if ask_named($c) eq 'NXDOMAIN';
		sleep 0.05;
	}
	ok(defined $db, "B answers NXDOMAIN to $c") or diag $rb->log_text;
	ok(defined $dn, "BIND answers NXDOMAIN to $c");
	push @tb, $db // 99;
	push @tn, $dn // 99;
}
sub median { my @s = sort { $a <=> $b } @_; return $s[$#s / 2] }
sub worst { my @s = sort { $a <=> $b } @_; return $s[-1] }
diag(sprintf('propagation A -> B:    median %.2f s, worst %.2f s (20 blocks)', median(@tb), worst(@tb)));
diag(sprintf('propagation A -> BIND: median %.2f s, worst %.2f s (20 blocks)', median(@tn), worst(@tn)));
cmp_ok(worst(@tb), '<', 5, 'every block reached B within 5 s');
cmp_ok(worst(@tn), '<', 5, 'every block reached BIND within 5 s');
is($ra->ask('127.0.49.30', $NAME), $REAL, 'a client nobody blocked still resolves on A');
is($rb->ask('127.0.49.30', $NAME), $REAL, '... on B');
is(ask_named('127.0.49.30'), $REAL, '... and on BIND');

# --- a worm flagged on A ----------------------------------------------------------
$ra->dwsim('-S', '127.0.49.100', '-n', 6, '--seed', 5, 'sobig');
ok(scalar $ra->wait_log(qr/event=block client=127\.0\.49\.100\/32 action=nxdomain .*reason=detector:mx_worm/),
	'A: mx_worm blocks the worm 127.0.49.100');
is(wait_answer($rb, '127.0.49.100', $NAME, 'A', 'NXDOMAIN', 10), 'NXDOMAIN', 'B refuses the worm (NXDOMAIN)');
my $n = '';
DWTest::wait_until(60, sub { ($n = ask_named('127.0.49.100')) eq 'NXDOMAIN' });
is($n, 'NXDOMAIN', 'BIND too');

# B shows where the block came from
my ($st, $out);
DWTest::wait_until(60, sub { ($st, $out) = $rb->ctl('show_client', '127.0.49.100'); $out =~ /^peer_blocked/m });
like($out, qr/^peer_blocked\.a\.dnswarden\.rpz\.=nxdomain$/m, 'B show_client: blocked by peer a.dnswarden.rpz.');
like($out, qr/^blocked=no$/m, 'B show_client: no local block');
DWTest::wait_until(60, sub { ($st, $out) = $rb->ctl('list_blocked'); $out =~ /127\.0\.49\.100/ });
like($out, qr/^client=127\.0\.49\.100\/32 action=nxdomain reason=peer origin=a\.dnswarden\.rpz\.$/m,
	'B list_blocked: the peer block with its origin');
($st, $out) = $rb->ctl('status');
like($out, qr/^fleet_peers=1$/m, 'B status: one peer zone');
like($out, qr/^peer_blocks=21$/m, 'B status: 21 peer blocks');
($st, $out) = $ra->ctl('status');
like($out, qr/^publish_zone=a\.dnswarden\.rpz\.$/m, 'A status: publishes a.dnswarden.rpz.');
like($out, qr/^publish_triggers=21$/m, 'A status: 21 triggers published');

# the same worm seen by B: its verdict is logged as already blocked by a peer
$rb->dwsim('-S', '127.0.49.100', '-n', 6, '--seed', 5, 'sobig');
ok(scalar $rb->wait_log(qr/event=peer_blocked client=127\.0\.49\.100 detector=mx_worm peer=a\.dnswarden\.rpz\. peer_action=nxdomain local=block/),
	'B logs its own verdict on 127.0.49.100 as already blocked by peer a.dnswarden.rpz.');

# --- unblock and expiry propagate ---------------------------------------------------
my ($ok) = ctl($ra->socket, 'unblock', '127.0.49.1');
ok($ok, 'A unblocks 127.0.49.1');
is(wait_answer($rb, '127.0.49.1', $NAME, 'A', $REAL, 10), $REAL, 'B: the unblock propagates');
DWTest::wait_until(60, sub { ($n = ask_named('127.0.49.1')) eq $REAL });
is($n, $REAL, 'BIND: the unblock propagates');
($ok) = ctl($ra->socket, 'block', '127.0.49.50', '3s', 'nxdomain');
ok($ok, 'A blocks 127.0.49.50 for 3 s');
is(wait_answer($rb, '127.0.49.50', $NAME, 'A', 'NXDOMAIN', 10), 'NXDOMAIN', 'B enforces it');
ok(scalar $ra->wait_log(qr/event=expire client=127\.0\.49\.50\//, 1, 10), 'it expires on A');
is(wait_answer($rb, '127.0.49.50', $NAME, 'A', $REAL, 10), $REAL, 'B: the expiry propagates');
DWTest::wait_until(60, sub { ($n = ask_named('127.0.49.50')) eq $REAL });
is($n, $REAL, 'BIND: the expiry propagates');

# --- the authoritative server down ----------------------------------------------------
$knot->stop;
ok(!$knot->alive, 'Knot stopped');
$rb->stop_unbound;
$rb->start;
is($rb->ask('127.0.49.2', $NAME), 'NXDOMAIN', 'B restarted with Knot down: the peer block holds from its zone file');
($st, $out) = $rb->ctl('show_client', '127.0.49.2');
like($out, qr/^peer_blocked\.a\.dnswarden\.rpz\.=nxdomain$/m, '... and B still shows it');
($ok) = ctl($ra->socket, 'block', '127.0.49.60', '1h', 'nxdomain');
ok($ok, 'with Knot down A still blocks');
is(wait_answer($ra, '127.0.49.60', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', '... and enforces locally');
is($ra->ask('127.0.49.2', $NAME), 'NXDOMAIN', '... its earlier blocks too');
is($ra->ask('127.0.49.30', $NAME), $REAL, '... and answers everyone else');
ok(scalar $ra->wait_log(qr/event=publish_error zone=a\.dnswarden\.rpz\. command=.* error="exit status/, 1, 5),
	'A logs that the publish command failed');
($ok) = ctl($ra->socket, 'unblock', '127.0.49.60');
is(wait_answer($ra, '127.0.49.60', $NAME, 'A', $REAL, 3), $REAL, 'unblock works on A with Knot down');

# --- Knot back; 1,000 blocks at once travel by IXFR -------------------------------------
$knot = DWFleet->knot(dir => $kdir, zone => 'a.dnswarden.rpz.', file => $a_zone, secret => $secret,
	unbound_notify => '127.0.0.1@' . $rb->port, named_notify => "127.0.0.1\@$named_port");
my $mark = () = $knot->log_lines(qr/./);
my @many = map { sprintf('127.2.%d.%d', $_ >> 8, $_ & 255) } 1 .. 1000;
my $t0 = time;
for my $c (@many) {
	my ($k, $e) = ctl($ra->socket, 'block', $c, '1h', 'nxdomain');
	BAIL_OUT("block $c: $e") unless $k;
}
my $t_blocked = time - $t0;
my ($tb1000, $tn1000);
while (time - $t0 < 60 && !(defined $tb1000 && defined $tn1000)) {
	$tb1000 //= time - $t0 if $rb->ask($many[-1], $NAME, 'A', timeout => 1) eq 'NXDOMAIN';
	$tn1000 //= time - $t0 if ask_named($many[-1]) eq 'NXDOMAIN';
	sleep 0.1;
}
ok(defined $tb1000, 'B enforces the last of 1,000 blocks');
ok(defined $tn1000, 'BIND enforces the last of 1,000 blocks');
is(wait_answer($rb, $many[0], $NAME, 'A', 'NXDOMAIN', 5), 'NXDOMAIN', 'B enforces the first of them');
is(ask_named($many[500]), 'NXDOMAIN', 'BIND enforces one in the middle');
DWTest::wait_until(60, sub { ($st, $out) = $rb->ctl('status'); $out =~ /^peer_blocks=1020$/m });
like($out, qr/^peer_blocks=1020$/m, 'B status: 1,020 peer blocks');
my @xfr = $knot->log_lines(qr/./);
splice(@xfr, 0, $mark);    # what Knot logged since the 1,000 blocks
my @ixfr = grep { /IXFR, outgoing.*finished/ } @xfr;
my @axfr = grep { /AXFR, outgoing/ } @xfr;
ok(@ixfr >= 2, 'Knot served the change as IXFR (to B and BIND)') or diag @xfr;
is(scalar @axfr, 0, 'and no AXFR after the first transfer') or diag @axfr;
my @sizes = map { /(\d+ messages, \d+ bytes)/ ? $1 : () } @ixfr;
diag(sprintf('1,000 blocks: sent to A in %.1f s; enforced by B after %.1f s, by BIND after %.1f s',
	$t_blocked, $tb1000 // -1, $tn1000 // -1));
diag('IXFRs after the 1,000 blocks: ' . join('; ', @sizes));

$named->stop;
$knot->stop;
$rb->stop;
$ra->stop;
is_deeply([$ra->leftover_pids, $rb->leftover_pids], [], 'no process left running');
ok(!$named->alive && !$knot->alive, 'Knot and named stopped');
done_testing;
