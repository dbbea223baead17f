#!/usr/bin/perl
# Upstream observations (the whitelist's input) are counted where an
# operator looks: a real Unbound resolving 300 names it has not seen sends
# at least one upstream query for each, and `stats`, `stats_noreset` and
# `metrics` count every one of them as learned, with 0 dropped.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use Time::HiRes qw(sleep);

my $N = 300;
my $w = DWTest->new(name => 'upstream-stats', yaml => "mode: observe\nenforcement: rpz\n");
$w->start;

sub stat_of {
	my ($cmd, $key) = @_;
	my ($st, $out) = $w->ctl($cmd);
	return $out =~ /^\Q$key\E=(\d+)$/m ? $1 : undef;
}

my $answered = 0;
for my $i (1 .. $N) {
	$answered++ if $w->ask('127.0.49.1', "up$i.victim.lab", 'A') =~ /^NOERROR /;
}
is($answered, $N, "$N names under victim.lab resolved");
my $events;
DWTest::wait_until(60, sub { ($events = stat_of('stats_noreset', 'upstream.events') // 0) >= $N });
cmp_ok($events, '>=', $N, "stats: at least one upstream event per name resolved ($events)");
is(stat_of('stats_noreset', 'upstream.dropped'), 0, 'stats: upstream.dropped=0');

my ($st, $out) = $w->ctl('metrics');
like($out, qr/^# TYPE dnswarden_upstream_events_total counter$/m, 'metrics: upstream events counter');
my ($m) = $out =~ /^dnswarden_upstream_events_total (\d+)$/m;
cmp_ok($m // 0, '>=', $events, 'metrics: the same count');
like($out, qr/^dnswarden_upstream_dropped_total 0$/m, 'metrics: 0 dropped');

# stats resets its counters, stats_noreset does not
stat_of('stats', 'upstream.events');
is(stat_of('stats_noreset', 'upstream.events'), 0, 'after stats: upstream.events starts again at 0');
$w->ask('127.0.49.1', "again1.victim.lab", 'A');
DWTest::wait_until(60, sub { (stat_of('stats_noreset', 'upstream.events') // 0) > 0 });
cmp_ok(stat_of('stats_noreset', 'upstream.events'), '>', 0, 'and counts the next name resolved');
is(scalar $w->log_grep(qr/event=upstream_dropped/), 0, 'no upstream_dropped line in the log');
$w->stop;
is_deeply([$w->leftover_pids], [], 'no process left running');
done_testing;
