#!/usr/bin/perl
# dns_tunnel's domain action end to end (real Unbound + module, NSD world):
# a tunnel client makes its C2 domain answer NXDOMAIN for EVERY client (an
# RPZ QNAME trigger), a sibling domain still resolves, the block expires by
# itself; the guard refuses what a hostile client could make us block (the
# built-in never-block list, detectors.dns_tunnel.never_block, a domain
# holding a nameserver of another zone) and the rate caps new blocks; the
# control verbs list, add and remove domain blocks; a block survives a
# restart; observe mode blocks nothing but says what it would block; the hook
# backend enforces domain blocks through the same RPZ zone.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend);
use Test::More;
use Time::HiRes qw(sleep time);

my $yaml = <<'EOF2';
mode: enforce
enforcement: rpz
detectors:
  mx_worm:    { enabled: false }
  spam_relay: { enabled: false }
  dns_tunnel:
    threshold: 20
    window: 10m
    action: log
    domain_action: nxdomain
    domain_duration: 8s
    domain_rate: 2
    never_block: [campus.test]
EOF2

srand(165);
sub rnd { my ($n) = @_; join '', map { substr('0123456789abcdef', int(rand(16)), 1) } 1 .. $n }

# 25 distinct long hex names under $base from $src (a dnscat2-like tunnel)
sub tunnel {
	my ($t, $src, $base) = @_;
	my $n = 0;
	$n++ for grep { $t->ask($src, rnd(40) . ".$base", 'TXT') ne 'TIMEOUT' } 1 .. 25;
	return $n;
}

