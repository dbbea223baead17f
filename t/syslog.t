#!/usr/bin/perl
# The syslog path, proven with a real syslog daemon: Unbound logs to syslog
# (use-syslog: yes), dnswarden's lines reach rsyslogd with the configured
# facility and Unbound's own ident (no openlog()), and a burst of verdicts is
# capped at syslog.rate lines per second with one "suppressed" line.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $yaml = <<'EOF2';
mode: observe
enforcement: rpz
syslog: { facility: local3, rate: 5 }
detectors:
  mx_worm:         { threshold: 5, window: 10m, action: sinkhole }
  signature_names: { enabled: false }
EOF2

my $devlog_before = -e '/dev/log' ? 1 : 0;
my $w = DWTest->new(yaml => $yaml, syslog => 1, extra_conf => "server:\n\tuse-syslog: yes\n");
$w->start;
my $pid = $w->{unbound};

my @l;
for (1 .. 100) { @l = $w->syslog_grep(qr/dnswarden: event=loaded/); last if @l; select(undef, undef, undef, 0.05) }
like($l[0] // '', qr/^local3\.notice unbound\[-\]: +dnswarden: event=loaded version=/,
	'loaded line: facility local3, severity notice, ident unbound');
# Unbound opens syslog without LOG_PID and writes "[pid:thread]" itself
ok(scalar $w->syslog_grep(qr/^daemon\.\w+ unbound\[-\]: +\[$pid:\d+\] /),
	"Unbound's own lines keep their facility (daemon) and ident: no openlog() by the module");

# one client: one verdict
like($w->dwsim('-S', '127.0.41.1', '-n', 12, '--seed', 1, 'sobig'), qr/answered=12 /, 'one sobig client');
for (1 .. 100) { @l = $w->syslog_grep(qr/client=127\.0\.41\.1 detector=mx_worm/); last if @l; select(undef, undef, undef, 0.05) }
like($l[0] // '', qr/^local3\.notice unbound\[-\]: +dnswarden: event=would_block client=127\.0\.41\.1 detector=mx_worm action=sinkhole /,
	'verdict reaches syslog as one line');

# 50 clients cross at once: at most a second's budget of lines, the rest counted
sleep 2;    # refill the bucket (5 lines/s, burst 5)
like($w->dwsim('-S', '127.0.42.1-127.0.42.50', '-n', 500, '--seed', 2, 'sobig'), qr/answered=500 /, '50 sobig clients');
my @sup;
for (1 .. 100) { @sup = $w->syslog_grep(qr/dnswarden: event=suppressed/); last if @sup; select(undef, undef, undef, 0.05) }
sleep 1;
@sup = $w->syslog_grep(qr/dnswarden: event=suppressed lines=(\d+)/);
my @v = $w->syslog_grep(qr/client=127\.0\.42\.\d+ detector=mx_worm/);
my $suppressed = 0;
/lines=(\d+)/ and $suppressed += $1 for @sup;
ok(@v >= 5 && @v <= 10, 'the burst wrote a bounded number of verdict lines (' . scalar(@v) . ', rate 5/s)');
is(@v + $suppressed, 50, 'written + suppressed = the 50 verdicts');
like($sup[0] // '', qr/^local3\.warning unbound\[-\]: +dnswarden: event=suppressed lines=\d+$/, 'suppressed lines say how many');
ok(@sup <= 3, 'at most one suppressed line a second (' . scalar(@sup) . ')');

$w->stop;
is_deeply([$w->leftover_pids], [], 'no process of this test left running (unbound, rsyslogd, world)');
is(-e '/dev/log' ? 1 : 0, $devlog_before, "the host's /dev/log is as it was");
done_testing;
