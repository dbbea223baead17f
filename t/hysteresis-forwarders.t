#!/usr/bin/perl
# One verdict per offence, and pooled clients (man dnswarden.yaml(5):
# detectors.NAME.rearm, forwarders): a client hovering at the mx_worm
# threshold for many window slots gives ONE verdict and one block; after its
# count fell below the re-arm level a new crossing is a second offence that
# climbs the ladder while the first block is still in force; a forwarder is
# judged with threshold_factor x the threshold, logged with forwarder=1 and
# never blocked, while a plain client doing the same is; a manual block of
# the forwarder still works.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';
my $HOVER = '127.164.1.1';    # hovers at the threshold
my $PLAIN = '127.164.1.2';    # a PC doing what the forwarder does
my $FWD   = '127.164.2.53';   # an internal resolver (forwarders:)

my $w = DWTest->new(name => 'hysteresis-forwarders', yaml => <<'EOF2');
mode: enforce
enforcement: rpz
policy: { ladder_factor: 2 }
forwarders: { prefixes: [127.164.2.0/24], threshold_factor: 3 }
detectors:
  mx_worm:         { threshold: 6, window: 8s, action: nxdomain, duration: 1h }
  spam_relay:      { enabled: false }
  signature_names: { enabled: false }
EOF2
$w->start;
ok(scalar $w->wait_log(qr/event=loaded .*backend=rpz /), 'module loaded, enforce mode, rpz');
is($w->ask('127.164.1.9', $NAME), $REAL, "$NAME cached");

my $q = 0;
# $n MX queries from $src for distinct names, back to back.
sub mx_burst {
	my ($src, $n) = @_;
	$w->ask($src, 'mx.d' . $q++ . '.victim.lab', 'MX') for 1 .. $n;
}
my $worm = qr/event=verdict client=\Q$HOVER\E detector=mx_worm /;
my $block = qr/event=block client=\Q$HOVER\E\/32 action=nxdomain /;

# Hovering: 2 queries every 3 s in an 8 s window. From the third burst on,
# the first query of each burst sees 5 (below the threshold 6) and the second
# 6 again; the count never falls below the re-arm level 3 (half of 6).
for my $i (1 .. 9) {
	my $t0 = time;
	mx_burst($HOVER, 2);
	my $rest = 3 - (time - $t0);
	sleep $rest if $rest > 0;
}
$w->wait_log($block, 1, 5);
sleep 1;    # the module's thread writes what is queued
is(scalar $w->log_grep($worm), 1, 'hovering at the threshold for 27 s (9 bursts): one verdict');
my @b = $w->log_grep($block);
is(scalar @b, 1, 'and one block');
like($b[0] // '', qr/ duration=3600 .*reason=detector:mx_worm offences=1 /, 'first offence: 1 h');
is($w->ask($HOVER, $NAME), 'NXDOMAIN', 'the hovering client is blocked');

# Quiet until the window has emptied (below the re-arm level), then a new
# crossing while the first block is still in force: the second offence.
sleep 9;
mx_burst($HOVER, 6);
ok(scalar $w->wait_log($worm, 2, 10), 'after re-arming, a new crossing: a second verdict');
@b = $w->wait_log($block, 2, 10);
like($b[1] // '', qr/ duration=7200 .*reason=detector:mx_worm offences=2 /,
	'the second offence climbs the ladder while blocked: 2 x 1 h, offences=2');
my ($st, $out) = $w->ctl('show_client', $HOVER);
like($out, qr/^offences=2$/m, 'show_client: offences=2');
like($out, qr/^forwarder=no$/m, 'show_client: not a forwarder');

# A forwarder: 17 MX queries (over 6, under 3 x 6) are no offence.
mx_burst($FWD, 17);
sleep 1.5;
is(scalar $w->log_grep(qr/client=\Q$FWD\E/), 0, 'forwarder at 17 (< 3 x 6): nothing logged');
mx_burst($FWD, 3);
my @v = $w->wait_log(qr/event=verdict client=\Q$FWD\E detector=mx_worm /, 1, 10);
like($v[0] // '', qr/ action=log .*count=18 threshold=18 .* forwarder=1 /,
	'forwarder at 3 x 6: a verdict, action=log, threshold=18, forwarder=1');
# the same traffic from a plain client
mx_burst($PLAIN, 20);
ok(scalar $w->wait_log(qr/event=block client=\Q$PLAIN\E\/32 action=nxdomain .*reason=detector:mx_worm /, 1, 10),
	'a plain client doing the same is blocked');
is($w->ask($PLAIN, $NAME), 'NXDOMAIN', 'and gets NXDOMAIN');
sleep 1;
is(scalar $w->log_grep(qr/event=block client=\Q$FWD\E/), 0, 'the forwarder is never blocked');
is($w->ask($FWD, $NAME), $REAL, 'the forwarder gets real answers');
($st, $out) = $w->ctl('forwarders');
like($out, qr/^threshold_factor=3$/m, 'forwarders: the factor');
like($out, qr/^verdicts=1$/m, 'forwarders: one verdict');
like($out, qr/^prefix=127\.164\.2\.0\/24$/m, 'forwarders: the prefix');
like($out, qr/^client=\Q$FWD\E queries=21 fired=mx_worm mx_8s=\d+ /m,
	'forwarders: the forwarder, its queries and count') or diag $out;
($st, $out) = $w->ctl('--json', 'forwarders');
my $j = eval { JSON::PP::decode_json($out) } // {};
is_deeply([map { $_->{client} } @{ $j->{clients} // [] }], [$FWD], 'forwarders --json: the forwarder')
	or diag $out;
($st, $out) = $w->ctl('metrics');
like($out, qr/^dnswarden_forwarder_verdicts_total 1$/m, 'metrics: forwarder verdicts');
# the incident row says what was done, as the log line does (action=log)
my $row = qr/^id=\d+ time=\S+ event=verdict client=\Q$FWD\E\/32 detector=mx_worm action=(\S+) /m;
my $deadline = time + 10;
($st, $out) = $w->ctl('incidents', '--client', $FWD);
while ($out !~ $row && time < $deadline) { sleep 0.2; ($st, $out) = $w->ctl('incidents', '--client', $FWD) }
is(($out =~ $row)[0], 'log', 'incidents: the forwarder\'s verdict row says action=log, as its log line')
	or diag $out;
($st, $out) = $w->ctl('show_client', $FWD);
like($out, qr/^forwarder=yes$/m, 'show_client: forwarder=yes');
($st, $out) = $w->ctl('block', $FWD, '1h');
is($st, 0, 'a manual block of the forwarder is taken');
is($w->ask($FWD, $NAME), 'NXDOMAIN', 'and works');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process left running');
done_testing();
