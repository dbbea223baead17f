#!/usr/bin/perl
# The dga detector per CLIENT, through dnswarden-scan with the shipped
# etc/dnswarden.yaml: a DGA bot asking the names of the nDPI extract
# (t/data/dga/dga.txt, a mix of families) at the rate of the real bot of
# issue 16 (687 names in 6 minutes), every answer NXDOMAIN, gets `dga`; a
# client asking the benign extract's names in one hour, every answer NXDOMAIN
# too (the worst case of typos and stale names), gets nothing. With dga
# disabled in the same YAML the bot gets nothing either: the verdict is
# dga's. tools/dev/eval-dga --clients gives the figures on the full lists.
use strict;
use warnings;
use lib 't/lib';
use DWTest;
use Test::More;
use File::Temp qw(tempdir);

my $scan = "$DWTest::BUILDDIR/tools/dnswarden-scan";
ok(-x $scan, "dnswarden-scan at $scan") or BAIL_OUT('no dnswarden-scan');
my $tmp = tempdir('dga-scan-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# The names of an extract file, in file order.
sub names {
	my ($f) = @_;
	open(my $h, '<', "$DWTest::SRCDIR/t/data/dga/$f") or die "$f: $!";
	my @n;
	while (my $l = <$h>) {
		$l =~ s/[\r\n]+\z//;
		$l =~ s/^"|"$//g;
		push @n, $l if length $l;
	}
	close $h;
	return @n;
}
my @dga    = names('dga.txt');
my @benign = names('benign.txt');
cmp_ok(scalar @dga,    '>=', 300, 'DGA extract read');
cmp_ok(scalar @benign, '>=', 300, 'benign extract read');

# A Zeek dns.log: the bot from t0 at 687 names in 360 s, the benign client
# spread evenly over an hour; A queries, rcode 3 (NXDOMAIN).
my $t0 = 1764650000;
my @rec;
push @rec, [$t0 + int($_ * 360 / 687), '10.83.0.66', $dga[$_]] for 0 .. $#dga;
push @rec, [$t0 + int($_ * 3600 / @benign), '10.83.0.7', $benign[$_]] for 0 .. $#benign;
my $log = "$tmp/dns.log";
open(my $fh, '>', $log) or die;
print $fh "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tqtype\trcode\n";
print $fh join("\t", $_->[0], $_->[1], "10.83.0.53", $_->[2], 1, 3), "\n" for sort { $a->[0] <=> $b->[0] } @rec;
close $fh;

# The shipped YAML, and the same with dga disabled.
my $yaml = "$DWTest::SRCDIR/etc/dnswarden.yaml";
open(my $y, '<', $yaml) or die "$yaml: $!";
my $text = do { local $/; <$y> };
close $y;
my $off = $text =~ s/(\n  dga:\n    enabled: )true/${1}false/r;
isnt($off, $text, 'the shipped YAML enables dga (and can be switched off)');
open(my $o, '>', "$tmp/off.yaml") or die;
print $o $off;
close $o;

my $out = `"$scan" -c "$yaml" "$log" 2>&1`;
is($? >> 8, 1, 'shipped defaults: exit 1 (a verdict)') or diag($out);
like($out, qr/^summary: .* records=${\(@dga + @benign)} .* malformed=0 /m, 'every record read');
my @v = $out =~ /^dnswarden: event=\S+ client=10\.83\.0\.66 detector=dga .*$/mg;
is(scalar @v, 1, 'the bot gets one dga verdict') or diag($out);
like($v[0] // '', qr/ count=20 threshold=20 window=600 /, 'at 20 distinct generated domains in 10 minutes');
my ($name) = ($v[0] // '') =~ / name=(\S+)/;
my %pos;
@pos{map { lc } @dga} = (1 .. @dga);
my $n = $pos{lc($name // '') =~ s/\.\z//r};
ok(defined $n, 'the verdict names one of the bot\'s NXDOMAIN names') or diag($v[0]);
cmp_ok($n // 1e9, '<=', 60, "verdict after ${\($n // '?')} queries (20 needed at least)");
like($out, qr/^client=10\.83\.0\.66 queries=${\scalar @dga} .*nxdomain=${\scalar @dga} .*verdicts=dga:1$/m,
	'the bot\'s summary line: its NXDOMAIN answers and the dga verdict');
like($out, qr/^client=10\.83\.0\.7 queries=${\scalar @benign} .*nxdomain=${\scalar @benign} .*verdicts=-$/m,
	'the benign client, all NXDOMAIN: no verdict');
unlike($out, qr/client=10\.83\.0\.7 detector=/, 'no verdict line for the benign client');

$out = `"$scan" -c "$tmp/off.yaml" "$log" 2>&1`;
is($? >> 8, 0, 'dga disabled: exit 0 (no verdict)') or diag($out);
like($out, qr/^summary: .* records=${\(@dga + @benign)} .* malformed=0 /m, 'dga disabled: every record read');
like($out, qr/^client=10\.83\.0\.66 .*verdicts=-$/m, 'dga disabled: the bot gets nothing');
done_testing();
