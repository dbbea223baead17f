#!/usr/bin/perl
# Blocks hold from the very first query after a start, a kill -9 or a
# reload, on both backends: with rpz because the module keeps the RPZ zone
# file of unbound.conf in step with the block list (Unbound loads it before
# it answers anything), with the hook because the state file is read in
# init(), before Unbound's workers start. Measures the time from Unbound's
# start to the first (enforced) answer.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use DWEnforce qw(backend_missing with_backend wait_answer);
use IO::Socket::INET;
use IO::Select;
use Net::DNS;
use Test::More;
use Time::HiRes qw(sleep time);

my $NAME = 'www.campus.test';
my $REAL = 'NOERROR 192.0.2.80';
my %EXPECT = (rpz => ['nxdomain', 'NXDOMAIN'], hook => ['refuse', 'REFUSED']);

# Send $NAME from each of @src every 5 ms until each has its first answer;
# returns ({src => rcode}, seconds from $t0 to the first answer of all).
sub first_answers {
	my ($w, $t0, $secs, @src) = @_;
	my (%sock, %rc, $first);
	my $sel = IO::Select->new;
	for my $src (@src) {
		$sock{$src} = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $src,
			PeerAddr => '127.0.0.1', PeerPort => $w->port) or die "socket $src: $!";
		$sel->add($sock{$src});
	}
	my $q = Net::DNS::Packet->new($NAME, 'A');
	$q->header->rd(1);
	my $deadline = time + $secs;
	while (time < $deadline && keys %rc < @src) {
		for my $src (grep { !exists $rc{$_} } @src) {
			$q->header->id(int(rand(65535)));
			send($sock{$src}, $q->data, 0);    # refused (ICMP) until Unbound listens: fine
		}
		for my $s ($sel->can_read(0.005)) {
			my $buf;
			next unless defined recv($s, $buf, 4096, 0);
			my $p = Net::DNS::Packet->new(\$buf) or next;
			my $src = $s->sockhost;
			next if exists $rc{$src};
			$rc{$src} = $p->header->rcode;
			$first //= time - $t0;
		}
	}
	$rc{$_} //= 'TIMEOUT' for @src;
	return (\%rc, $first);
}

# One client's first answer: (rcode, seconds from $t0).
sub first_answer {
	my ($w, $src, $t0, $secs) = @_;
	my ($rc, $dt) = first_answers($w, $t0, $secs, $src);
	return ($rc->{$src}, $dt);
}

# Add $n blocks of 127.1.x.y (action $action, 1 h) to the state file of a
# stopped Unbound: a block list that takes the module a while to push.
sub add_blocks {
	my ($w, $n, $action) = @_;
	my $now = time;
	open(my $fh, '>>', $w->state) or die;
	for my $i (1 .. $n) {
		printf $fh "block 127.1.%d.%d/32 %s manual 1 1 3600 %d %d\n", $i >> 8, $i & 255, $action,
			$now, $now + 3600;
	}
	close $fh or die;
}

# The state file holds a block of $client (the module saves it within 1 s).
sub wait_saved {
	my ($w, $client) = @_;
	for (1 .. 60) {
		if (open(my $fh, '<', $w->state)) {
			return 1 if grep { /^block \Q$client\E\/32 / } <$fh>;
		}
		sleep 0.1;
	}
	return 0;
}

sub run_backend {
	my ($backend) = @_;
	my ($action, $rcode) = @{ $EXPECT{$backend} };
	my $w = DWTest->new(name => "first-query-$backend", yaml => "mode: enforce\nenforcement: $backend\n"
		. "detectors:\n  signature_names: { enabled: false }\n");
	$w->start;
	ok(scalar $w->wait_log(qr/event=loaded .*backend=$backend /), "module loaded with the $backend backend");
	my ($st, $out, $err) = $w->ctl('block', '127.0.48.3', '1h', $action);
	is($st, 0, "manual block of 127.0.48.3 ($action)") or diag $err;
	is(wait_answer($w, '127.0.48.3', $NAME, 'A', $rcode, 3), $rcode, "blocked: $rcode");
	ok(wait_saved($w, '127.0.48.3'), 'the block is in the state file');
	if ($backend eq 'rpz') {
		# written by the module's thread on its own schedule, not with the
		# state file: wait for it
		my $zf = $w->dir . '/unbound/dnswarden.rpz.zone';
		my $trigger = qr/^32\.3\.48\.0\.127\.rpz-client-ip\.dnswarden\.rpz\. \d+ IN CNAME \.$/m;
		my $z = '';
		DWTest::wait_until(60, sub {
			open(my $fh, '<', $zf) or return 0;
			$z = do { local $/; <$fh> } // '';
			$z =~ $trigger;
		});
		like($z, $trigger, 'the RPZ zone file unbound.conf names holds the trigger');
	}

	my @ms;
	# round 1 with one block; then 30,000 more, 20 of which (and the first
	# one) ask at once
	my @probe = ('127.0.48.3', map { sprintf('127.1.%d.%d', $_ >> 8, $_ & 255) } map { $_ * 1499 } 1 .. 20);
	for my $round (1 .. 3) {
		kill 'KILL', $w->{unbound};
		waitpid($w->{unbound}, 0);
		delete $w->{unbound};
		add_blocks($w, 30000, $action) if $round == 2;
		my $t0 = time;
		$w->start(no_wait => 1);
		my ($rc, $dt) = first_answers($w, $t0, 30, $round == 1 ? $probe[0] : @probe);
		is_deeply([sort grep { $rc->{$_} ne $rcode } keys %$rc], [],
			"kill -9 and restart ($round): the very first answer to each blocked client asking is $rcode")
			or diag explain $rc;
		push @ms, defined $dt ? sprintf('%.0f', $dt * 1000) : 'none';
		my $up = 0;
		for (1 .. 100) { $up = 1, last if $w->control('status') =~ /is running/; sleep 0.1 }
		ok($up, 'Unbound is up');
	}
	diag("$backend: Unbound start to first enforced answer: $ms[0] ms with 1 block, "
		. "@ms[1, 2] ms with 30,001 blocks");
	is($w->ask('127.0.48.9', $NAME), $REAL, 'a neighbour gets the real answer');

	# reload: a second block, then every answer after `reload` is enforced
	($st, $out, $err) = $w->ctl('block', '127.0.48.4', '1h', $action);
	is($st, 0, 'manual block of 127.0.48.4') or diag $err;
	ok(wait_saved($w, '127.0.48.4'), 'saved');
	like($w->control('reload'), qr/^ok/, 'unbound-control reload');
	my %seen;
	my $t0 = time;
	while (time - $t0 < 1.5) {
		for my $c ('127.0.48.3', '127.0.48.4') {
			my ($rc) = first_answer($w, $c, time, 30);    # a reload of 30,001 blocks takes seconds
			$seen{"$c $rc"}++;
		}
	}
	is_deeply([sort grep { !/ $rcode$/ } keys %seen], [], "after reload every answer to both blocked clients is $rcode")
		or diag explain \%seen;
	$w->stop;
	is_deeply([$w->leftover_pids], [], 'no process left running');
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
