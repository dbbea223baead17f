#!/usr/bin/perl
# The mail-server watch against a real Postfix (Debian's package) resolving
# through the test Unbound with dnswarden: dnswarden counts the mail
# server's queries (mail_servers:, mail_stats), dnswarden-mailwatch follows
# Postfix's log and flags the intervals whose DNS load outgrows the mail
# exchanged, as in the studies on DNS and SMTP/POP3 accesses of a campus
# mail server (Musashi, Matsuba, Sugitani, 2003).
#
# Runs in private network and mount namespaces (it re-executes itself under
# unshare): 127.13.0.25 is the mail server (its DNS queries leave from that
# address through a local route), Unbound answers it on 127.13.0.53:53 (the
# namespace's /etc/resolv.conf), mail for corp.lab goes to an SMTP sink on
# 192.0.2.40 and victim.lab's MX (192.0.2.11) refuses connections (deferred
# mail) -- all on the namespace's loopback, nothing leaves the machine.
#
# Traffic from swaks, in 10 s intervals: baseline (ordinary mail to local
# users from campus clients, mail to remote domains), normal, then a flood
# from 127.13.9.9 to unknown users plus relay attempts, then the same flood
# after the access map dnswarden-mailwatch wrote is applied.
use strict;
use warnings;

BEGIN {
	# as another user than root, DWTest reports the test skipped (needs root)
	unless ($ENV{DW_MAILWATCH_NETNS} || $> != 0) {
		$ENV{DW_MAILWATCH_NETNS} = 1;
		exec('unshare', '--net', '--mount', '--propagation', 'private', '--', $^X, $0, @ARGV)
			or die "unshare: $!";
	}
}

use FindBin;
use lib "$FindBin::Bin/lib";
use DWTest;
use DWPostfix;
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

my $IV = 10;    # seconds per interval (mail_watch.resolution)
my $MX = '127.13.0.25';
my $DNS = '127.13.0.53';
my $FLOODER = '127.13.9.9';

sub sh { my $c = join(' ', @_); system(@_) == 0 or die "failed: $c" }

# the namespace's loopback: up, the mail server's DNS source, the MX hosts
sh(qw(ip link set lo up));
sh(qw(ip addr add), "$MX/32", qw(dev lo));    # Postfix wants its address on an interface
sh(qw(ip route add local), "$DNS/32", qw(dev lo src), $MX, qw(table local));
sh(qw(ip addr add 192.0.2.40/32 dev lo));    # mail.corp.lab: our SMTP sink
sh(qw(ip addr add 192.0.2.11/32 dev lo));    # mx.victim.lab: refuses

my $t = DWTest->new(
	yaml => <<"EOF",
mode: observe
enforcement: rpz
mail_servers: [ $MX ]
mail_watch: { resolution: ${IV}s, keep: 1h, baseline: 40s, facility: mail }
EOF
	extra_conf => "\tinterface: $DNS\@53\n",
);
$t->start;
my $dir = $t->dir;

# Postfix resolves through the test Unbound: a private resolv.conf
$t->write_file("$dir/resolv.conf", "nameserver $DNS\noptions attempts:2 timeout:2\n");
sh('mount', '--bind', "$dir/resolv.conf", '/etc/resolv.conf');

# an SMTP sink on 192.0.2.40:25 (mail.corp.lab)
my $sink_pid = fork() // die "fork: $!";
if ($sink_pid == 0) {
	my $l = IO::Socket::INET->new(LocalAddr => '192.0.2.40', LocalPort => 25, Listen => 16, ReuseAddr => 1)
		or die "sink: $!";
	$SIG{TERM} = sub { POSIX::_exit(0) };
	while (my $c = $l->accept) {
		print $c "220 mail.corp.lab ESMTP sink\r\n";
		my $data = 0;
		while (my $line = <$c>) {
			if ($data) { if ($line =~ /^\.\r?\n$/) { $data = 0; print $c "250 2.0.0 Ok\r\n" } next }
			if ($line =~ /^(EHLO|HELO)/i) { print $c "250 mail.corp.lab\r\n" }
			elsif ($line =~ /^DATA/i) { $data = 1; print $c "354 go\r\n" }
			elsif ($line =~ /^QUIT/i) { print $c "221 bye\r\n"; last }
			else { print $c "250 Ok\r\n" }
		}
		close $c;
	}
	POSIX::_exit(0);
}

