#!/usr/bin/perl
# A block the backend cannot apply: a `refuse` block saved under the hook
# backend and loaded under `enforcement: rpz` is mapped once to nxdomain (one
# log line), enforced from then on, and never retried in a loop (the failed
# backend operations stay few).
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend wait_answer);
use Test::More;
use Time::HiRes qw(sleep);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';

for my $b (qw(hook rpz)) {
	if (my $why = backend_missing($b)) { BAIL_OUT($why) }
}

sub yaml {
	my ($backend) = @_;
	return <<EOF;
mode: enforce
enforcement: $backend
detectors:
  signature_names: { enabled: false }
EOF
}

my $w = DWTest->new(name => 'enforce-backend-map', yaml => yaml('hook'));
with_backend('hook', sub {
	$w->start;
	ok(scalar $w->wait_log(qr/event=loaded .*backend=hook /), 'hook backend loaded');
	my ($st, $out, $err) = $w->ctl('block', '127.0.48.3', '1h', 'refuse');
	is($st, 0, 'manual refuse block under hook') or diag $err;
	is(wait_answer($w, '127.0.48.3', $NAME, 'A', 'REFUSED', 3), 'REFUSED', 'hook: REFUSED');
	ok($w->wait_state(qr/^block 127\.0\.48\.3\/32 refuse /m), 'saved in the state file');
	$w->stop_unbound;
});
open(my $fh, '<', $w->state) or die;
my @state = grep { /^block / } <$fh>;
close $fh;
ok((grep { /^block 127\.0\.48\.3\/32 refuse manual 1 / } @state), 'the state file holds the refuse block');

$w->write_file($w->yaml, $w->with_paths(yaml('rpz')));
with_backend('rpz', sub {
	$w->start;
	ok(scalar $w->wait_log(qr/event=loaded .*backend=rpz /), 'rpz backend loaded with the same state file');
	is(wait_answer($w, '127.0.48.3', $NAME, 'A', 'NXDOMAIN', 5), 'NXDOMAIN',
		'the refuse block is enforced as NXDOMAIN under rpz');
	is($w->ask('127.0.48.9', $NAME), $REAL, 'a neighbour gets the real answer');
	my @m = $w->wait_log(qr/event=block_mapped /);
	is(scalar @m, 1, 'one block_mapped line');
	like($m[0] // '', qr/event=block_mapped client=127\.0\.48\.3\/32 from=refuse to=nxdomain backend=rpz/,
		'it names the client, both actions and the backend');
	sleep 2;
	my ($st, $out) = $w->ctl('stats_noreset');
	my ($errs) = $out =~ /^backend\.errors=(\d+)$/m;
	ok(defined $errs && $errs == 0, 'failed backend operations stay few') or diag "backend.errors=" . ($errs // 'none');
	($st, $out) = $w->ctl('list_blocked');
	like($out, qr/^client=127\.0\.48\.3\/32 action=nxdomain /m, 'list_blocked shows the mapped action');
	is(scalar $w->log_grep(qr/event=block_mapped /), 1, 'still one block_mapped line after 2 s');
	$w->stop;
});
is_deeply([$w->leftover_pids], [], 'no process left running');
done_testing;
