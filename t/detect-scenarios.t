#!/usr/bin/perl
# Detection end to end: the traffic simulator plays each scenario against a
# real Unbound with the module (observe mode, thresholds scaled down), and
# the log must name the right detector for the right client, and nothing
# for benign, exempt and NAT traffic.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $yaml = <<'EOF2';
mode: observe
enforcement: rpz
exempt: [127.0.40.25/32]
detectors:
  mx_worm:         { threshold: 20, window: 10m, action: sinkhole, duration: 1h }
  spam_relay:      { threshold: 20, window: 10m, action: nxdomain, duration: 1h }
  mx_keyword_scan: { threshold: 20, window: 1h, action: nxdomain, duration: 1h }
  ip_literal:      { threshold: 20, window: 1h, action: nxdomain, duration: 1h }
  ptr_flood:       { threshold: 100, window: 1m, action: drop, duration: 10m }
  ptr_forward_ip:  { threshold: 10, window: 10m, action: log }
  signature_names: { threshold: 1, window: 1h, action: log }
EOF2

my $w = DWTest->new(yaml => $yaml);
$w->start;

# scenario => [source, count, detectors that must fire, detectors that must not]
my @plays = (
	[sobig              => '127.0.40.1',  60,  [qw(mx_worm signature_names)], [qw(spam_relay ptr_flood)]],
	[mydoom             => '127.0.40.2',  80,  [qw(mx_keyword_scan)],        [qw(spam_relay ptr_flood ip_literal)]],
	[mytob_keywords     => '127.0.40.3',  40,  [qw(mx_keyword_scan)],        [qw(mx_worm spam_relay ip_literal)]],
	[ip_literal_scanner => '127.0.40.4',  40,  [qw(ip_literal)],             [qw(mx_worm mx_keyword_scan)]],
	[spam_relay         => '127.0.40.5',  80,  [qw(spam_relay)],             [qw(ptr_flood ip_literal)]],
	[ptr_flood          => '127.0.40.6',  150, [qw(ptr_flood)],              [qw(mx_worm spam_relay)]],
	[ptr_forward_ip     => '127.0.40.7',  40,  [qw(ptr_forward_ip)],         [qw(mx_worm)]],
	[mail_server        => '127.0.40.8',  200, [qw(spam_relay)],             []],   # same MTA, not exempt
	[benign_pc          => '127.0.40.10', 300, [],                           undef],
	[nat_gateway        => '127.0.40.11', 600, [],                           undef],
	[mail_server        => '127.0.40.25', 200, [],                           undef],   # exempt
);

for my $p (@plays) {
	my ($scen, $src, $n) = @$p;
	my $out = $w->dwsim('-S', $src, '-n', $n, '--seed', 7, $scen);
	like($out, qr/scenario=$scen sent=$n answered=$n /, "$scen from $src: all $n queries answered");
}

my $verdict = qr/dnswarden: event=(?:would_block|verdict) client=(\S+) detector=(\S+) /;
$w->wait_log(qr/client=127\.0\.40\.7 detector=ptr_forward_ip/, 1, 10);
sleep 1;    # let the module's thread write what is queued
my %got;
for ($w->log_grep($verdict)) {
	/$verdict/ and $got{$1}{$2}++;
}
for my $p (@plays) {
	my ($scen, $src, $n, $must, $mustnot) = @$p;
	for my $d (@$must) {
		is($got{$src}{$d}, 1, "$scen ($src): one $d verdict");
	}
	if (!defined $mustnot) {
		is_deeply($got{$src} // {}, {}, "$scen ($src): no verdict at all");
	} else {
		ok(!$got{$src}{$_}, "$scen ($src): no $_") for @$mustnot;
	}
}

# observe mode: actions other than log are reported as would_block
ok(scalar $w->log_grep(qr/event=would_block client=127\.0\.40\.1 detector=mx_worm action=sinkhole duration=3600 count=20 threshold=20 window=600 /),
	'observe mode: mx_worm (sinkhole) logged as would_block with count, threshold and window');
ok(scalar $w->log_grep(qr/event=verdict client=127\.0\.40\.1 detector=signature_names action=log /),
	'action log: logged as event=verdict');
my ($line) = $w->log_grep(qr/client=127\.0\.40\.1 detector=mx_worm /);
like($line, qr/ mx=\d+ ptr=0 other=\d+ evidence_window=3600 names="[^"]*victim\.lab\.[^"]*"/,
	'evidence: counts per query class and the recent distinct names');
like($line, qr/first_seen=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ time=\S+Z/, 'evidence: first seen and time');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
