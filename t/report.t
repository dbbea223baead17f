#!/usr/bin/perl
# dnswarden-report against the real thing: two resolvers (two Unbound with
# the module, each with its own incident database) see worm, spam-relay and
# IP-literal traffic from the simulator; one report merges both databases;
# headless Chromium renders the HTML (a screenshot is kept in the test's
# directory, the DOM must show the clients and the plots); the report is
# mailed through a private Postfix to a local Maildir, and --new mails only
# what was not reported before.
use strict;
use File::Temp qw(tempdir);
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use MIME::Base64 qw(decode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $REPORT = "$DWTest::SRCDIR/tools/dnswarden-report";
chomp(my $geo = `"$DWTest::SRCDIR/t/lib/geoip-testdata"`);
BAIL_OUT("cannot obtain MaxMind's test databases") if $? || !-d $geo;

my $yaml = <<"EOF";
mode: enforce
enforcement: rpz
geoip:
  country_db: $geo/GeoIP2-Country-Test.mmdb
  asn_db: $geo/GeoLite2-ASN-Test.mmdb
detectors:
  mx_worm:         { threshold: 10, window: 10m, action: nxdomain, duration: 1h }
  spam_relay:      { threshold: 20, window: 10m, action: nxdomain, duration: 1h }
  ip_literal:      { threshold: 4, window: 1h, action: log }
  signature_names: { enabled: false }
EOF

# run a program, return (exit status, stdout+stderr)
sub run {
	my ($cmd) = @_;
	my $out = `$cmd 2>&1`;
	return ($? >> 8, $out);
}

sub wait_file {
	my ($glob, $n, $secs) = @_;
	my $deadline = time + ($secs // 15);
	my @f;
	while (time < $deadline) {
		@f = glob $glob;
		return @f if @f >= $n;
		sleep 0.2;
	}
	return @f;
}

# ---- two resolvers, two databases ------------------------------------------
# (one test world at a time: B starts after A stopped)
my $a = DWTest->new(name => 'report-a', yaml => $yaml);
my $dba = $a->dir . '/incidents.db';
$a->start;
like($a->dwsim('-S', '127.14.4.1', '-n', 20, '--seed', 5, 'sobig'), qr/answered=20 /, 'resolver A: a worm (127.14.4.1)');
my $lits = $a->dir . '/literals.txt';
$a->write_file($lits, "89.160.20.112 A\n1.128.0.1 A\n2.125.160.216 A\n81.2.69.160 A\n");
like($a->dwsim('-S', '127.14.4.4', '-n', 4, 'names', $lits), qr/answered=4 /, 'resolver A: an IP-literal scanner (127.14.4.4)');
my ($st, $o, $e) = $a->ctl('block', '127.14.4.1', '2h');    # the worm again: a repeat offence
is($st, 0, 'resolver A: the worm blocked again by hand') or diag $e;
$a->wait_log(qr/event=verdict client=127\.14\.4\.4 detector=ip_literal/);
$a->stop;    # shutdown writes what is queued
my $b = DWTest->new(name => 'report-b', yaml => $yaml);
my $dbb = $b->dir . '/incidents.db';
$b->start;
# The relay first bursts MX queries alone (mx_worm), then relays (MX + A + PTR:
# spam_relay). One query in flight at a time: the order in which the answers
# are counted, and so which detector crosses first, does not depend on load.
like($b->dwsim('-S', '127.14.5.5', '-w', 1, '-n', 12, '--seed', 7, 'sobig'), qr/answered=12 /, 'resolver B: the relay\'s MX burst (127.14.5.5)');
like($b->dwsim('-S', '127.14.5.5', '-w', 1, '-n', 80, '--seed', 7, 'spam_relay'), qr/answered=80 /, 'resolver B: a spam relay (127.14.5.5)');
like($b->dwsim('-S', '127.14.4.1', '-n', 20, '--seed', 9, 'sobig'), qr/answered=20 /, 'resolver B: the same worm');
$b->wait_log(qr/event=block client=127\.14\.4\.1\//);
$b->stop;
for ([A => $dba], [B => $dbb]) {
	my $n = `sqlite3 "$_->[1]" "SELECT count(*) FROM incidents WHERE event = 'verdict'"`;
	chomp $n;
	ok($n >= 1, "resolver $_->[0]: verdict rows in its database ($n)");
}

# ---- the merged report: text ---------------------------------------------------
($st, $o) = run("\"$REPORT\" --since 1h --text \"$dba\" \"$dbb\"");
is($st, 0, 'dnswarden-report --text with two databases') or diag $o;
like($o, qr/^resolvers: \S+ \(\d+ incidents\), \S+ \(\d+ incidents\)$/m, 'text: both resolvers');
like($o, qr/^\s+repeat\s+127\.14\.4\.1\s+2\s+3\s/m, 'text: the worm, seen by both, blocked three times: a repeat offender');
# the relay's MX burst crossed mx_worm first: two blocks, so a repeat offender
like($o, qr/^\s+repeat\s+127\.14\.5\.5\s+2\s+2\s.*mx_worm,spam_relay/m, 'text: the spam relay, blocked by two detectors');
like($o, qr/^\s+new\s+127\.14\.4\.4\s+1\s+0\s.*ip_literal/m, 'text: the IP-literal scanner');
like($o, qr/^\s+asked for: .*victim\.lab\./m, 'text: what they asked for');
like($o, qr/^\s+mx_worm\s+3\n\s+spam_relay\s+1$/m, 'text: incidents per detector');
like($o, qr/^10 incidents, 3 flagged or blocked clients \(1 new, 2 repeat offenders\), 5 blocks$/m, 'text: the summary');
like($o, qr/^\s+SE\s+1$/m, 'text: the literals per country (89.160.20.112 is SE)');
like($o, qr/^\s+AS1221\s+1$/m, 'text: and per ASN (1.128.0.1 is AS1221)');
($st, $o) = run("\"$REPORT\" --since 1h --text /nonexistent.db");
is($st, 1, 'a missing database is an error');
($st, $o) = run("\"$REPORT\" --since soon \"$dba\"");
is($st, 2, 'a bad --since is a usage error');

# ---- HTML in headless Chromium ---------------------------------------------------
my $html = $a->dir . '/report.html';
my $png  = $a->dir . '/report.png';
($st, $o) = run("\"$REPORT\" --since 1h --html \"$html\" \"$dba\" \"$dbb\"");
is($st, 0, 'dnswarden-report --html') or diag $o;
my $chrome = "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir=\"" . $a->dir . "/chromium\"";
my $dom = `timeout 90 $chrome --dump-dom "file://$html" 2>/dev/null`;
like($dom, qr/<svg id="plot-detectors"/, 'Chromium DOM: the incidents-per-detector plot');
ok(scalar(() = $dom =~ /<rect class="bar" data-series="(?:mx_worm|spam_relay|ip_literal)"/g) >= 3,
	'with bars of each detector');
like($dom, qr/<svg id="plot-blocked".*<rect class="bar" data-series="blocked clients" data-value="2"/s,
	'the blocked-clients plot: two clients blocked');
like($dom, qr/<svg id="plot-top"/, 'the top-clients plot');
my ($off) = $dom =~ /(<svg id="plot-offenders".*?<\/svg>)/s;
like($off // '', qr/data-value="1".*>new<.*data-value="2".*>repeat</s, 'new (1) and repeat (2) offenders plotted');
like($dom, qr/<svg id="plot-literal-geo"/, 'the per-country/ASN plot');
like($dom, qr/<tr class="client"><td>127\.14\.4\.1<\/td><td>repeat<\/td>/, 'the top-clients table: the worm as a repeat offender');
like($dom, qr/<tr class="client"><td>127\.14\.4\.4<\/td><td>new<\/td>/, 'and the IP-literal scanner as a new one');
system("timeout 90 $chrome --window-size=1000,2200 --screenshot=\"$png\" \"file://$html\" >/dev/null 2>&1");
ok(-s $png, "screenshot saved: $png");
open(my $fh, '<:raw', $png) or die "$png: $!";
read($fh, my $head, 24);
close $fh;
my ($w, $h) = unpack('N2', substr($head, 16, 8));
is(substr($head, 1, 3) . " ${w}x$h", 'PNG 1000x2200', 'a 1000x2200 PNG');
my $blank = $a->dir . '/blank.png';
$a->write_file($a->dir . '/blank.html', "<!DOCTYPE html><html><body></body></html>\n");
system("timeout 90 $chrome --window-size=1000,2200 --screenshot=\"$blank\" \"file://" . $a->dir . "/blank.html\" >/dev/null 2>&1");
ok(-s $png > 5 * (-s $blank), sprintf('the report renders (%d bytes of PNG, a blank page %d)', -s $png, -s $blank));
diag("report screenshot: $png");

# ---- mail through a private Postfix ------------------------------------------------
# Postfix's own users (postfix, nobody) must reach its directories, so they
# live in a public temporary directory, not under the clone (which may sit in
# a 0700 home directory).
my $pf = tempdir('dw-report-postfix-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $pf or die "chmod $pf: $!";
my $mbox = "$pf/mail/noc/new";
system('mkdir', '-p', "$pf/etc", "$pf/queue", "$pf/data", "$pf/mail") == 0 or die;
system('cp', '/etc/postfix/master.cf', "$pf/etc/master.cf") == 0 or die;
$a->write_file("$pf/etc/main.cf", <<"EOF");
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
# nothing listens: mail enters through sendmail/postdrop only
master_service_disable = inet
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = dwtest.invalid
mydomain = dwtest.invalid
myorigin = dwtest.invalid
mydestination =
relay_domains =
alias_maps =
alias_database =
virtual_mailbox_domains = campus.invalid
virtual_mailbox_base = $pf/mail
virtual_mailbox_maps = texthash:$pf/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
syslog_name = dnswarden-test-postfix
EOF
$a->write_file("$pf/etc/vmailbox", "noc\@campus.invalid noc/\n");
system('chown', 'postfix', "$pf/data") == 0 or die;
system('chown', '65534:65534', "$pf/mail") == 0 or die;
($st, $o) = run("postfix -c \"$pf/etc\" start");
is($st, 0, 'a private Postfix started') or diag $o, `cat "$pf/maillog"`;
my $master;
for (1 .. 50) {
	if (open(my $p, '<', "$pf/queue/pid/master.pid")) { ($master) = <$p> =~ /(\d+)/; last }
	sleep 0.1;
}
END { stop_postfix() }
sub stop_postfix {
	return unless $master;
	system("postfix -c \"$pf/etc\" stop >/dev/null 2>&1");
	for (1 .. 100) { last unless kill 0, $master; sleep 0.1 }
	kill 'KILL', $master if kill 0, $master;
	undef $master;
}
local $ENV{MAIL_CONFIG} = "$pf/etc";
my $state = $a->dir . '/report-state';
($st, $o) = run("\"$REPORT\" --since 1h --new --state \"$state\" --from dnswarden\@campus.invalid --mail noc\@campus.invalid \"$dba\" \"$dbb\"");
is($st, 0, 'dnswarden-report --new --mail') or diag $o;
my @mails = wait_file("$mbox/*", 1);
my $first = $mails[0] // 'none';
is(scalar @mails, 1, 'one mail delivered to the Maildir') or diag `cat "$pf/maillog"`;
my $mail = do { local $/; open(my $m, '<', $mails[0] // '/dev/null'); <$m> } // '';
like($mail, qr/^Subject: \[dnswarden\] \d+ incidents, 3 clients flagged \(new\)$/m, 'subject: the counts');
like($mail, qr/^Content-Type: text\/plain.*?\n\n.*^\s+repeat\s+127\.14\.4\.1\s/ms, 'text body with the worm');
my ($b64) = $mail =~ /filename="dnswarden-report\.html"\n\n([A-Za-z0-9+\/=\n]+)/;
like(decode_base64($b64 // ''), qr/<svg id="plot-detectors"/, 'the HTML report attached');
ok(-s "$state/" . `sqlite3 "$dba" "SELECT value FROM meta WHERE key = 'uuid'"` =~ s/\n//r . '.last', '--new keeps its state per database');

# nothing new: no mail
($st, $o) = run("\"$REPORT\" --since 1h --new --state \"$state\" --mail noc\@campus.invalid \"$dba\" \"$dbb\"");
is($st, 0, 'nothing new: exit 0');
sleep 2;
is(scalar(() = glob "$mbox/*"), 1, 'nothing new: no mail');

# one new incident on resolver A: only it is mailed
$a->start_world;
$a->start;
($st) = $a->ctl('block', '127.14.4.9', '1h');
$a->stop;
($st, $o) = run("\"$REPORT\" --since 1h --new --state \"$state\" --mail noc\@campus.invalid \"$dba\" \"$dbb\"");
is($st, 0, 'a new incident: mailed');
@mails = wait_file("$mbox/*", 2);
is(scalar @mails, 2, 'a second mail');
my ($new) = grep { !/\Q$first\E/ } glob "$mbox/*";
$new = do { local $/; open(my $m, '<', $new // '/dev/null'); <$m> } // '';
like($new, qr/127\.14\.4\.9/, 'it names the new client');
unlike($new, qr/127\.14\.5\.5/, 'and not what was reported before');

my $mpid = $master;
stop_postfix();
ok($mpid && !kill(0, $mpid), 'Postfix stopped');
is_deeply([$a->leftover_pids, $b->leftover_pids], [], 'no process of this test left running');
done_testing;
