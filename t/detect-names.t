#!/usr/bin/perl
# The distinct-name detectors end to end (real Unbound + module, NSD world):
# DNS tunnels over MX, TXT, A and NULL give dns_tunnel naming their base
# domain (a tunnel over MX is not a worm); a DGA bot is caught from its
# NXDOMAIN answers; a worm asking MX of many domains is still mx_worm and its
# verdict names the domains; a benign client (ordinary names, a few typos,
# many MX of ONE domain) and long hashed names under exempt domains give
# nothing.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend);
use Test::More;

my $yaml = <<'EOF2';
mode: observe
enforcement: rpz
detectors:
  mx_worm:    { threshold: 20, window: 10m, action: sinkhole, duration: 1h }
  spam_relay: { threshold: 20, window: 10m, action: nxdomain, duration: 1h }
  dns_tunnel:
    threshold: 20
    window: 10m
    action: log
    exempt_domains: [avlookup.test]
  dga:        { threshold: 10, window: 10m, action: log }
EOF2

my $w = DWTest->new(yaml => $yaml);
$w->start;
srand(16);

sub rnd { my ($n, $chars) = @_; join '', map { substr($chars, int(rand(length $chars)), 1) } 1 .. $n }
my $HEX = '0123456789abcdef';
my $B32 = 'abcdefghijklmnopqrstuvwxyz234567';
my $CONS = 'bcdfghjklmnpqrstvwxz';

# source => [what, list of [name, type]]
my %plays = (
	'127.162.1.1' => ['tunnel over MX (dnscat2)', [map { [rnd(40, $HEX) . '.c2mx.test', 'MX'] } 1 .. 30]],
	'127.162.1.2' => ['tunnel over TXT (iodine)', [map { [rnd(50, $B32) . '.t.c2txt.test', 'TXT'] } 1 .. 30]],
	'127.162.1.3' => ['tunnel over A, two data labels', [map { [rnd(30, $HEX) . '.' . rnd(30, $HEX) . '.c2a.test', 'A'] } 1 .. 30]],
	'127.162.1.4' => ['tunnel over NULL', [map { [rnd(56, $B32) . '.c2null.test', 'NULL'] } 1 .. 30]],
	'127.162.1.5' => ['DGA bot', [map { [rnd(14, $CONS) . '.test', 'A'] } 1 .. 15]],
	'127.162.1.6' => ['mass-mailing worm', [map { ["d$_.victim.lab", 'MX'] } 101 .. 130]],
	'127.162.1.7' => ['benign client', [
		(map { [$_, 'A'] } qw(www.campus.test mail.campus.test shop.test www.shop.test)) x 8,
		(map { [$_, 'A'] } qw(wwww.campus.test campsu.test shpo.test)),
		(map { ['campus.test', 'MX'] } 1 .. 30)]],
	'127.162.1.8' => ['antivirus cloud lookups', [map { [rnd(40, $HEX) . '.sophosxl.net', 'A'] } 1 .. 30]],
	'127.162.1.9' => ['configured exempt domain', [map { [rnd(40, $HEX) . '.q.avlookup.test', 'TXT'] } 1 .. 30]],
	# iodine packs up to ~250 bytes into one NULL query: 8 names of 3 labels
	# of 60 base32 characters (3 payload units each) are 24 units >= 20
	'127.162.1.10' => ['tunnel of few big names (iodine)', [map { [join('.', map { rnd(60, $B32) } 1 .. 3) . '.c2big.test', 'NULL'] } 1 .. 8]],
	# dnscat2 without a domain: "dnscat.<hex>.<hex>", the last label is no
	# real TLD: one pseudo base, not 30 mail domains
	'127.162.1.11' => ['tunnel without a domain over MX (dnscat2)', [map { ['dnscat.' . rnd(60, $HEX) . '.' . rnd(12, $HEX), 'MX'] } 1 .. 30]],
);
for my $src (sort keys %plays) {
	my ($what, $qs) = @{$plays{$src}};
	my $answered = 0;
	$answered++ for grep { $w->ask($src, @$_) ne 'TIMEOUT' } @$qs;
	is($answered, scalar @$qs, "$what ($src): all " . scalar(@$qs) . ' queries answered');
}

my $verdict = qr/dnswarden: event=(?:would_block|verdict) client=(\S+) detector=(\S+) /;
$w->wait_log(qr/client=127\.162\.1\.6 detector=mx_worm/, 1, 10);
sleep 1;    # let the module's thread write what is queued
my %got;
/$verdict/ and $got{$1}{$2}++ for $w->log_grep($verdict);

