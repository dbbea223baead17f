#!/usr/bin/perl
# fuzz-targets.t — every libFuzzer harness (t/fuzz/fuzz_NAME.c) is a target
# that `make fuzz`, and so CI, runs: NAME is in Makefile.am's FUZZ_TARGETS
# and in t/fuzz/fuzz.mk's default list, and the two lists are the same (a
# harness missing from one list was built but never run).
use strict;
use warnings;
use Test::More;
use File::Basename qw(basename dirname);

my $src = $ENV{DW_SRCDIR} || dirname(__FILE__) . '/..';

# The words of the first "FUZZ_TARGETS =" or "?=" line of a file.
sub targets {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!";
	while (my $l = <$fh>) {
		return [sort split ' ', $1] if $l =~ /^FUZZ_TARGETS\s*\??=\s*(.*)$/;
	}
	return [];
}

my @harness = sort map { basename($_) =~ /^fuzz_(.+)\.c$/ ? $1 : () } glob("$src/t/fuzz/fuzz_*.c");
ok(@harness >= 9, 'the harnesses are there (' . scalar(@harness) . ')');
my $am = targets("$src/Makefile.am");
my $mk = targets("$src/t/fuzz/fuzz.mk");
is_deeply($am, \@harness, "Makefile.am's FUZZ_TARGETS names every harness: @harness");
is_deeply($mk, \@harness, "t/fuzz/fuzz.mk's default names every harness");
done_testing();
