#!/usr/bin/perl
# A flood of new source addresses must not hide a worm: a real Unbound with
# the module (clients.max 2000), a worm sending 120 MX queries at 25 a
# second, alone and while 4000 distinct sources (2 × clients.max) send 4000
# plain queries a second. mx_worm must fire at the worm's 50th MX query
# both times (the verdict's evidence mx=), the flood must really have
# evicted clients, and the module must say so: evictions per second in
# stats and metrics, one rate-limited event=eviction_storm line.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;

my $yaml = <<'EOF2';
mode: observe
enforcement: rpz
clients:
  max: 2000
EOF2

my $w = DWTest->new(yaml => $yaml);
$w->start;
my $dir = $w->dir;
open(my $fh, '>', "$dir/worm.txt") or die;
print $fh map { "d$_.victim.lab MX\n" } 1 .. 120;
close $fh;
open($fh, '>', "$dir/plain.txt") or die;
print $fh "www.campus.test A\n";
close $fh;

# warm the cache, so that the flood is answered at full speed
like($w->dwsim('-S', '127.0.41.1', '-n', 240, '-w', 8, 'names', "$dir/worm.txt"),
	qr/answered=240 /, 'cache warmed with the worm\'s names');
like($w->dwsim('-S', '127.0.41.1', '-n', 2, 'names', "$dir/plain.txt"), qr/answered=2 /,
	'and the flood\'s name');

# The MX query number at which mx_worm fired for $src (evidence mx=N).
sub flagged_at {
	my ($src) = @_;
	my ($l) = $w->wait_log(qr/client=\Q$src\E detector=mx_worm /, 1, 10);
	return defined $l && $l =~ / count=(\d+) .* mx=(\d+)/ ? "count=$1 mx=$2" : 'never';
}

like($w->dwsim('-S', '127.0.41.9', '-r', 25, '-n', 120, '-w', 4, 'names', "$dir/worm.txt"),
	qr/answered=120 /, 'worm alone: 120 MX answered');
is(flagged_at('127.0.41.9'), 'count=50 mx=50', 'worm alone: flagged at its 50th MX query');

# the flood: 4000 sources round robin, each once a second, for 8 seconds
my $sim = "$DWTest::BUILDDIR/tools/dwsim";
my $fpid = fork() // die "fork: $!";
if ($fpid == 0) {
	open(STDOUT, '>', "$dir/flood.out") or die;
	open(STDERR, '>&', \*STDOUT) or die;
	exec($sim, '-q', '-s', '127.0.0.1:' . $w->port, '-S', '127.66.0.1-127.66.15.160',
		'-r', 4000, '-d', 8, '-w', 1, '-t', 500, 'names', "$dir/plain.txt") or exit 127;
}
sleep 2;
like($w->dwsim('-S', '127.0.41.10', '-r', 25, '-n', 120, '-w', 4, 'names', "$dir/worm.txt"),
	qr/answered=120 /, 'worm under the flood: 120 MX answered');
waitpid($fpid, 0);
is($? >> 8, 0, 'the flood ran');
my $flood = do { local $/; open(my $f, '<', "$dir/flood.out") or die; <$f> };
my ($sent) = $flood =~ /sent=(\d+)/;
cmp_ok($sent // 0, '>=', 30000, "the flood sent $sent queries from 4000 sources");
is(flagged_at('127.0.41.10'), 'count=50 mx=50',
	'worm under a flood of 2 x clients.max new sources a second: flagged at its 50th MX query');

my ($st, $out) = $w->ctl('stats_noreset');
is($st, 0, 'stats_noreset');
my ($ev) = $out =~ /^clients\.evictions=(\d+)$/m;
cmp_ok($ev // 0, '>=', 20000, "the flood evicted clients ($ev)");
like($out, qr/^clients\.evictions_per_s=\d+$/m, 'stats: clients.evictions_per_s');
like($out, qr/^clients\.tracked=2000$/m, 'the table stayed at clients.max');
($st, $out) = $w->ctl('metrics');
like($out, qr/^dnswarden_clients_evictions_per_second \d+$/m, 'metrics: evictions per second');
my @storm = $w->wait_log(qr/dnswarden: event=eviction_storm /, 1, 5);
is(scalar(@storm), 1, 'one event=eviction_storm line (rate-limited to one a minute)');
like($storm[0] // '', qr/ evictions_60s=(\d+) capacity=2000 evictions_per_s=\d+ /,
	'it says how many were evicted in the last minute, against the capacity');

$w->stop;
done_testing();
