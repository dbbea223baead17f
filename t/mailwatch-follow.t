#!/usr/bin/perl
# dnswarden-mailwatch's input side without a resolver: --once over standard
# input, following a log file across a rotation (like tail -F), D_q unknown
# when no dnswarden answers (never flagged), and its usage errors.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path remove_tree);
use JSON::PP;
use POSIX qw(strftime WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

my $BUILDDIR = $ENV{DW_BUILDDIR} || "$FindBin::Bin/..";
my $MW = "$BUILDDIR/tools/dnswarden-mailwatch";
my $dir = "$BUILDDIR/t/tmp/mailwatch-follow-$$";
remove_tree($dir);
make_path($dir);
# A passing run leaves nothing behind; a failing one keeps its files (as
# DWTest does for the tests with a resolver).
END {
	my $status = $?;
	if ($status == 0 && Test::More->builder->is_passing) {
		remove_tree($dir);
	} else {
		print STDERR "# test files kept in $dir\n";
	}
	$? = $status;
}
my $yaml = "$dir/dnswarden.yaml";
open(my $y, '>', $yaml) or die;
print $y "mail_servers: [ 127.13.0.25 ]\nmail_watch: { resolution: 10s, keep: 1h }\n"
	. "control:\n  socket: $dir/none.ctl\n  group: \"\"\n";
close $y;

sub stamp { strftime('%Y-%m-%dT%H:%M:%S+00:00', gmtime($_[0])) }
sub lines {
	my ($t, $client, $n) = @_;
	my $s = '';
	for my $i (1 .. $n) {
		$s .= stamp($t) . " mx postfix/smtpd[$i]: connect from unknown[$client]\n";
		$s .= stamp($t) . " mx postfix/qmgr[9]: Q$i: from=<a\@campus.test>, size=1, nrcpt=1 (queue active)\n";
	}
	return $s;
}

# --once over standard input: two past intervals, D_q unknown
my $t0 = int(time / 10) * 10 - 100;
open(my $in, '>', "$dir/in.log") or die;
print $in lines($t0 + 1, '127.13.1.1', 3), lines($t0 + 11, '127.13.1.2', 5), "garbage line\n";
close $in;
my @o = map { decode_json($_) } split /\n/, `"$MW" -c "$yaml" --once --json - < "$dir/in.log" 2>"$dir/err"`;
is($? >> 8, 0, '--once on standard input exits 0');
is($o[0]{start}, $t0, 'first interval starts at the first line') if @o;
is(join(',', map { $_->{nc} } @o[0 .. 1]), '3,5', 'N_c per interval');
is(join(',', map { $_->{nf} } @o[0 .. 1]), '3,5', 'N_f per interval');
ok(!grep({ defined $_->{dq} || $_->{flagged} } @o), 'no dnswarden: D_q null, nothing flagged');
like(do { local (@ARGV, $/) = ("$dir/err"); <> }, qr/cannot ask dnswarden at \Q$dir\E\/none\.ctl/, 'and it says why');

# follow a file across a rotation: lines before and after, one interval
my $log = "$dir/mail.log";
open(my $l, '>', $log) or die;
close $l;
my $pid = open(my $out, '-|') // die;
if (!$pid) { open(STDERR, '>', "$dir/follow.err"); exec($MW, '-c', $yaml, '--json', $log) or POSIX::_exit(127) }
my $start = (int(time / 10) + 1) * 10;
sleep($start - time + 0.5);
open($l, '>>', $log) or die;
print $l lines(time, '127.13.1.1', 4);
close $l;
sleep 1.5;
rename($log, "$log.1") or die;
open($l, '>', $log) or die;    # the new file after rotation
print $l lines(time, '127.13.1.2', 6);
close $l;
sleep($start + 10 + 3.5 - time);    # the interval ends, then its 2 s of grace
kill 'TERM', $pid;
my @f = map { decode_json($_) } <$out>;
close $out;
my ($iv) = grep { $_->{start} == $start } @f;
ok($iv, 'the interval was judged while following');
is($iv && $iv->{nc}, 10, 'lines from before and after the rotation counted (4 + 6)');
is($iv && $iv->{top_client}, '127.13.1.2', 'top client');

# usage errors
system("\"$MW\" -c \"$yaml\" --interval 15s - </dev/null 2>/dev/null");
is($? >> 8, 2, '--interval not a multiple of the resolution: usage error');
system("\"$MW\" -c \"$yaml\" --server nothost - </dev/null 2>/dev/null");
is($? >> 8, 2, '--server not an address: usage error');
system("\"$MW\" -c \"$yaml\" --report $dir/missing - </dev/null 2>/dev/null");
is($? >> 8, 2, '--report not a directory: usage error');
system("\"$MW\" -c \"$yaml\" $dir/nonexistent.log 2>/dev/null");
is($? >> 8, 1, 'a log that cannot be opened: exit 1');
done_testing;