# ask until the answer matches (or $secs pass); returns the last answer
sub ask_until {
	my ($t, $src, $name, $want, $secs) = @_;
	my $deadline = time + ($secs // 10);
	my $a;
	while (1) {
		$a = $t->ask($src, $name);
		return $a if $a =~ $want || time >= $deadline;
		sleep 0.2;
	}
}

my $OTHER = '127.165.9.9';    # a client that never tunnelled anything
my $w = DWTest->new(yaml => $yaml);
$w->start;

is($w->ask($OTHER, 'www.shop.test'), 'NOERROR 192.0.2.90', 'before: www.shop.test resolves');
is($w->ask($OTHER, 'www.campus.test'), 'NOERROR 192.0.2.80', 'before: www.campus.test resolves');

# 1. a tunnel under shop.test blocks shop.test for everybody
is(tunnel($w, '127.165.1.1', 'shop.test'), 25, 'tunnel under shop.test: all answered');
ok(scalar $w->wait_log(qr/event=block_domain domain=shop\.test action=nxdomain duration=8 .*reason=detector:dns_tunnel backend=rpz/, 1, 10),
	'the verdict blocks the base domain shop.test (log line)');
is(ask_until($w, $OTHER, 'www.shop.test', qr/NXDOMAIN/), 'NXDOMAIN', 'another client: www.shop.test is NXDOMAIN');
is($w->ask($OTHER, 'shop.test', 'MX'), 'NXDOMAIN', 'another client: the domain itself too');
is($w->ask($OTHER, 'www.campus.test'), 'NOERROR 192.0.2.80', 'a sibling domain still resolves');
my $zf = $w->dir . '/unbound/dnswarden.rpz.zone';
my $zone = '';
for (1 .. 50) {    # written within 200 ms of a change
	$zone = do { local (@ARGV, $/) = ($zf); <> } // '';
	last if $zone =~ /^shop\.test\./m;
	sleep 0.1;
}
like($zone, qr/^shop\.test\.dnswarden\.rpz\. 60 IN CNAME \.$/m, 'the zone file holds the QNAME trigger shop.test');
like($zone, qr/^\*\.shop\.test\.dnswarden\.rpz\. 60 IN CNAME \.$/m, '... and *.shop.test');
my ($st, $out) = $w->ctl('list_domains');
like($out, qr/^domain=shop\.test action=nxdomain reason=dns_tunnel since=\S+ expires=\S+ enforced=yes$/m,
	'list_domains shows it, enforced by Unbound') or diag $out;
($st, $out) = $w->ctl('status');
like($out, qr/^domain_blocks_active=1$/m, 'status counts it');

# 2. the guard: what a hostile client could make us block
is(tunnel($w, '127.165.1.2', 'google.com'), 25, 'tunnel-looking flood under google.com');
ok(scalar $w->wait_log(qr/event=domain_block_refused domain=google\.com client=127\.165\.1\.2 .*built-in never-block list/, 1, 10),
	'google.com is refused: built-in never-block list');
is(tunnel($w, '127.165.1.3', 'campus.test'), 25, 'tunnel-looking flood under campus.test');
ok(scalar $w->wait_log(qr/event=domain_block_refused domain=campus\.test .*detectors\.dns_tunnel\.never_block/, 1, 10),
	'campus.test is refused: never_block');
is(tunnel($w, '127.165.1.4', 'hosting.test'), 25, 'tunnel-looking flood under hosting.test');
ok(scalar $w->wait_log(qr/event=domain_block_refused domain=hosting\.test .*holds nameserver ns1?\.hosting\.test of zone (?!hosting\.test)\S+ /, 1, 10),
	'hosting.test is refused: its nameserver serves other zones (NS/glue whitelist)');
is($w->ask($OTHER, 'www.campus.test'), 'NOERROR 192.0.2.80', 'campus.test still resolves for everybody');

# 3. the rate: 2 new domain blocks an hour; shop.test took one
is(tunnel($w, '127.165.1.5', 'c2one.test'), 25, 'a second tunnel domain');
ok(scalar $w->wait_log(qr/event=block_domain domain=c2one\.test /, 1, 10), 'c2one.test is blocked (2nd of 2)');
is(tunnel($w, '127.165.1.6', 'c2two.test'), 25, 'a third tunnel domain');
ok(scalar $w->wait_log(qr/event=domain_block_refused domain=c2two\.test .*domain_rate/, 1, 10),
	'c2two.test is refused: over detectors.dns_tunnel.domain_rate');

# 4. expiry restores the domain
ok(scalar $w->wait_log(qr/event=expire_domain domain=shop\.test action=nxdomain reason=dns_tunnel/, 1, 15),
	'the block of shop.test expires after domain_duration');
is(ask_until($w, $OTHER, 'www.shop.test', qr/NOERROR/), 'NOERROR 192.0.2.90', 'after expiry: www.shop.test resolves again');

# 5. control verbs; a block by hand survives a restart
($st, $out) = $w->ctl('block_domain', 'google.com', '1h');
is($st, 1, 'block_domain google.com is refused') or diag $out;
($st, $out) = $w->ctl('block_domain', 'test', '1h');
is($st, 1, 'block_domain of a public suffix (a TLD) is refused');
($st, $out) = $w->ctl('block_domain', 'Shop.Test.', '1h', 'nxdomain');
is($st, 0, 'block_domain Shop.Test. 1h nxdomain') or diag $out;
like($out, qr/^domain=shop\.test$/m, '... names the domain in lower case');
is(ask_until($w, $OTHER, 'www.shop.test', qr/NXDOMAIN/), 'NXDOMAIN', 'the block by hand works');
ok(scalar $w->wait_log(qr/event=block_domain domain=shop\.test action=nxdomain duration=3600 .*reason=control:uid=0/, 1, 5),
	'audit line of the block by hand');
($st, $out) = $w->ctl('stats_noreset');
like($out, qr/^domain_blocks\.refused=[4-9]$/m, 'stats: refused domain blocks counted') or diag $out;
($st, $out) = $w->ctl('metrics');
like($out, qr/^dnswarden_domain_blocks_active [12]$/m, "metrics: the domain blocks in force") or diag $out;
like($out, qr/^dnswarden_domain_blocks_total\{event="blocked"\} 3$/m, "metrics: three domain blocks started") or diag $out;
ok($w->wait_state(qr/^domain shop\.test /m), 'the state file is written with the block');
$w->stop_unbound;
my $state = do { local (@ARGV, $/) = ($w->state); <> } // '';
like($state, qr/^domain shop\.test action=nxdomain detector=manual created=\d+ expires=\d+$/m, 'the state file keeps the block');
$w->start;
is($w->ask($OTHER, 'www.shop.test'), 'NXDOMAIN', 'after a restart: still NXDOMAIN from the first query');
($st, $out) = $w->ctl('list_domains');
like($out, qr/^domain=shop\.test action=nxdomain reason=manual .*enforced=yes$/m, 'after a restart: list_domains shows it') or diag $out;
($st, $out) = $w->ctl('unblock_domain', 'shop.test');
is($st, 0, 'unblock_domain shop.test') or diag $out;
is(ask_until($w, $OTHER, 'www.shop.test', qr/NOERROR/), 'NOERROR 192.0.2.90', 'unblocked: resolves again');
($st, $out) = $w->ctl('unblock_domain', 'shop.test');
is($st, 1, 'unblock_domain of a domain not blocked is an error');
$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');

# 6. observe mode: what would be blocked is logged, nothing is blocked
(my $oy = $yaml) =~ s/mode: enforce/mode: observe/;
my $o = DWTest->new(name => 'domain-blocks-observe', yaml => $oy);
$o->start;
is(tunnel($o, '127.165.2.1', 'shop.test'), 25, 'observe: a tunnel under shop.test');
ok(scalar $o->wait_log(qr/event=would_block_domain domain=shop\.test action=nxdomain duration=8 client=127\.165\.2\.1 /, 1, 10),
	'observe: the log says what would be blocked');
is($o->ask($OTHER, 'www.shop.test'), 'NOERROR 192.0.2.90', 'observe: nothing is blocked');
ok(!$o->log_grep(qr/event=block_domain/), 'observe: no block_domain line');
$o->stop;
is_deeply([$o->leftover_pids], [], 'observe: no process left running');

# 7. the hook backend: domain blocks through the same RPZ zone
subtest 'hook backend' => sub {
	if (my $why = backend_missing('hook')) {
		fail("hook backend: $why");
		return;
	}
	with_backend('hook', sub {
		(my $hy = $yaml) =~ s/enforcement: rpz/enforcement: hook/;
		my $h = DWTest->new(name => 'domain-blocks-hook', yaml => $hy);
		$h->start;
		is(tunnel($h, '127.165.3.1', 'shop.test'), 25, 'hook: a tunnel under shop.test');
		ok(scalar $h->wait_log(qr/event=block_domain domain=shop\.test .*backend=rpz/, 1, 10), 'hook: the domain is blocked');
		is(ask_until($h, $OTHER, 'www.shop.test', qr/NXDOMAIN/), 'NXDOMAIN', 'hook: another client gets NXDOMAIN');
		is($h->ask($OTHER, 'www.campus.test'), 'NOERROR 192.0.2.80', 'hook: a sibling domain resolves');
		$h->stop;
		is_deeply([$h->leftover_pids], [], 'hook: no process left running');
	});
};
done_testing;
