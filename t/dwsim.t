#!/usr/bin/perl
# dwsim.t — the traffic simulator (tools/dwsim) against a tiny DNS responder.
#
# No Unbound needed: a Net::DNS responder on 127.0.0.1 (free port) answers
# A/MX/PTR for the test world's names, NXDOMAIN for the rest, SERVFAIL for
# dead.test, REFUSED for *.refused.test, FORMERR without a question for
# formerr.test, nothing for drop.test, hostile garbage before its answer for
# garble.* and fuzz*.* names, and the question upper-cased for case.* names.
# It logs "source-address qtype qname" for every query it gets.
#
# dwsim runs from two (and forty) loopback source addresses; the test checks
# the summary counts, the per-query lines of -v, the shape of every
# scenario's queries, the addresses the responder saw, determinism under
# --seed, the rate, timeouts, exit statuses and robustness.
#
# The binary: $DW_BUILDDIR/tools/dwsim, else <dir of this file>/../tools/dwsim.
# Every process the test starts is stopped by PID in END, even on failure;
# the responder also exits by itself when the test process goes away.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(_exit WNOHANG);
use Socket qw(sockaddr_in inet_ntoa SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(time sleep);
use Net::DNS;

my $main_pid = $$;
my %started;    # pid => what, for END

my $builddir = $ENV{DW_BUILDDIR} // File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)), '..');
my $dwsim = "$builddir/tools/dwsim";
my $tmp = tempdir('dwsim-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);

END {
	local $?;    # waitpid() below must not become the test's exit status
	if ($$ == $main_pid) {
		for my $pid (keys %started) {
			kill 'TERM', $pid;
			for (1 .. 50) { last if waitpid($pid, WNOHANG) != 0; sleep 0.05 }
			if (kill 0, $pid) { kill 'KILL', $pid; waitpid($pid, 0) }
			delete $started{$pid};
		}
	}
}
$SIG{INT} = $SIG{TERM} = sub { die "killed by signal\n" };

ok(-x $dwsim, "dwsim binary at $dwsim") or BAIL_OUT("no dwsim binary at $dwsim (set DW_BUILDDIR)");

# --------------------------------------------------------------------------
# the responder

my $log = "$tmp/responder.log";
my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
    or BAIL_OUT("cannot open a UDP socket on 127.0.0.1: $!");
my $port = $sock->sockport;
# a Perl responder is slow: a large buffer keeps a burst of queries from being
# dropped by the kernel on a loaded machine
setsockopt($sock, SOL_SOCKET, SO_RCVBUF, 4 << 20);
my $rpid = fork // BAIL_OUT("fork: $!");
if ($rpid == 0) {
	$SIG{INT} = $SIG{TERM} = 'DEFAULT';
	eval { responder($sock, $log) };
	_exit(0);
}
$started{$rpid} = 'responder';
close $sock;

# Answer one query; the behaviour depends on the name (see the top).
sub responder {
	my ($s, $logfile) = @_;
	my $parent = getppid();
	my $stop = time + 600;
	open my $lf, '>>', $logfile or _exit(1);
	$lf->autoflush(1);
	my $sel = IO::Select->new($s);
	srand(4242);
	while (time < $stop && getppid() == $parent) {
		next unless $sel->can_read(0.5);
		my $peer = $s->recv(my $buf, 65535);
		next unless defined $peer && length $buf;
		my ($pport, $paddr) = sockaddr_in($peer);
		my $q = eval { Net::DNS::Packet->new(\$buf) } or next;
		my ($question) = $q->question or next;
		my ($name, $type) = ($question->qname, $question->qtype);
		print $lf inet_ntoa($paddr), " $type $name\n";
		my $lc = lc $name;
		my $id = $q->header->id;
		my @out;
		if ($lc eq 'drop.test') {
			next;
		} elsif ($lc eq 'formerr.test') {
			push @out, pack('n6', $id, 0x8001, 0, 0, 0, 0);
		} else {
			my $r = answer($q, $lc, $type);
			my $data = $r->data;
			if ($lc =~ /^garble\./) {
				push @out, garbage($q, $id, $data, $buf);
			} elsif ($lc =~ /^fuzz\d+\./) {
				push @out, mutants($data, 40), $data;
			} elsif ($lc =~ /^case\./) {
				# a resolver may answer with the question's case changed
				my $end = 12;
				$end += 1 + ord substr($data, $end, 1) while ord substr($data, $end, 1);
				substr($data, 12, $end - 12) = uc substr($data, 12, $end - 12);
				push @out, $data;
			} else {
				push @out, $data;
			}
		}
		$s->send($_, 0, $peer) for @out;
	}
}

# The reply the test world would give.
sub answer {
	my ($q, $lc, $type) = @_;
	my $r = $q->reply;
	$r->header->rcode('NOERROR');    # Net::DNS starts a reply as FORMERR
	my %a = (
		'www.campus.test' => '192.0.2.80',
		'portal.campus.test' => '192.0.2.81',
		'lib.campus.test' => '192.0.2.82',
		'www.shop.test' => '192.0.2.90',
		'mx.victim.lab' => '192.0.2.11',
	);
	if ($lc eq 'dead.test') {
		$r->header->rcode('SERVFAIL');
	} elsif ($lc =~ /(^|\.)refused\.test$/) {
		$r->header->rcode('REFUSED');
	} elsif ($lc =~ /^garble\./) {
		$r->push(answer => Net::DNS::RR->new("$lc 60 A 192.0.2.99")) if $type eq 'A';
	} elsif ($lc =~ /^fuzz\d+\./) {
		$r->push(answer => Net::DNS::RR->new("$lc 60 A 192.0.2.98"));
	} elsif (exists $a{$lc} || $lc =~ /(^|\.)victim\.lab$/) {
		if ($type eq 'A') {
			$r->push(answer => Net::DNS::RR->new("$lc 60 A " . ($a{$lc} // '192.0.2.10')));
		} elsif ($type eq 'MX' && $lc =~ /victim\.lab$/) {
			$r->push(answer => Net::DNS::RR->new("$lc 60 MX 10 mx.victim.lab"));
		}
	} elsif ($lc =~ /^(\d+)\.2\.0\.192\.in-addr\.arpa$/ && $1 < 256) {
		$r->push(answer => Net::DNS::RR->new("$lc 60 PTR host$1.campus.test")) if $type eq 'PTR';
	} else {
		$r->header->rcode('NXDOMAIN');
	}
	return $r;
}

# Hostile datagrams with the query's ID that dwsim must ignore, then one that
# matches but is malformed after the question (dwsim takes its rcode,
# NOERROR, and finds no A), then a proper answer that comes too late.
sub garbage {
	my ($q, $id, $good, $query) = @_;
	my @g;
	push @g, "\x01\x02\x03";                                     # short
	# each with its own rcode (6..10), so that taking one for the answer shows
	push @g, pack('n6', $id, 0x0106, 1, 0, 0, 0) . substr($good, 12);    # not a response
	push @g, pack('n6', $id, 0x8187, 1, 0, 0, 0) . "\xc0\x0c" . pack('n2', 1, 1);    # self pointer
	push @g, pack('n6', $id, 0x8188, 1, 0, 0, 0) . "\x01a\xc0\x0c" . pack('n2', 1, 1);    # loop
	push @g, pack('n6', $id, 0x8189, 1, 0, 0, 0) . "\xc0\xff" . pack('n2', 1, 1);    # forward pointer
	my $other = Net::DNS::Packet->new('other.test', ($q->question)[0]->qtype);
	$other->header->id($id);
	$other->header->qr(1);
	$other->header->rcode('REFUSED');
	push @g, $other->data;                                       # another question
	push @g, pack('n', $id ^ 0x5555) . substr($good, 2);        # another ID
	# the right question, then an A record whose rdlength runs past the end
	my $end = 12;
	$end += 1 + ord substr($query, $end, 1) while ord substr($query, $end, 1);
	push @g, pack('n6', $id, 0x8180, 1, 1, 0, 0) . substr($query, 12, $end + 5 - 12)
	    . "\xc0\x0c" . pack('n2Nn', 1, 1, 60, 0xffff) . "\xc0\x00\x02\x63";
	push @g, $good;
	return @g;
}

# n random mutations of a datagram (bytes overwritten, cut short, extended).
sub mutants {
	my ($data, $n) = @_;
	my @m;
	for (1 .. $n) {
		my $d = $data;
		for (1 .. 1 + int rand 4) {
			my $pos = 2 + int rand(length($d) - 2);    # keep the ID
			substr($d, $pos, 1) = chr int rand 256;
		}
		$d = substr($d, 0, 2 + int rand(length($d) - 2)) if rand() < 0.3;
		$d .= join '', map { chr int rand 256 } 1 .. int rand 20 if rand() < 0.2;
		push @m, $d;
	}
	return @m;
}

# wait until the responder answers
{
	my $ready = 0;
	my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'udp') or BAIL_OUT("udp: $!");
	for (1 .. 50) {
		my $p = Net::DNS::Packet->new('ready.test', 'A');
		$c->send($p->data);
		if (IO::Select->new($c)->can_read(0.2)) { $c->recv(my $b, 4096); $ready = 1; last }
	}
	close $c;
	ok($ready, "responder answers on 127.0.0.1:$port") or BAIL_OUT('responder did not come up');
}

# --------------------------------------------------------------------------
# running dwsim

# Run dwsim with args; return (exit status, stdout, stderr). Killed after 60 s.
sub dwsim {
	my @args = @_;
	my ($out, $err) = ("$tmp/out", "$tmp/err");
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDOUT, '>', $out or _exit(126);
		open STDERR, '>', $err or _exit(126);
		exec $dwsim, @args or _exit(127);
	}
	$started{$pid} = 'dwsim';
	my $deadline = time + 60;
	my $st;
	while (1) {
		my $w = waitpid($pid, WNOHANG);
		if ($w == $pid) { $st = $?; last }
		if (time > $deadline) {
			kill 'KILL', $pid;
			waitpid($pid, 0);
			$st = -1;
			last;
		}
		sleep 0.02;
	}
	delete $started{$pid};
	my $o = do { local (@ARGV, $/) = $out; <> } // '';
	my $e = do { local (@ARGV, $/) = $err; <> } // '';
	diag("dwsim @args: killed after 60 s") if $st == -1;
	return ($st == -1 ? -1 : $st >> 8, $o, $e);
}

# The summary line as a hash.
sub summary {
	my ($o) = @_;
	my ($line) = grep { /^scenario=/ } split /\n/, $o;
	return {} unless $line;
	return {map { split /=/, $_, 2 } split ' ', $line};
}

# The -v lines as hashes.
sub lines {
	my ($o) = @_;
	my @l;
	for (split /\n/, $o) {
		next unless /^client=(\S+) qtype=(\S+) qname=(\S+) rcode=(\S+) answer=(\S*)$/;
		push @l, {client => $1, qtype => $2, qname => $3, rcode => $4, answer => $5};
	}
	return @l;
}

# What the responder logged since offset; returns (lines, new offset).
sub logged {
	my ($from) = @_;
	sleep 0.1;
	open my $fh, '<', $log or return ([], $from);
	seek $fh, $from, 0;
	my @l = map { chomp; [split / /, $_, 3] } <$fh>;
	my $to = tell $fh;
	return (\@l, $to);
}

sub none_of_asan {
	my ($e, $what) = @_;
	unlike($e, qr/AddressSanitizer|runtime error|LeakSanitizer/, "$what: no sanitizer report");
}

my $srv = "127.0.0.1:$port";
my $logpos = (logged(0))[1];

# --------------------------------------------------------------------------
# usage and errors

{
	my ($st, $o, $e) = dwsim('-h');
	is($st, 0, '-h exits 0');
	for my $s (qw(benign_pc mail_server nat_gateway sobig mydoom mytob_keywords ip_literal_scanner
		      spam_relay ptr_flood ptr_forward_ip names)) {
		like($o, qr/^\s+\Q$s\E\s/m, "-h lists $s");
	}
	($st, $o, $e) = dwsim('-s', $srv, '-n', 1);
	is($st, 2, 'no scenario: exit 2');
	($st, $o, $e) = dwsim('-s', $srv, '-n', 1, 'no_such_scenario');
	is($st, 2, 'unknown scenario: exit 2');
	like($e, qr/no_such_scenario/, '... names it');
	($st, $o, $e) = dwsim('-s', $srv, '-n', 1, '-S', '127.0.30.9-127.0.30.1', 'sobig');
	is($st, 2, 'backwards source range: exit 2');
	($st, $o, $e) = dwsim('-s', '192.0.2.53', '-n', 1, 'sobig');
	is($st, 2, 'server outside loopback refused: exit 2');
	($st, $o, $e) = dwsim('-s', $srv, '-n', 1, '-r', 'fast', 'sobig');
	is($st, 2, 'bad -r: exit 2');
	($st, $o, $e) = dwsim('-s', $srv, 'sobig');
	is($st, 2, 'neither -n nor -d: exit 2');
	# 192.0.2.1 is no local address: bind fails before anything is sent
	($st, $o, $e) = dwsim('-s', $srv, '-n', 1, '-S', '127.0.30.1,192.0.2.1', 'sobig');
	is($st, 1, 'unbindable source: exit 1');
	like($e, qr/192\.0\.2\.1/, '... the message names the address');
}

# --------------------------------------------------------------------------
# every scenario from two sources

my $KW = qr/^(?:mail|smtp|mx|ns|relay|gate)/i;
my %shape = (
	sobig => sub {
		my ($l) = @_;
		my @bad = grep {
			!(($_->{qtype} eq 'MX' && $_->{qname} =~ /^d\d+\.victim\.lab$/)
			  || ($_->{qtype} eq 'A' && $_->{qname} =~ /^[A-M]\.ROOT-SERVERS\.NET$/))
		} @$l;
		is(scalar @bad, 0, 'sobig: all MX for dN.victim.lab except A X.ROOT-SERVERS.NET')
		    or diag explain $bad[0];
		my $mx = grep { $_->{qtype} eq 'MX' } @$l;
		my $a = grep { $_->{qtype} eq 'A' } @$l;
		ok($a > 0 && $mx >= 4 * $a, "sobig: MX-dominated ($mx MX, $a A)");
		ok(!grep({ $_->{qtype} eq 'A' && $_->{rcode} ne 'NXDOMAIN' } @$l), 'sobig: root-server names NXDOMAIN');
		ok(!grep({ $_->{qtype} eq 'MX' && $_->{rcode} ne 'NOERROR' } @$l), 'sobig: victim MX NOERROR');
	},
	mydoom => sub {
		my ($l) = @_;
		my @bad = grep {
			!(($_->{qtype} eq 'MX' && $_->{qname} =~ /^d\d+\.victim\.lab$/)
			  || ($_->{qtype} eq 'A'
			      && $_->{qname} =~ /^(?:mx|mail|smtp|mx1|mxs|mail1|relay|ns|gate)\.d\d+\.victim\.lab$/))
		} @$l;
		is(scalar @bad, 0, 'mydoom: MX dN.victim.lab or A keyword.dN.victim.lab') or diag explain $bad[0];
		my $mx = grep { $_->{qtype} eq 'MX' } @$l;
		my $a = grep { $_->{qtype} eq 'A' } @$l;
		ok($mx > 0 && $a > 3 * $mx, "mydoom: A-dominated ($mx MX, $a A)");
		ok(!grep({ $_->{qtype} eq 'A' && $_->{answer} ne '192.0.2.10' } @$l), 'mydoom: A answers 192.0.2.10 (wildcard)');
	},
	mytob_keywords => sub {
		my ($l) = @_;
		my @bad = grep { !($_->{qtype} eq 'A' && $_->{qname} =~ /^[^.]+\.d\d+\.victim\.lab$/ && $_->{qname} =~ $KW) } @$l;
		is(scalar @bad, 0, 'mytob_keywords: all A, first label from the keyword list') or diag explain $bad[0];
		my %first = map { (split /\./, $_->{qname})[0] => 1 } @$l;
		ok(keys %first >= 5, 'mytob_keywords: several variants (' . join(',', sort keys %first) . ')');
	},
	ip_literal_scanner => sub {
		my ($l) = @_;
		my @bad = grep {
			!($_->{qtype} eq 'A' && $_->{qname} =~ /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
			  && $1 <= 255 && $2 <= 255 && $3 <= 255 && $4 <= 255)
		} @$l;
		is(scalar @bad, 0, 'ip_literal_scanner: all A for an IPv4 literal') or diag explain $bad[0];
		ok((grep { $_->{qname} =~ /^192\.0\.2\./ } @$l) && (grep { $_->{qname} !~ /^192\.0\.2\./ } @$l),
		   'ip_literal_scanner: 192.0.2.N and public-looking literals');
	},
	ptr_flood => sub {
		my ($l) = @_;
		my @bad = grep { !($_->{qtype} eq 'PTR' && $_->{qname} =~ /^(\d+)\.2\.0\.192\.in-addr\.arpa$/ && $1 < 256) } @$l;
		is(scalar @bad, 0, 'ptr_flood: all PTR N.2.0.192.in-addr.arpa') or diag explain $bad[0];
		my %n = map { $_->{qname} => 1 } @$l;
		ok(keys %n >= 50, 'ptr_flood: many different N (' . scalar(keys %n) . ')');
		ok(!grep({ $_->{rcode} ne 'NOERROR' } @$l), 'ptr_flood: answered NOERROR');
	},
	ptr_forward_ip => sub {
		my ($l) = @_;
		my @bad = grep {
			!($_->{qtype} eq 'PTR'
			  && $_->{qname} =~ /^(?:192\.0\.2|198\.51\.100|203\.0\.113)\.(\d+)(?:\.in-addr\.arpa)?$/ && $1 < 256)
		} @$l;
		is(scalar @bad, 0, 'ptr_forward_ip: all PTR for A.B.C.D or A.B.C.D.in-addr.arpa') or diag explain $bad[0];
		ok((grep { $_->{qname} =~ /in-addr\.arpa$/ } @$l) && (grep { $_->{qname} !~ /in-addr\.arpa$/ } @$l),
		   'ptr_forward_ip: both forward-order in-addr.arpa names and bare literals');
	},
	benign_pc => sub {
		my ($l) = @_;
		my @bad = grep {
			!($_->{qtype} =~ /^(?:A|AAAA|HTTPS)$/ && $_->{qname} !~ $KW
			  || $_->{qtype} eq 'PTR' && $_->{qname} =~ /^\d+\.2\.0\.192\.in-addr\.arpa$/)
		} @$l;
		is(scalar @bad, 0, 'benign_pc: A/AAAA/HTTPS without keywords, PTR of 192.0.2.x; no MX')
		    or diag explain $bad[0];
		ok((grep { $_->{qtype} eq 'A' && $_->{qname} eq 'www.campus.test' && $_->{answer} eq '192.0.2.80' } @$l),
		   'benign_pc: www.campus.test A 192.0.2.80');
	},
	nat_gateway => sub {
		my ($l) = @_;
		my @bad = grep {
			!($_->{qtype} =~ /^(?:A|AAAA|HTTPS)$/ && $_->{qname} !~ $KW
			  || $_->{qtype} eq 'PTR' && $_->{qname} =~ /^\d+\.2\.0\.192\.in-addr\.arpa$/)
		} @$l;
		is(scalar @bad, 0, 'nat_gateway: benign mix, no MX, no keywords') or diag explain $bad[0];
		my %n = map { $_->{qname} => 1 } grep { $_->{qtype} ne 'PTR' } @$l;
		ok(keys %n >= 8, 'nat_gateway: many names (' . scalar(keys %n) . ')');
	},
);
for my $relay (qw(mail_server spam_relay)) {
	$shape{$relay} = sub {
		my ($l) = @_;
		my @bad = grep {
			!($_->{qtype} eq 'MX' && $_->{qname} =~ /^d\d+\.victim\.lab$/
			  || $_->{qtype} eq 'A' && $_->{qname} =~ /^(?:mx\.victim\.lab|d\d+\.victim\.lab|host\d+\.campus\.test)$/
			  || $_->{qtype} eq 'PTR' && $_->{qname} =~ /^\d+\.2\.0\.192\.in-addr\.arpa$/)
		} @$l;
		is(scalar @bad, 0, "$relay: MX dN.victim.lab, A of MX host/domain/client, PTR of clients")
		    or diag explain $bad[0];
		my %t;
		$t{$_->{qtype}}++ for @$l;
		ok($t{MX} && $t{A} && $t{PTR}, "$relay: MX, A and PTR all present (" . join(' ', map {"$_=$t{$_}"} sort keys %t) . ')');
		ok((grep { $_->{qname} eq 'mx.victim.lab' && $_->{answer} eq '192.0.2.11' } @$l), "$relay: A mx.victim.lab 192.0.2.11");
		ok($t{PTR} * 5 <= $t{MX}, "$relay: PTR a small share (seed 003: 2922 MX, 139 PTR)") if $relay eq 'spam_relay';
		for my $c ('127.0.30.1', '127.0.30.2') {
			my @mine = grep { $_->{client} eq $c } @$l;
			ok((grep { $_->{qtype} eq 'PTR' } @mine), "$relay: $c sends PTR too");
		}
	};
}

for my $scn (sort keys %shape) {
	my $n = 120;
	my ($st, $o, $e) = dwsim('-s', $srv, '-S', '127.0.30.1-127.0.30.2', '-n', $n, '--seed', 7,
				 '-w', 16, '-t', 5000, '-v', $scn);
	is($st, 0, "$scn: exit 0") or diag $e;
	none_of_asan($e, $scn);
	my $sum = summary($o);
	is($sum->{scenario}, $scn, "$scn: summary names the scenario");
	is($sum->{sent}, $n, "$scn: sent=$n");
	is($sum->{answered}, $n, "$scn: answered=$n");
	is($sum->{timeout}, 0, "$scn: timeout=0");
	is($sum->{noerror} + $sum->{nxdomain} + $sum->{servfail} + $sum->{refused} + $sum->{other},
	   $n, "$scn: rcode counts add up");
	for my $k (qw(elapsed_ms qps)) {
		like($sum->{$k} // '', qr/^\d+$/, "$scn: $k is a number");
	}
	my @l = lines($o);
	is(scalar @l, $n, "$scn: one -v line per query");
	my %per;
	$per{$_->{client}}++ for @l;
	is_deeply(\%per, {'127.0.30.1' => $n / 2, '127.0.30.2' => $n / 2}, "$scn: round robin over 2 sources");
	is(scalar(grep { $_->{rcode} eq 'NOERROR' } @l), $sum->{noerror}, "$scn: NOERROR lines = noerror");
	$shape{$scn}->(\@l);
	# what the server saw: the same queries, from the two addresses
	my $seen;
	($seen, $logpos) = logged($logpos);
	my %src;
	$src{$_->[0]}++ for @$seen;
	is_deeply(\%src, {'127.0.30.1' => $n / 2, '127.0.30.2' => $n / 2}, "$scn: responder saw both sources");
	my %want = map { lc "$_->{client} $_->{qtype} $_->{qname}" => 1 } @l;
	my @miss = grep { !$want{lc "$_->[0] $_->[1] $_->[2]"} } @$seen;
	is(scalar @miss, 0, "$scn: responder saw exactly the queries -v reports") or diag explain $miss[0];
}

# --------------------------------------------------------------------------
# names FILE: exact queries, every rcode, timeouts, garbage, escapes

{
	my $f = "$tmp/names.txt";
	open my $fh, '>', $f or die;
	print $fh <<'EOF';
# qname qtype
www.campus.test A
www.campus.test AAAA
d5.victim.lab MX
nosuch.campus.test
dead.test A
x.refused.test A
formerr.test TXT
drop.test A
garble.campus.test A
www.shop.test TYPE65

case.campus.test A     # answered with the question upper-cased
a\.b.campus.test. A
5.2.0.192.in-addr.arpa PTR
EOF
	close $fh;
	my ($st, $o, $e) = dwsim('-s', $srv, '-S', '127.0.30.3', '-t', 400, '-v', 'names', $f);
	is($st, 0, 'names: exit 0') or diag $e;
	none_of_asan($e, 'names');
	my $sum = summary($o);
	my %want = (scenario => 'names', sent => 13, answered => 12, noerror => 6, nxdomain => 3, servfail => 1,
		    refused => 1, other => 1, timeout => 1);
	is($sum->{$_}, $want{$_}, "names: $_=$want{$_}") for sort keys %want;
	my %by = map { ("$_->{qname} $_->{qtype}" => $_) } lines($o);
	my %expect = (
		'www.campus.test A' => 'NOERROR 192.0.2.80',
		'www.campus.test AAAA' => 'NOERROR ',
		'd5.victim.lab MX' => 'NOERROR ',
		'nosuch.campus.test A' => 'NXDOMAIN ',
		'dead.test A' => 'SERVFAIL ',
		'x.refused.test A' => 'REFUSED ',
		'formerr.test TXT' => 'FORMERR ',
		'drop.test A' => 'TIMEOUT ',
		'garble.campus.test A' => 'NOERROR ',
		'www.shop.test HTTPS' => 'NOERROR ',
		'case.campus.test A' => 'NXDOMAIN ',
		'a\.b.campus.test A' => 'NXDOMAIN ',
		'5.2.0.192.in-addr.arpa PTR' => 'NOERROR ',
	);
	for my $k (sort keys %expect) {
		my $got = $by{$k} ? "$by{$k}{rcode} $by{$k}{answer}" : 'missing';
		is($got, $expect{$k}, "names: $k -> $expect{$k}");
	}
	like($e, qr/ignored (\d+) datagrams/, 'names: garbage counted as ignored');
	my ($ign) = $e =~ /ignored (\d+) datagrams/;
	ok(($ign // 0) >= 7, 'names: all hostile datagrams ignored (' . ($ign // 0) . ')');
	my $seen;
	($seen, $logpos) = logged($logpos);
	ok((grep { $_->[2] eq 'a\.b.campus.test' } @$seen), 'names: escaped dot sent as one label');

	# -n larger than the file: cyclic; -q hides the note
	($st, $o, $e) = dwsim('-s', $srv, '-n', 26, '-t', 300, '-q', 'names', $f);
	$sum = summary($o);
	is($sum->{sent}, 26, 'names: -n 26 cycles the file twice');
	is($sum->{timeout}, 2, 'names: ... two timeouts');
	is($e, '', 'names: -q keeps stderr quiet');
	($seen, $logpos) = logged($logpos);

	open $fh, '>', "$tmp/bad.txt" or die;
	print $fh "ok.test A\nbad..name A\n";
	close $fh;
	($st, $o, $e) = dwsim('-s', $srv, 'names', "$tmp/bad.txt");
	is($st, 2, 'names: bad file: exit 2');
	like($e, qr/bad\.txt:2:/, '... message has file:line');
	open $fh, '>', "$tmp/bad2.txt" or die;
	print $fh "ok.test NOSUCHTYPE\n";
	close $fh;
	($st, $o, $e) = dwsim('-s', $srv, 'names', "$tmp/bad2.txt");
	is($st, 2, 'names: unknown qtype: exit 2');
}

# --------------------------------------------------------------------------
# hostile answers: random mutations of a valid answer before it

{
	my $f = "$tmp/fuzz.txt";
	open my $fh, '>', $f or die;
	print $fh "fuzz$_.test A\n" for 1 .. 50;
	close $fh;
	my ($st, $o, $e) = dwsim('-s', $srv, '-S', '127.0.30.1-127.0.30.2', '-t', 500, 'names', $f);
	is($st, 0, 'fuzz: exit 0') or diag $e;
	none_of_asan($e, 'fuzz');
	my $sum = summary($o);
	is($sum->{sent}, 50, 'fuzz: sent=50');
	is($sum->{answered} + $sum->{timeout}, 50, 'fuzz: answered + timeout = sent');
	ok($sum->{answered} >= 45, "fuzz: (nearly) all answered ($sum->{answered})");
	$logpos = (logged($logpos))[1];
}

# --------------------------------------------------------------------------
# determinism, many sources, rate, duration

{
	my @a = ('-s', $srv, '-S', '127.0.30.1-2', '-n', 60, '-v');
	my (undef, $o1) = dwsim(@a, '--seed', 42, 'spam_relay');
	my (undef, $o2) = dwsim(@a, '--seed', 42, 'spam_relay');
	my (undef, $o3) = dwsim(@a, '--seed', 43, 'spam_relay');
	my $key = sub { join "\n", sort map { "$_->{client} $_->{qtype} $_->{qname}" } lines($_[0]) };
	ok(length $key->($o1), 'seed: queries listed');
	is($key->($o2), $key->($o1), 'seed: same --seed, same queries');
	isnt($key->($o3), $key->($o1), 'seed: another --seed, other queries');
	like($o1, qr/^# dwsim scenario=spam_relay seed=42 /m, '-v header names the seed');

	my ($st, $o, $e) = dwsim('-s', $srv, '-S', '127.0.31.1-127.0.31.40', '-n', 200, 'benign_pc');
	is(summary($o)->{answered}, 200, '40 sources: all answered');
	my $seen;
	($seen, $logpos) = logged($logpos);
	my %src;
	$src{$_->[0]}++ for grep { $_->[0] =~ /^127\.0\.31\./ } @$seen;
	is(scalar keys %src, 40, '40 sources: responder saw 40 addresses');
	ok(!grep({ $_ != 5 } values %src), '40 sources: 5 queries each');

	($st, $o, $e) = dwsim('-s', $srv, '-S', '127.0.30.1-2', '-n', 50, '-r', 100, 'benign_pc');
	my $sum = summary($o);
	is($sum->{answered}, 50, 'rate: 50 answered');
	ok($sum->{elapsed_ms} >= 490 && $sum->{elapsed_ms} <= 2000, "rate: 50 at 100 qps take ~500 ms ($sum->{elapsed_ms})");
	ok($sum->{qps} >= 40 && $sum->{qps} <= 110, "rate: qps about 100 ($sum->{qps})");

	($st, $o, $e) = dwsim('-s', $srv, '-S', '127.0.30.1-2', '-d', '0.5', '-r', 100, 'ptr_flood');
	$sum = summary($o);
	is($sum->{sent}, 50, 'duration: -d 0.5 at 100 qps sends exactly 50');
	ok($sum->{elapsed_ms} >= 490 && $sum->{elapsed_ms} <= 2000, "duration: ... in ~500 ms ($sum->{elapsed_ms})");
	($seen, $logpos) = logged($logpos);
}

# --------------------------------------------------------------------------
# nothing listening: timeouts, exit 0

{
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp') or die;
	my $dead = $s->sockport;
	close $s;    # now (almost certainly) nobody listens there
	my ($st, $o, $e) = dwsim('-s', "127.0.0.1:$dead", '-S', '127.0.30.1-2', '-n', 6, '-t', 200, '-v', 'sobig');
	is($st, 0, 'no server: exit 0');
	my $sum = summary($o);
	is($sum->{timeout}, 6, 'no server: timeout=6');
	is($sum->{answered}, 0, 'no server: answered=0');
	is(scalar(grep { $_->{rcode} eq 'TIMEOUT' } lines($o)), 6, 'no server: six rcode=TIMEOUT lines');
}

done_testing();
