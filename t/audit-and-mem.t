#!/usr/bin/perl
# Issue 9, item 11, with a real Unbound: manual block/unblock lines are audit
# lines and never held back by syslog.rate (here 1 line a second), and
# `unbound-control stats` (extended-statistics) shows the module's real
# memory as mem.mod.dynlibmod.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $w = DWTest->new(yaml => $DWTest::BASE_YAML . "syslog:\n  rate: 1\n",
	extra_conf => "extended-statistics: yes\n");
$w->start;

# 25 manual blocks and unblocks within a second or two
for my $i (1 .. 25) {
	my ($st, $out, $err) = $w->ctl('block', "127.0.16.$i", '1h', 'nxdomain');
	$st == 0 or diag "block $i: $err";
}
for my $i (1 .. 25) {
	my ($st, $out, $err) = $w->ctl('unblock', "127.0.16.$i");
	$st == 0 or diag "unblock $i: $err";
}
is(scalar $w->wait_log(qr/dnswarden: event=block client=127\.0\.16\.\d+\/32 .*reason=control:uid=0 /, 25, 5), 25,
	'every manual block is in the log (syslog.rate 1)');
is(scalar $w->wait_log(qr/dnswarden: event=unblock client=127\.0\.16\.\d+\/32 /, 25, 5), 25,
	'every unblock is in the log');
is(scalar $w->log_grep(qr/event=suppressed/), 0, 'nothing was counted as suppressed');

# mem.mod.dynlibmod: the module's bytes, not 0 (Unbound adds ~100 of its own)
$w->ask("127.0.17.$_", 'portal.campus.test') for 1 .. 20;
sleep 2;    # the module's thread refreshes the sum once a second
my ($mem) = $w->control('stats_noreset') =~ /^mem\.mod\.dynlibmod=(\d+)$/m;
my (undef, $s) = $w->ctl('stats_noreset');
my ($cb) = $s =~ /^clients\.bytes=(\d+)$/m;
my ($sb) = $s =~ /^suspects\.bytes=(\d+)$/m;
my ($mb) = $s =~ /^memory\.bytes=(\d+)$/m;
my ($nb) = $s =~ /^names\.bytes=(\d+)$/m;
ok(defined $mem && $mem > 1_000_000, 'mem.mod.dynlibmod shows the module\'s memory (' . ($mem // 'none') . ' bytes)');
ok(defined $mem && defined $cb && defined $sb && $mem >= $cb + $sb,
	"... at least the client table and the suspects (${\($cb // '?')} + ${\($sb // '?')})");
ok(defined $nb && $nb > 1_000_000 && defined $mem && defined $cb && defined $sb && $mem >= $cb + $sb + $nb,
	"... and the distinct-name sets of dns_tunnel, dga and mx_worm (names.bytes=${\($nb // '?')})");
ok(defined $mb && defined $mem && abs($mem - $mb) < 1_000_000,
	"... about what dnswarden-control stats says (memory.bytes=${\($mb // '?')})");

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running');
done_testing;
