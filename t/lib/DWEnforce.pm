package DWEnforce;
# Helpers for the enforcement tests (t/enforce-*.t) and tools/dev/churn-rpz, on
# top of DWTest: which Unbound build serves which backend, control-socket
# requests without a process per command, two clients asking at the same
# moment, and a process's resident memory.
use strict;
use warnings;
use Exporter qw(import);
use IO::Select;
use IO::Socket::UNIX;
use Net::DNS;
use Time::HiRes qw(sleep time);

use DWTest;

our @EXPORT_OK = qw(unbound_prefix backend_missing with_backend ctl answer_text ask_together
	wait_answer rss_kb hwm_kb);

# The Unbound installation a backend runs on: the stock dynlib build for rpz
# ($UNBOUND_PREFIX, default _deps/unbound), the patched one for hook
# ($UNBOUND_HOOK_PREFIX, default _deps/unbound-hook).
sub unbound_prefix {
	my ($backend) = @_;
	return $ENV{UNBOUND_HOOK_PREFIX} || "$DWTest::SRCDIR/_deps/unbound-hook" if $backend eq 'hook';
	return $ENV{UNBOUND_PREFIX} || "$DWTest::SRCDIR/_deps/unbound";
}

# A reason to skip a backend's tests, or undef when its Unbound is there.
sub backend_missing {
	my ($backend) = @_;
	my $p = unbound_prefix($backend);
	return undef if -x "$p/sbin/unbound";
	return "no $p/sbin/unbound" . ($backend eq 'hook' ? ' (tools/dev/build-unbound --patched)' : '');
}

# Run code with DWTest starting and controlling the Unbound of $backend.
# (DWTest reads $DWTest::UNBOUND at each start() and control().)
sub with_backend {
	my ($backend, $code) = @_;
	local $DWTest::UNBOUND = unbound_prefix($backend);
	return $code->();
}

# One control-socket request (protocol DWCTL1, control.h): returns
# (1, body) for "ok", (0, "STATUS MESSAGE") for "error ...", (0, reason) when
# the socket does not answer.
sub ctl {
	my ($socket, @args) = @_;
	my $c = IO::Socket::UNIX->new(Peer => $socket, Type => SOCK_STREAM)
		or return (0, "connect $socket: $!");
	print $c "DWCTL1 @args\n";
	local $/;
	my $r = <$c> // '';
	close $c;
	return (1, $1) if $r =~ /\Aok\n(.*)\z/s;
	return (0, $1) if $r =~ /\Aerror (.*?)\n?\z/s;
	return (0, "bad response '$r'");
}

# "RCODE first-A/AAAA" of a packet (as DWTest::ask), "TIMEOUT" for undef,
# with " TC" when the truncation bit is set.
sub answer_text {
	my ($p) = @_;
	return 'TIMEOUT' unless $p;
	my ($rr) = grep { $_->type =~ /^(A|AAAA)$/ } $p->answer;
	my $s = $p->header->rcode . ($rr ? ' ' . $rr->address : '');
	$s .= ' TC' if $p->header->tc;
	return $s;
}

# Send every query of @q (each [src, name, type]) at once over UDP, then
# collect the answers: a list of answer_text()s in the same order.
sub ask_together {
	my ($t, $timeout, @q) = @_;
	my (@res, @h);
	for my $q (@q) {
		my $r = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $t->port,
			srcaddr => $q->[0], recurse => 1, igntc => 1, udp_timeout => $timeout, retry => 1);
		push @res, $r;
		push @h, $r->bgsend($q->[1], $q->[2] // 'A');
	}
	my @out;
	my $deadline = time + $timeout;
	for my $i (0 .. $#h) {
		while ($h[$i] && $res[$i]->bgbusy($h[$i]) && time < $deadline) { sleep 0.005 }
		my $p = $h[$i] && !$res[$i]->bgbusy($h[$i]) ? $res[$i]->bgread($h[$i]) : undef;
		push @out, answer_text($p);
	}
	return @out;
}

# Ask over UDP until the answer is $want (a string or a regexp) or $secs
# pass (30 s at least: a loaded machine is slow, and an answer that comes
# returns at once); returns the last answer. Truncated answers are not
# retried over TCP (so tcp-only shows as "NOERROR TC").
sub wait_answer {
	my ($t, $src, $name, $type, $want, $secs) = @_;
	my $r = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $t->port, srcaddr => $src,
		recurse => 1, igntc => 1, udp_timeout => 1, retry => 1);
	$secs = 30 if !defined $secs || $secs < 30;
	my $deadline = time + $secs;
	my $a;
	while (1) {
		$a = answer_text(scalar $r->send($name, $type // 'A'));
		return $a if ref $want ? $a =~ $want : $a eq $want;
		return $a if time >= $deadline;
		sleep 0.05;
	}
}

# Resident memory of a process now, and its peak (kB), from /proc.
sub _status_kb {
	my ($pid, $key) = @_;
	open(my $f, '<', "/proc/$pid/status") or return undef;
	while (<$f>) { return $1 if /^$key:\s+(\d+)/ }
	return undef;
}
sub rss_kb { _status_kb($_[0], 'VmRSS') }
sub hwm_kb { _status_kb($_[0], 'VmHWM') }

1;