# Postfix's own users (postfix, nobody) must reach its directories, so they
# live in a public temporary directory, not under the clone (which may sit in
# a 0700 home directory), as in t/report.t.
my $pfdir = tempdir('dw-mailwatch-postfix-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $pfdir or die "chmod $pfdir: $!";
my $pf = DWPostfix->new(dir => $pfdir, addr => $MX, mynetworks => '127.13.1.0/24',
	users => [qw(alice bob carol dave)]);
$pf->start;

# swaks from a source address; returns its exit status (bg: do not wait)
my @kids;
sub swaks {
	my ($src, $from, $to, %o) = @_;
	my @cmd = ('swaks', '--server', $MX, '--port', 25, '--local-interface', $src,
		'--from', $from, '--to', $to, '--helo', $o{helo} // 'pc.campus.test',
		'--timeout', 10, '--silent', 3);
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
		exec(@cmd) or POSIX::_exit(127);
	}
	push @kids, $pid;
	if (!$o{bg}) { waitpid($pid, 0); @kids = grep { $_ != $pid } @kids; return $? >> 8 }
	return 0;
}
sub wait_kids { waitpid($_, 0) for @kids; @kids = () }

# the watch, following Postfix's log, with its syslog in a private rsyslogd
my $mwout = "$dir/mailwatch.json";
my $map = "$dir/mailwatch-access";
mkdir "$dir/report";
mkdir "$dir/mwsyslog";
my $mw_pid = fork() // die "fork: $!";
if ($mw_pid == 0) {
	open(STDOUT, '>', $mwout) or die;
	open(STDERR, '>', "$dir/mailwatch.err") or die;
	exec("$DWTest::SRCDIR/t/lib/with-syslog", "$dir/mwsyslog", "$DWTest::BUILDDIR/tools/dnswarden-mailwatch",
		'-c', $t->yaml, '--interval', "${IV}s", '--baseline', '40s', '--json',
		'--access-map', $map, '--report', "$dir/report", $pf->logfile) or POSIX::_exit(127);
}
sub stop_watch {
	return unless $mw_pid;
	kill 'TERM', $mw_pid;
	my $deadline = time + 15;
	sleep 0.1 while waitpid($mw_pid, WNOHANG) == 0 && time < $deadline;
	if (kill 0, $mw_pid) { kill 'KILL', $mw_pid; waitpid($mw_pid, 0) }
	$mw_pid = undef;
	if (open(my $fh, '<', "$dir/mwsyslog/rsyslog.pid")) {
		my $p = <$fh>;
		chomp $p if defined $p;
		if ($p && kill(0, $p)) {
			kill 'TERM', $p;
			for (1 .. 50) { last unless kill(0, $p); sleep 0.1 }
			kill 'KILL', $p if kill(0, $p);
		}
	}
}
END {
	my $st = $?;
	stop_watch();
	if ($sink_pid) { kill 'TERM', $sink_pid; waitpid($sink_pid, 0) }
	kill 'KILL', $_ for @kids;
	$? = $st;
}

# phases, one burst of mail per interval, each started at an interval's start
my %phase;    # interval start -> phase name
sub next_interval {
	my $now = time;
	my $start = (int($now / $IV) + 1) * $IV;
	sleep($start - $now + 0.3);
	return $start;
}
my $n = 0;
sub normal_mail {
	for my $i (1 .. 3) {    # local users, from campus clients
		my $u = (qw(alice bob carol dave))[($n + $i) % 4];
		swaks("127.13.1." . (10 + $i), "staff$i\@campus.test", "$u\@campus.test", bg => 1);
	}
	swaks('127.13.1.20', 'alice@campus.test', "partner$n\@corp.lab", bg => 1);    # delivered remotely
	swaks('127.13.1.22', 'carol@campus.test', "x$n\@d" . ($n % 5) . ".victim.lab", bg => 1);    # deferred: MX refuses
	$n++;
}
# The flood: 30 sessions from one client to unknown users with forged
# senders (through Net::SMTP in one process: a swaks process per session is
# too slow on a loaded 2-core machine), plus relay attempts through swaks.
sub flood {
	my $k = shift;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		require Net::SMTP;
		for my $c (1 .. 30) {
			my $s = Net::SMTP->new($MX, Port => 25, LocalAddr => $FLOODER, Hello => 'spam', Timeout => 10) or next;
			$s->mail("win$k$c\@d$k$c.victim.lab");
			$s->recipient("nobody$k$c$_\@campus.test") for 1 .. 8;
			$s->recipient("r$k$c$_\@d$k$c$_.victim.lab") for 1 .. 2;
			$s->quit;
		}
		POSIX::_exit(0);
	}
	push @kids, $pid;
	swaks($FLOODER, "win$k\@d$k.victim.lab", join(',', map { "r$k$_\@d$k$_.victim.lab" } 1 .. 5),
		helo => 'spam', bg => 1);
}

for (1 .. 4) { $phase{next_interval()} = 'baseline'; normal_mail(); wait_kids() }
for (1 .. 2) { $phase{next_interval()} = 'normal'; normal_mail(); wait_kids() }
for my $i (1 .. 2) { $phase{next_interval()} = 'flood'; flood($i * 100); normal_mail(); wait_kids() }