for my $t (['127.162.1.1', 'c2mx.test'], ['127.162.1.2', 'c2txt.test'], ['127.162.1.3', 'c2a.test'],
	['127.162.1.4', 'c2null.test']) {
	my ($src, $base) = @$t;
	my $what = $plays{$src}[0];
	is_deeply($got{$src}, {dns_tunnel => 1}, "$what: one dns_tunnel verdict, nothing else");
	ok(scalar $w->log_grep(qr/event=verdict client=\Q$src\E detector=dns_tunnel action=log .*count=20 threshold=20 window=600 .*domain=\Q$base\E /),
		"$what: the verdict names the base domain $base at the 20th distinct name");
}
is_deeply($got{'127.162.1.10'}, {dns_tunnel => 1}, 'iodine-like tunnel, 8 names: one dns_tunnel verdict');
ok(scalar $w->log_grep(qr/client=127\.162\.1\.10 detector=dns_tunnel .*count=2[0-4] threshold=20 .*domain=c2big\.test /),
	'iodine-like tunnel: its payload units reach the threshold, the verdict names c2big.test');
is_deeply($got{'127.162.1.11'}, {dns_tunnel => 1}, 'dnscat2 without a domain: dns_tunnel, not mx_worm');
ok(scalar $w->log_grep(qr/client=127\.162\.1\.11 detector=dns_tunnel .*domain=\(no-public-suffix\) /),
	'dnscat2 without a domain: the verdict says the names have no public suffix');
is_deeply($got{'127.162.1.5'}, {dga => 1}, 'DGA bot: one dga verdict, nothing else');
ok(scalar $w->log_grep(qr/client=127\.162\.1\.5 detector=dga .*count=10 threshold=10 .*name=[bcdfghj-np-tv-xz]{14}\.test /),
	'DGA bot: at the 10th distinct NXDOMAIN domain, naming one of them');
is_deeply($got{'127.162.1.6'}, {mx_worm => 1}, 'worm: one mx_worm verdict, no dns_tunnel');
my ($worm) = $w->log_grep(qr/client=127\.162\.1\.6 detector=mx_worm /);
like($worm // '', qr/ count=20 .* domains="d1[0-3]\d\.victim\.lab( d1[0-3]\d\.victim\.lab)+"/,
	'worm: counted 20 distinct domains, the verdict names the domains it saw');
for my $src (qw(127.162.1.7 127.162.1.8 127.162.1.9)) {
	is_deeply($got{$src} // {}, {}, "$plays{$src}[0] ($src): no verdict at all");
}

my ($st, $out) = $w->ctl('stats');
like($out, qr/verdicts\.dns_tunnel=6\b/, 'stats: 6 dns_tunnel verdicts');
like($out, qr/verdicts\.dga=1\b/, 'stats: 1 dga verdict');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');

# The hook backend counts a query on arrival, before its answer exists: the
# NXDOMAIN answers still reach the dga detector, tunnels are still seen.
subtest 'hook backend' => sub {
	if (my $why = backend_missing('hook')) {
		fail("hook backend: $why");
		return;
	}
	with_backend('hook', sub {
		(my $hy = $yaml) =~ s/enforcement: rpz/enforcement: hook/;
		my $h = DWTest->new(name => 'detect-names-hook', yaml => $hy);
		$h->start;
		$h->ask('127.162.2.5', rnd(14, $CONS) . '.test', 'A') for 1 .. 12;
		$h->ask('127.162.2.1', rnd(40, $HEX) . '.c2mx.test', 'MX') for 1 .. 22;
		ok(scalar $h->wait_log(qr/client=127\.162\.2\.5 detector=dga .*count=10 /, 1, 10),
			'hook: the DGA bot is caught from its NXDOMAIN answers');
		ok(scalar $h->wait_log(qr/client=127\.162\.2\.1 detector=dns_tunnel .*domain=c2mx\.test /, 1, 10),
			'hook: the MX tunnel is caught as dns_tunnel');
		ok(!$h->log_grep(qr/client=127\.162\.2\.1 detector=mx_worm/), 'hook: ... and not as mx_worm');
		$h->stop;
		is_deeply([$h->leftover_pids], [], 'hook: no process left running');
	});
};
done_testing;
