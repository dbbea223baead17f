#!/usr/bin/perl
# A block's life, on both backends: it ends by itself when its duration
# passes, the ladder lengthens the next one, an exempt client is never
# blocked, observe mode only says would_block, and a block survives kill -9
# of Unbound and a restart, and unbound-control reload, with a valid state file.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend wait_answer);
use Test::More;
use Time::HiRes qw(sleep);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';

sub yaml {
	my ($backend, $mode) = @_;
	return <<EOF;
mode: $mode
enforcement: $backend
exempt: [127.0.47.25/32]
policy: { ladder_factor: 2 }
detectors:
  mx_worm:         { threshold: 5, window: 10m, action: nxdomain, duration: 3s }
  signature_names: { enabled: false }
EOF
}

sub run_backend {
	my ($backend) = @_;
	my $w = DWTest->new(name => "enforce-lifecycle-$backend", yaml => yaml($backend, 'enforce'));
	$w->start;
	ok(scalar $w->wait_log(qr/event=loaded .*backend=$backend /), "module loaded with the $backend backend");
	is($w->ask('127.0.47.9', $NAME), $REAL, "$NAME cached");

	# a detector block that expires by itself
	$w->dwsim('-S', '127.0.47.1', '-n', 6, '--seed', 5, 'sobig');
	ok(scalar $w->wait_log(qr/event=block client=127\.0\.47\.1\/32 action=nxdomain duration=3 .*reason=detector:mx_worm offences=1 /),
		'mx_worm blocks 127.0.47.1 for 3 s');
	is(wait_answer($w, '127.0.47.1', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'blocked: NXDOMAIN for a cached name');
	ok(scalar $w->wait_log(qr/event=expire client=127\.0\.47\.1\/32 action=nxdomain duration=3 reason=mx_worm/, 1, 8),
		'the block expires by itself');
	is(wait_answer($w, '127.0.47.1', $NAME, 'A', $REAL, 3), $REAL, 'after expiry: the real answer');

	# the ladder: the next block of the same client lasts twice as long
	my ($st, $out, $err) = $w->ctl('block', '127.0.47.1', '3s');
	like($out, qr/^duration=6$/m, 'second block within the ladder window: 2 x 3 s') or diag "$out$err";
	like($out, qr/^offences=2$/m, 'and it counts as the second offence');
	$w->ctl('unblock', '127.0.47.1');

	# exempt: crosses every threshold, never blocked
	$w->dwsim('-S', '127.0.47.25', '-n', 60, '--seed', 6, 'sobig');
	sleep 0.5;
	is(scalar $w->log_grep(qr/client=127\.0\.47\.25/), 0, 'exempt client: no verdict, no block');
	is($w->ask('127.0.47.25', $NAME), $REAL, 'exempt client gets real answers');

	# persistence: kill -9, restart, reload
	($st, $out, $err) = $w->ctl('block', '127.0.47.3', '1h', 'nxdomain');
	is($st, 0, 'manual block of 127.0.47.3 for 1 h') or diag $err;
	ok($w->wait_state(qr/^block 127\.0\.47\.3\/32 nxdomain /m), 'the state file is written with it');
	kill 'KILL', $w->{unbound};
	waitpid($w->{unbound}, 0);
	delete $w->{unbound};
	open(my $fh, '<', $w->state) or die;
	my @state = <$fh>;
	close $fh;
	like($state[0], qr/^# dnswarden state v2 /, 'after kill -9 the state file is whole (header)');
	ok((grep { /^block 127\.0\.47\.3\/32 nxdomain manual 1 / } @state), 'and holds the block');
	$w->start;
	is(wait_answer($w, '127.0.47.3', $NAME, 'A', 'NXDOMAIN', 3), 'NXDOMAIN', 'after kill -9 and a restart: still blocked');
	is($w->ask('127.0.47.9', $NAME), $REAL, 'and the neighbour is not');
	like($w->control('reload'), qr/^ok/, 'unbound-control reload');
	$w->wait_log(qr/event=loaded /, 3);
	is(wait_answer($w, '127.0.47.3', $NAME, 'A', 'NXDOMAIN', 5), 'NXDOMAIN', 'after reload: still blocked');
	($st, $out) = $w->ctl('list_blocked');
	like($out, qr/^client=127\.0\.47\.3\/32 action=nxdomain reason=manual /m, 'list_blocked after reload');
	$w->stop;
	is_deeply([$w->leftover_pids], [], 'no process left running');

	# observe mode: the same traffic only says would_block
	my $o = DWTest->new(name => "enforce-observe-$backend", yaml => yaml($backend, 'observe'));
	$o->start;
	is($o->ask('127.0.47.9', $NAME), $REAL, "$NAME cached");
	$o->dwsim('-S', '127.0.47.1', '-n', 6, '--seed', 5, 'sobig');
	ok(scalar $o->wait_log(qr/event=would_block client=127\.0\.47\.1 detector=mx_worm action=nxdomain /),
		'observe mode: would_block');
	sleep 0.5;
	is(scalar $o->log_grep(qr/event=block /), 0, 'observe mode: no block');
	is($o->ask('127.0.47.1', $NAME), $REAL, 'observe mode: the client still gets the real answer');
	$o->stop;
	is_deeply([$o->leftover_pids], [], 'no process left running');
}

for my $backend (qw(rpz hook)) {
	subtest "$backend backend" => sub {
		if (my $why = backend_missing($backend)) {
			fail("$backend backend: $why");
			return;
		}
		with_backend($backend, sub { run_backend($backend) });
	};
}
done_testing;