# the watch judged the flood: wait for its access map, then apply it
my $deadline = time + 3 * $IV;
sleep 0.2 until (-s $map || time > $deadline);
my $maptext = do { local (@ARGV, $/) = ($map); -e $map ? <> : '' } // '';
like($maptext, qr/^\Q$FLOODER\E REJECT /m, 'the access map names the flooding client');
unlike($maptext, qr/^127\.13\.1\./m, 'and none of the ordinary clients');
$t->write_file($map, '') unless -e $map;    # (so that a failure above does not stop the rest)
sh('postmap', '-c', $pf->conf, "hash:$map");
$pf->postconf("smtpd_client_restrictions = check_client_access hash:$map");
$pf->reload;
for my $i (3 .. 4) { $phase{next_interval()} = 'mapped'; flood($i * 100); normal_mail(); wait_kids() }
sleep $IV + 3;    # the last interval is judged
stop_watch();

# --- what the watch said ----------------------------------------------------
my @iv;
open(my $fh, '<', $mwout) or die;
while (<$fh>) { push @iv, decode_json($_) }
close $fh;
my %by = map { $_->{start} => $_ } @iv;
ok(@iv >= 10, 'one JSON object per interval (' . scalar(@iv) . ')');
for my $k (qw(start server nc nf mee dq dq_expected deferred flagged reason top_client top_share)) {
	ok(!grep({ !exists $_->{$k} } @iv), "every object has $k");
}
diag(sprintf("%-10s %-8s %5s %5s %6s %6s %8s %6s %-8s %s", qw(start phase N_c N_f MEE D_q expected ratio flagged top_client/share/reason)));
for my $r (@iv) {
	diag(sprintf("%-10d %-8s %5d %5d %6s %6s %8.1f %6s %-8s %s", $r->{start}, $phase{ $r->{start} } // '-',
		$r->{nc}, $r->{nf}, defined $r->{mee} ? sprintf('%.2f', $r->{mee}) : '-', $r->{dq} // '-',
		$r->{dq_expected}, defined $r->{ratio} ? sprintf('%.2f', $r->{ratio}) : '-',
		$r->{flagged} ? "yes:$r->{why}" : 'no',
		$r->{top_client} ? "$r->{top_client} $r->{top_share} $r->{reason}" : '-'));
}
my @flooded = grep { ($phase{$_} // '') eq 'flood' } sort keys %phase;
my @normal = grep { ($phase{$_} // '') eq 'normal' } sort keys %phase;
my @mapped = grep { ($phase{$_} // '') eq 'mapped' } sort keys %phase;
my @base = grep { ($phase{$_} // '') eq 'baseline' } sort keys %phase;
my $last = $iv[-1] // {};
diag(sprintf("fitted: D_q = %.3f N_c + %.3f N_P, N_f = %.3f N_c, baseline MEE %.3f (the studies: 8.8, 1, 0.95, 0.70)",
	map { $_ // -1 } @$last{qw(model_a model_b model_c baseline_mee)}));

for my $s (@base) {
	my $r = $by{$s} or do { fail("baseline interval $s judged"); next };
	ok($r->{baseline} && !$r->{flagged} && $r->{nc} >= 5 && ($r->{dq} // 0) > 0,
		"baseline interval $s learnt: nc=$r->{nc} nf=$r->{nf} dq=" . ($r->{dq} // 'null'));
}
ok(($last->{model_a} // 0) > 0 && $last->{model_a} != 8.8, "a refitted from the baseline (" . ($last->{model_a} // '') . ")");
ok(($last->{baseline_mee} // 0) > 0.5, "baseline MEE " . ($last->{baseline_mee} // ''));
for my $s (@normal) {
	my $r = $by{$s} or do { fail("normal interval $s judged"); next };
	ok(!$r->{baseline} && !$r->{flagged} && $r->{nc} >= 5, "normal interval $s not flagged (ratio " . ($r->{ratio} // 'null') . ")");
	ok($r->{deferred} >= 1, "normal interval $s has deferred mail ($r->{deferred})");
}
for my $s (@flooded) {
	my $r = $by{$s} or do { fail("flood interval $s judged"); next };
	ok($r->{flagged} && $r->{why} =~ /mee_low/, "flood interval $s flagged ($r->{why}, mee " . ($r->{mee} // 'null') . ", ratio " . ($r->{ratio} // 'null') . ")");
	is($r->{top_client}, $FLOODER, "flood interval $s: top client");
	ok($r->{top_share} > 0.5, "flood interval $s: top share $r->{top_share}");
	is($r->{reason}, 'user_unknown', "flood interval $s: dominant reason");
	ok($r->{rejects}{relay_denied} > 0, "flood interval $s: relay attempts counted ($r->{rejects}{relay_denied})");
}
my ($fl_dq, $map_dq) = (0, 0);
$fl_dq += $by{$_} ? $by{$_}{dq} // 0 : 0 for @flooded;
$map_dq += $by{$_} ? $by{$_}{dq} // 0 : 0 for @mapped;
ok(@mapped == 2 && $map_dq < 0.5 * $fl_dq, "after the access map D_q falls back ($fl_dq -> $map_dq)");
for my $s (@mapped) {
	my $r = $by{$s} or do { fail("mapped interval $s judged"); next };
	ok(!$r->{flagged}, "with the map applied interval $s is not flagged (dq " . ($r->{dq} // 'null') . ", expected $r->{dq_expected})");
	ok($r->{nc} >= 30, "the flooder still connects ($r->{nc})");
}

# syslog: one event=mail_anomaly per flagged interval, facility mail
my @sl;
if (open(my $s, '<', "$dir/mwsyslog/syslog.log")) { @sl = grep { /event=mail_anomaly/ } <$s> }
ok(@sl >= 2, 'event=mail_anomaly written to syslog (' . scalar(@sl) . ')');
like($sl[0] // '', qr/^mail\.warning dnswarden-mailwatch\[\d+\]:\s+dnswarden: event=mail_anomaly server=\Q$MX\E interval=\d+ .*mee=[\d.]+ dq=\d+ dq_expected=[\d.]+ nc=\d+ nf=\d+ deferred=\d+ top_client=\Q$FLOODER\E top_share=[\d.]+ reason=user_unknown/,
	'its fields');

# the report: CSV and the SVG plot
my @csv;
if (open(my $c, '<', "$dir/report/mailwatch.csv")) { @csv = <$c> }
ok(@csv == @iv + 1, 'CSV: a header and one row per interval');
my $svg = do { local (@ARGV, $/) = ("$dir/report/mailwatch.svg"); -e $ARGV[0] ? <> : '' };
like($svg, qr/<svg.*D_q.*MEE/s, "plot written: $dir/report/mailwatch.svg");

# the module's side: mail_stats plain and --json, metrics
my ($st, $out) = $t->ctl('mail_stats', $MX, '10m');
is($st, 0, 'mail_stats');
like($out, qr/^server=\Q$MX\E start=\d+ total=\d+ mx=\d+ a=\d+ ptr=\d+ txt=\d+ other=\d+ nxdomain=\d+ servfail=\d+ complete=yes$/m, 'mail_stats plain records');
($st, $out) = $t->ctl('--json', 'mail_stats');
my $j = eval { decode_json($out) } // {};
my @recs = @{ $j->{intervals} // [] };
my ($mx, $ptr, $tot) = (0, 0, 0);
for (@recs) { $mx += $_->{mx}; $ptr += $_->{ptr}; $tot += $_->{total} }
ok(($j->{resolution} // 0) == $IV && $mx > 0 && $ptr > 0, "mail_stats --json: $tot queries, $mx MX, $ptr PTR");
my $sum = 0;
$sum += ($by{ $_->{start} } ? $_->{total} : 0) for @recs;
my $wsum = 0;
$wsum += $_->{dq} // 0 for @iv;
is($sum, $wsum, 'D_q in the watch equals the module\'s series');
($st, $out) = $t->ctl('mail_stats', '127.13.1.10');
isnt($st, 0, 'mail_stats of an address that is no mail server is refused');
($st, $out) = $t->ctl('metrics');
like($out, qr/^dnswarden_mail_query_rate\{server="\Q$MX\E",class="total"\} [\d.]+$/m, 'metrics export the rate');
is(scalar(grep { /detector=(mx_worm|spam_relay|mx_keyword_scan)/ && /client=\Q$MX\E / } $t->log_grep(qr/event=(verdict|would_block)/)), 0,
	'the mail server never gets an MX verdict');

# --once over the same log judges the same intervals the same way
my @once = map { decode_json($_) } split /\n/,
	`"$DWTest::BUILDDIR/tools/dnswarden-mailwatch" -c '@{[$t->yaml]}' --interval ${IV}s --baseline 40s --once --json '@{[$pf->logfile]}' 2>/dev/null`;
is($? >> 8, 0, '--once exits 0');
my %once = map { $_->{start} => $_ } @once;
ok(!grep({ !$once{$_} || !$once{$_}{flagged} } @flooded) && !grep({ $once{$_} && $once{$_}{flagged} } @normal, @mapped),
	'--once flags the same intervals');

$pf->stop;
$t->stop;
stop_watch();
is(join(' ', $pf->leftover_pids, $t->leftover_pids), '', 'nothing left running');
done_testing;
